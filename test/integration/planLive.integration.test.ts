/**
 * Against the real apiservers: the objects the planner builds are accepted by the real Namespace, PVC and
 * VirtualMachine schemas (KubeVirt v1.8.2 CRD, CEL rules included), and `plan --kubeconfig` reads the live clusters
 * through read-only clients, printing the same plan the operator would execute while writing nothing.
 */
import { describe, expect, inject, it } from "vitest"
import { desiredFor } from "../../src/domain/desired.ts"
import { absent, present } from "../../src/domain/Fact.ts"
import { Machine } from "../../src/domain/Machine.ts"
import { MachineClass } from "../../src/domain/MachineClass.ts"
import { namespaceManifest } from "../../src/domain/manifests/Namespace.ts"
import { pvcManifest } from "../../src/domain/manifests/Pvc.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { decodePlanSetJson } from "../../src/domain/Plan.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { runPlan } from "../../src/runtime/cli/plan.ts"
import { installKubevirtConfig, kubeconfigYaml, liveClient, run, upsert } from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)

describe("manifests on the real schemas", () => {
  const cases = [
    { name: "default single disk", spec: {} },
    {
      name: "three disks on three buses",
      spec: {
        disks: [
          { name: "root", sizeGB: 20, boot: true },
          { name: "data", sizeGB: 50, type: "scsi" },
          { sizeGB: 10, type: "sata" }
        ]
      }
    },
    {
      name: "class and overrides",
      spec: { machineClass: "small", cpu: { cores: 4, sockets: 2, threadsPerCore: 2 }, memory: 4294967296 }
    },
    { name: "a name longer than 63 characters", spec: {}, machineName: `${"x".repeat(60)}-worker-pool-1` },
    {
      name: "pod network plus two custom networks (bridge on Multus)",
      spec: { network: { interfaces: [{ name: "lan", subnet: "vlan100" }, { subnet: "storage.net" }] } }
    },
    {
      name: "a primary custom network instead of the pod network",
      spec: { network: { interfaces: [{ name: "lan", subnet: "vlan100", primary: true }, { subnet: "vlan200" }] } }
    }
  ]
  it.each(cases)("$name: Namespace, PVCs and VirtualMachine are accepted", async ({ spec, ...c }) => {
    const remote = await liveClient(ctx.remote.adminKubeconfig)
    const small = MachineClass.make({
      metadata: { name: "small" },
      spec: { enabled: true, memory: { quantity: "8Gi" }, cpu: { cores: 2 } }
    })
    for (const [i, settings] of [
      defaultSettings,
      Settings.make({
        ...defaultSettings,
        pvcVolumeMode: "Filesystem",
        pvcAccessMode: "ReadWriteOnce",
        storageClassName: "fast"
      })
    ].entries()) {
      // One namespace per settings: claims deleted by the previous round stay Terminating for a moment.
      const namespace = `schema-${id}-${cases.findIndex((x) => x.spec === spec)}-${i}`
      const m = Machine.make({
        metadata: { name: c.machineName ?? "vm", namespace },
        spec: { provider: "kubevirt", ...spec }
      })
      const d = desiredFor(m, m.spec.machineClass === undefined ? absent : present(small), settings)
      expect(d._tag).toBe("Ok")
      if (d._tag !== "Ok") return
      await upsert(remote, namespaceManifest(namespace, { "managed-by": "vitistack-kubevirt-operator" }))
      for (const p of d.desired.pvcs)
        await run(remote.create(refOf("PersistentVolumeClaim", p.name, namespace), pvcManifest(p)))
      const vm = await run(
        remote.create(refOf("VirtualMachine", d.desired.vm.name, namespace), vmManifest(d.desired.vm))
      )
      expect(vm.metadata.uid).toBeDefined()
      for (const p of d.desired.pvcs) await run(remote.delete(refOf("PersistentVolumeClaim", p.name, namespace)))
      await run(remote.delete(refOf("VirtualMachine", d.desired.vm.name, namespace)))
    }
  })
})

describe("custom networks on a real remote", () => {
  it("the NetworkAttachmentDefinition is read in the Machine's namespace: absent there, the VM waits", async () => {
    const supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
    const remote = await liveClient(ctx.remote.adminKubeconfig)
    const config = `nets-${id}`
    const ns = `nets-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await upsert(supervisor, {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Machine",
      metadata: { name: "web", namespace: ns, annotations: { "vitistack.io/kubevirt-config": config } },
      spec: { provider: "kubevirt", network: { interfaces: [{ name: "lan", subnet: "vlan100" }] } }
    })
    await upsert(remote, namespaceManifest(ns, {}))
    const nad = (namespace: string) => ({
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name: "vlan100", namespace },
      spec: { config: '{"cniVersion":"1.0.0","name":"br0","plugins":[{"type":"bridge","bridge":"br0"}]}' }
    })
    // The same name in another namespace does not count (spec page: "in the same namespace").
    await upsert(remote, nad("default"))
    const planned = async () => {
      const out: Array<string> = []
      const code = await runPlan(["--kubeconfig", ctx.supervisor.operatorKubeconfig, `${ns}/web`, "-o", "json"], {
        out: (s) => out.push(s),
        err: () => {},
        env: {}
      })
      expect(code).toBe(2)
      return decodePlanSetJson(JSON.parse(out.join("\n"))).plans[0]!
    }
    const waiting = await planned()
    expect(waiting.actions.map((a) => a._tag)).toEqual(["AddFinalizer", "CreatePvc"])
    expect(waiting.diagnostics.map((d) => [d.reason, d.field])).toContainEqual([
      "NetworkAttachmentMissing",
      "spec.network.interfaces[0].subnet"
    ])
    await upsert(remote, nad(ns))
    const ready = await planned()
    expect(ready.actions.map((a) => a._tag)).toEqual(["AddFinalizer", "CreatePvc", "CreateVirtualMachine"])
  })
})

describe("plan --kubeconfig", () => {
  it("plans a live Machine through read-only clients and writes nothing", async () => {
    const supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
    const config = `plan-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: `plan-${id}` } })
    await upsert(supervisor, {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Machine",
      metadata: { name: "web", namespace: `plan-${id}`, annotations: { "vitistack.io/kubevirt-config": config } },
      spec: { provider: "kubevirt", disks: [{ name: "root", sizeGB: 5, boot: true }] }
    })
    const before = await run(supervisor.get(refOf("Machine", "web", `plan-${id}`)))
    const out: Array<string> = []
    const err: Array<string> = []
    const code = await runPlan(["--kubeconfig", ctx.supervisor.operatorKubeconfig, `plan-${id}/web`, "-o", "json"], {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      env: {}
    })
    expect(err).toEqual([])
    expect(code).toBe(2)
    const plans = decodePlanSetJson(JSON.parse(out.join("\n"))).plans
    expect(plans[0]?.actions.map((a) => a._tag)).toEqual([
      "AddFinalizer",
      "EnsureNamespace",
      "CreatePvc",
      "CreateVirtualMachine"
    ])
    // Nothing was written: the Machine is unchanged and the remote namespace does not exist.
    const after = await run(supervisor.get(refOf("Machine", "web", `plan-${id}`)))
    expect(after._tag === "Some" && after.value.metadata.resourceVersion).toBe(
      before._tag === "Some" && before.value.metadata.resourceVersion
    )
    const remote = await liveClient(ctx.remote.adminKubeconfig)
    expect((await run(remote.get(refOf("Namespace", `plan-${id}`))))._tag).toBe("None")
  })

  it("a remote it cannot read (a rejected token) exits 1 naming the facts and the reason, not 0", async () => {
    const supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
    const config = `plan-denied-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, "not-a-valid-token"))
    const ns = `plan-denied-${id}`
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    // Finalizer and placement already there: with the remote unread, the plan has no action to show.
    await upsert(supervisor, {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Machine",
      metadata: {
        name: "web",
        namespace: ns,
        annotations: { "vitistack.io/kubevirt-config": config },
        finalizers: ["machine.vitistack.io/finalizer"]
      },
      spec: { provider: "kubevirt" }
    })
    const out: Array<string> = []
    const err: Array<string> = []
    const code = await runPlan(["--kubeconfig", ctx.supervisor.operatorKubeconfig, `${ns}/web`], {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      env: {}
    })
    expect(code).toBe(1)
    expect(err.join("\n")).toContain(`error: Machine ${ns}/web: cannot read remote.namespace:`)
    expect(err.join("\n")).toContain("Unauthorized")
    expect(out.join("\n")).toContain("NamespaceUnknown")
  })
})
