/**
 * Switching from the Go operator, end to end on the real apiservers (ADR 0014): a handful of Machines with objects
 * exactly as the Go operator makes them (`fixtures/goOperator.ts`: labels, PVCs, VMs with an ISO dataVolumeTemplate,
 * the DataVolume KubeVirt makes from it, NetworkConfigurations, the Machine's finalizer, placement and status) and
 * Running stand-in VMs. `plan --kubeconfig --all --adopt-go-operator` previews exactly the adoptions; the operator
 * with adoption on takes them over with zero creates and zero deletes on the remote (counted by verb from /metrics),
 * the Machines end Running with our labels added, and what is not theirs (an old `vm-<machine>` VM, the
 * NetworkConfigurations) is left as it was.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { GO_MANAGED_BY_DEFAULT } from "../../src/domain/adoption.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { decodePlanSetJson, type Plan } from "../../src/domain/Plan.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { runPlan } from "../../src/runtime/cli/plan.ts"
import {
  type GoMachine,
  goIsoDataVolume,
  goMachine,
  goMachineStatus,
  goNamespace,
  goNetworkConfiguration,
  goPvcs,
  goVirtualMachine
} from "../fixtures/goOperator.ts"
import { runKubectl } from "../harness/kubectl.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const ns = `e2e-adopt-${id}`
const config = `adopt-${id}`
let supervisor: KubeApiService
let remote: KubeApiService
let standin: { stop: () => Promise<void> }

const fleet: ReadonlyArray<GoMachine> = [
  { name: "web-1", namespace: ns, mac: "02:12:00:00:01:01" },
  {
    name: "web-2",
    namespace: ns,
    mac: "02:12:00:00:01:02",
    disks: [
      { name: "root", sizeGB: 2, boot: true },
      { name: "data", sizeGB: 1, type: "scsi" }
    ]
  },
  {
    name: "db-1",
    namespace: ns,
    mac: "02:12:00:00:01:03",
    cores: 4,
    memory: "4Gi",
    disks: [
      { sizeGB: 3, boot: true },
      { sizeGB: 1, type: "sata" }
    ]
  },
  { name: "talos-1", namespace: ns, mac: "02:12:00:00:01:04", iso: "https://cd.example/talos-v1.11.5.iso" }
]
// The Go operator before Nov 2025 named VMs vm-<machine> (reference W25): web-1's old VM and its claim are still there.
const legacy: GoMachine = { name: "vm-web-1", namespace: ns, mac: "02:12:00:00:09:01" }
const legacyLabels = { "vitistack.io/managed-by": GO_MANAGED_BY_DEFAULT, "vitistack.io/source-machine": "web-1" }

const kubectl = (args: ReadonlyArray<string>, input?: string) =>
  runKubectl(ctx.kubectl, ctx.supervisor.adminKubeconfig, args, input === undefined ? {} : { input })

const create = (api: KubeApiService, o: KubeObject) =>
  run(api.create(refOf(o.kind as never, o.metadata.name, o.metadata.namespace), o))

/** What the Go operator made of each Machine (the spec of every remote object, the labels), to compare with after. */
const remoteSpecs = async () => {
  const out: Record<string, unknown> = {}
  for (const m of [...fleet, legacy])
    for (const [kind, name] of [
      ["PersistentVolumeClaim", m.name],
      ["PersistentVolumeClaim", `${m.name}-data`],
      ["PersistentVolumeClaim", `${m.name}-disk1`],
      ["DataVolume", `${m.name}-iso`]
    ] as const) {
      const o = await getObject(remote, kind, name, ns)
      if (o !== undefined) out[`${kind}/${name}`] = o.spec
    }
  return out
}

const planAll = async (adopt: boolean) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const code = await runPlan(
    [
      "--kubeconfig",
      ctx.supervisor.operatorKubeconfig,
      "--all",
      "-o",
      "json",
      ...(adopt ? ["--adopt-go-operator"] : [])
    ],
    { out: (s) => out.push(s), err: (s) => err.push(s), env: {} }
  )
  const plans = decodePlanSetJson(JSON.parse(out.join("\n"))).plans.filter((p) => p.machine.namespace === ns)
  // Other test files' leftover Machines share the supervisor: only this namespace's problems count here.
  return { code, plans, problems: err.filter((l) => l.includes(ns)) }
}

const byMachine = (plans: ReadonlyArray<Plan>) =>
  Object.fromEntries(
    plans
      .map((p) => [p.machine.name, p.actions.map((a) => `${a._tag} ${a.target.name}`)] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1))
  )

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
  await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
  standin = startStandIn(remote)
  // The Go operator's world, in the order it made it (F12, F14, then F19: PVCs before the VM; KubeVirt the DataVolume).
  await create(remote, goNamespace(ns))
  for (const m of [...fleet, legacy]) {
    for (const pvc of goPvcs(m, { storageClassName: "local-path" }))
      await create(
        remote,
        m === legacy ? { ...pvc, metadata: { ...pvc.metadata, labels: { ...legacyLabels, "disk-type": "boot" } } } : pvc
      )
    const vm = goVirtualMachine(m)
    const created = await create(
      remote,
      m === legacy
        ? {
            ...vm,
            metadata: { ...vm.metadata, labels: legacyLabels },
            spec: {
              ...(vm.spec as object),
              template: { ...(vm.spec as any).template, metadata: { labels: legacyLabels } }
            }
          }
        : vm
    )
    const iso = goIsoDataVolume(m, created.metadata.uid!)
    if (iso !== undefined) await create(remote, iso)
    if (m === legacy) continue
    const machine = await create(supervisor, goMachine(m, config))
    await run(
      supervisor.updateStatus(refOf("Machine", m.name, ns), goMachineStatus("10.244.9.9"), {
        resourceVersion: machine.metadata.resourceVersion!
      })
    )
    const nc = await kubectl(["apply", "-f", "-"], JSON.stringify(goNetworkConfiguration(m, machine.metadata.uid!)))
    expect(nc.code, nc.stderr).toBe(0)
  }
  // The stand-in runs them (the ISO imported first), as KubeVirt did under the Go operator.
  for (const m of [...fleet, legacy])
    await eventually(
      `${m.name} Running`,
      async () => ((await getObject(remote, "VirtualMachineInstance", m.name, ns)) === undefined ? undefined : true),
      90_000
    )
})
afterAll(async () => {
  await standin?.stop()
})

describe("switching from the Go operator", () => {
  it("the preview lists exactly the adoptions; the operator then takes the fleet over with no create and no delete", async () => {
    const before = await remoteSpecs()
    const ncVersions = async () =>
      (await kubectl(["get", "networkconfigurations", "-n", ns, "-o", "jsonpath={.items[*].metadata.resourceVersion}"]))
        .stdout
    const ncBefore = await ncVersions()
    expect(ncBefore.split(" ")).toHaveLength(fleet.length)

    // Without the setting, the Go operator's objects are someone else's: every Machine is a name clash.
    const off = await planAll(false)
    expect(off.problems).toEqual([])
    expect(off.plans).toHaveLength(fleet.length)
    for (const p of off.plans) {
      expect(p.actions).toEqual([])
      expect(p.diagnostics.map((d) => d.reason)).toContain("NameClash")
    }

    // The migration preview: exactly the adoptions, the drift that follows, the old VM reported.
    const preview = await planAll(true)
    expect(preview.problems).toEqual([])
    expect(byMachine(preview.plans)).toEqual({
      "db-1": ["AdoptVirtualMachine db-1", "AdoptPvc db-1", "AdoptPvc db-1-disk1"],
      "talos-1": ["AdoptVirtualMachine talos-1", "AdoptPvc talos-1", "AdoptDataVolume talos-1-iso"],
      "web-1": ["AdoptVirtualMachine web-1", "AdoptPvc web-1"],
      "web-2": ["AdoptVirtualMachine web-2", "AdoptPvc web-2", "AdoptPvc web-2-data"]
    })
    for (const p of preview.plans) {
      const followUp = p.diagnostics.find((d) => d.reason === "AdoptionFollowUp")
      expect(followUp?.message).toContain("cpu.features")
      expect(followUp?.message).toContain("(takes effect after a restart)")
    }
    const talosFollowUp = preview.plans.find((p) => p.machine.name === "talos-1")!.diagnostics
    expect(talosFollowUp.find((d) => d.reason === "AdoptionFollowUp")?.message).toContain("spec.dataVolumeTemplates")
    const web1 = preview.plans.find((p) => p.machine.name === "web-1")!
    expect(web1.diagnostics.filter((d) => d.reason === "GoOperatorObjectNotAdopted").map((d) => d.message)).toEqual([
      expect.stringContaining(`VirtualMachine ${ns}/vm-web-1 (the Go operator's name before Nov 2025)`),
      expect.stringContaining(`PVC ${ns}/vm-web-1`)
    ])

    // The switch.
    const op = startOperator(ctx.supervisor.operatorKubeconfig, {
      settings: Settings.make({ ...defaultSettings, adoptGoOperator: GO_MANAGED_BY_DEFAULT })
    })
    try {
      const ours = (o: KubeObject | undefined, machine: string) =>
        o?.metadata.labels?.["managed-by"] === "vitistack-kubevirt-operator" &&
        o.metadata.labels["source-machine"] === machine &&
        o.metadata.labels["vitistack.io/managed-by"] === GO_MANAGED_BY_DEFAULT
      for (const m of fleet)
        await eventually(
          `${m.name} adopted, patched and Running`,
          async () => {
            const vm = await getObject(remote, "VirtualMachine", m.name, ns)
            const status = (await getObject(supervisor, "Machine", m.name, ns))?.status as Record<string, any>
            const features = (vm?.spec as any)?.template?.spec?.domain?.cpu?.features
            const ready = (status?.conditions ?? []).find((c: any) => c.type === "Ready")
            return ours(vm, m.name) &&
              features?.[0]?.name === "ht" &&
              status?.phase === "Running" &&
              ready?.status === "True"
              ? true
              : undefined
          },
          90_000
        )
      for (const [kind, name, machine] of [
        ["PersistentVolumeClaim", "web-1", "web-1"],
        ["PersistentVolumeClaim", "web-2", "web-2"],
        ["PersistentVolumeClaim", "web-2-data", "web-2"],
        ["PersistentVolumeClaim", "db-1", "db-1"],
        ["PersistentVolumeClaim", "db-1-disk1", "db-1"],
        ["PersistentVolumeClaim", "talos-1", "talos-1"],
        ["DataVolume", "talos-1-iso", "talos-1"]
      ] as const)
        expect(ours(await getObject(remote, kind, name, ns), machine), `${kind} ${name}`).toBe(true)

      // Converged: a plan of each now has nothing to do (the old VM is still only reported).
      await eventually("converged", async () => {
        const after = await planAll(true)
        return after.plans.every((p) => p.actions.length === 0) ? after : undefined
      })

      // Zero creates and zero deletes on the remote, counted by verb; the adoptions and patches are all there was.
      expect(await op.apiRequests(["create"], config)).toBe(0)
      expect(await op.apiRequests(["delete"], config)).toBe(0)
      const metrics = await op.metrics()
      const sample = (prefix: string) =>
        metrics
          .split("\n")
          .filter((l) => l.startsWith(prefix))
          .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0)
      // Successful patches: 4 VMs, 6 claims and 1 DataVolume adopted, then each VM's drift (the ht feature; the ISO's
      // template) patched once.
      expect(sample(`kubevirt_operator_api_requests_total{cluster="${config}",verb="patch",code="200"}`)).toBe(15)
      for (const [action, n] of [
        ["AdoptVirtualMachine", 4],
        ["AdoptPvc", 6],
        ["AdoptDataVolume", 1]
      ] as const)
        expect(sample(`kubevirt_operator_actions_total{action="${action}",outcome="success"}`), action).toBe(n)

      // Nothing else of theirs changed: claims and the ISO DataVolume as they were, the MACs the VMs got from the
      // Go operator kept, the old VM and its claim untouched, the NetworkConfigurations not written.
      expect(await remoteSpecs()).toEqual(before)
      for (const m of fleet) {
        const vm = await getObject(remote, "VirtualMachine", m.name, ns)
        expect((vm!.spec as any).template.spec.domain.devices.interfaces[0].macAddress).toBe(m.mac)
        expect((vm!.spec as any).template.spec.domain.firmware).toEqual({ bootloader: { efi: { secureBoot: false } } })
      }
      const talos = await getObject(remote, "VirtualMachine", "talos-1", ns)
      expect((talos!.spec as any).dataVolumeTemplates).toBeUndefined()
      expect((talos!.spec as any).template.spec.volumes).toContainEqual({
        name: "cdrom-iso",
        dataVolume: { name: "talos-1-iso" }
      })
      const old = await getObject(remote, "VirtualMachine", "vm-web-1", ns)
      expect(old?.metadata.labels).toEqual(legacyLabels)
      expect((old!.spec as any).template.spec.domain.cpu.features).toBeUndefined()
      expect(await ncVersions()).toBe(ncBefore)
    } finally {
      await op.stop()
    }
  })
})
