/**
 * The operator end to end on two real kube-apiservers (supervisor + remote) with the shared CRDs, RBAC on, the
 * restricted `operator` identity on both (deploy/rbac), and the KubeVirt stand-in playing KubeVirt on the remote.
 */
import { execFileSync } from "node:child_process"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  released,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
// Names carry a per-run suffix, so the file can run again against long-lived clusters (KCLUSTER_ATTACH).
const id = Math.random().toString(36).slice(2, 7)
const ns = (base: string) => `${base}-${id}`
let supervisor: KubeApiService
let remote: KubeApiService
let standin: { stop: () => Promise<void> }

// Several KubevirtConfigs exist on the shared supervisor (one per scenario), so Machines name theirs; automatic
// placement is covered by the planner's tests.
const machine = (
  name: string,
  namespace: string,
  spec: Record<string, unknown> = {},
  annotations: Record<string, string> = { "vitistack.io/kubevirt-config": "remote-a" }
): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace, annotations },
  spec: { provider: "kubevirt", ...spec }
})
const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels }
})
const statusOf = async (name: string, ns: string) =>
  (await getObject(supervisor, "Machine", name, ns))?.status as Record<string, any> | undefined
const running = async (name: string, ns: string) => {
  try {
    return await eventually(`${ns}/${name} Running`, async () => {
      const s = await statusOf(name, ns)
      return s?.phase === "Running" && (s.publicIPAddresses?.length ?? 0) > 0 ? s : undefined
    })
  } catch (e) {
    const vm = await getObject(remote, "VirtualMachine", name, ns)
    throw new Error(
      `${(e as Error).message}; Machine status ${JSON.stringify(await statusOf(name, ns))}; VM status ${JSON.stringify(vm?.status)}`
    )
  }
}
const listNames = async (kind: "VirtualMachine" | "PersistentVolumeClaim", ns: string) =>
  (
    await run(remote.list({ apiVersion: kind === "VirtualMachine" ? "kubevirt.io/v1" : "v1", kind }, { namespace: ns }))
  ).items
    .map((o) => o.metadata.name)
    .sort()
/** Deletes Machines and waits until the operator has released them (the clusters are shared between tests). */
const removeMachines = async (machines: ReadonlyArray<readonly [string, string]>) => {
  for (const [n, where] of machines) await run(supervisor.delete(refOf("Machine", n, where)).pipe(Effect.ignore))
  for (const [n, where] of machines) await released(supervisor, n, where)
}
const WRITES = ["create", "patch", "delete", "updateStatus", "apply"]

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  await installKubevirtConfig(supervisor, "remote-a", kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
  standin = startStandIn(remote)
})
afterAll(async () => {
  await standin?.stop()
})

describe("operator on real apiservers", () => {
  it("seed scenarios: default, new, existing and shared namespaces reach Running; a resync writes nothing; deletion cleans up", async () => {
    for (const name of [ns("e2e-new"), ns("e2e-shared"), ns("e2e-existing")]) await upsert(supervisor, namespace(name))
    await upsert(remote, namespace(ns("e2e-existing"), { owner: "platform" }))
    const op = startOperator(ctx.supervisor.operatorKubeconfig, { resyncSeconds: 4 })
    try {
      await upsert(supervisor, machine(ns("e2e-default-vm"), "default"))
      await upsert(supervisor, machine("app-vm", ns("e2e-new")))
      await upsert(supervisor, machine("reuse-vm", ns("e2e-existing")))
      await upsert(supervisor, machine("web", ns("e2e-shared")))
      await upsert(
        supervisor,
        machine("db", ns("e2e-shared"), {
          disks: [
            { name: "root", sizeGB: 2, boot: true },
            { name: "data", sizeGB: 1 }
          ]
        })
      )
      for (const [n, where] of [
        [ns("e2e-default-vm"), "default"],
        ["app-vm", ns("e2e-new")],
        ["reuse-vm", ns("e2e-existing")],
        ["web", ns("e2e-shared")]
      ] as const)
        await running(n, where)
      const db = await running("db", ns("e2e-shared"))
      expect(db.disks.map((d: any) => [d.pvcName, d.device])).toEqual([
        ["db", "/dev/vda"],
        ["db-data", "/dev/vdb"]
      ])
      expect(db.conditions.find((c: any) => c.type === "Ready").status).toBe("True")

      const created = await getObject(remote, "Namespace", ns("e2e-new"))
      expect(created?.metadata.labels?.["managed-by"]).toBe("vitistack-kubevirt-operator")
      const reused = await getObject(remote, "Namespace", ns("e2e-existing"))
      expect(reused?.metadata.labels?.owner).toBe("platform")
      expect(reused?.metadata.labels?.["managed-by"]).toBeUndefined()
      expect(await listNames("VirtualMachine", ns("e2e-shared"))).toEqual(["db", "web"])

      // Steady state: after the queue drains, two resync periods pass without a single write anywhere.
      // The queue has drained once the write count holds still for 3 s.
      await eventually("writes to settle", async () => {
        const a = await op.apiRequests(WRITES)
        await new Promise((r) => setTimeout(r, 3000))
        return (await op.apiRequests(WRITES)) === a ? true : undefined
      })
      const before = await op.apiRequests(WRITES)
      await new Promise((r) => setTimeout(r, 9000))
      expect(await op.apiRequests(WRITES)).toBe(before)
      expect(await op.apiRequests(["get", "list"])).toBeGreaterThan(0)

      // Deletion: VM, then PVCs; the namespace stays; the finalizer goes; the neighbour is untouched.
      await run(supervisor.delete(refOf("Machine", "db", ns("e2e-shared"))))
      await eventually("db Machine gone", async () =>
        (await getObject(supervisor, "Machine", "db", ns("e2e-shared"))) === undefined ? true : undefined
      )
      expect(await listNames("VirtualMachine", ns("e2e-shared"))).toEqual(["web"])
      expect(await listNames("PersistentVolumeClaim", ns("e2e-shared"))).toEqual(["web"])
      expect(await getObject(remote, "Namespace", ns("e2e-shared"))).toBeDefined()
      await removeMachines([
        [ns("e2e-default-vm"), "default"],
        ["app-vm", ns("e2e-new")],
        ["reuse-vm", ns("e2e-existing")],
        ["web", ns("e2e-shared")]
      ])
    } finally {
      await op.stop()
    }
  })

  it("a remote identity that may not create namespaces: `failed to create namespace on remote cluster: ...`, phase Creating", async () => {
    // A service account on the remote with the VM/PVC rules but namespaces read-only.
    const kubectl = (...args: Array<string>) =>
      execFileSync(ctx.kubectl, ["--kubeconfig", ctx.remote.adminKubeconfig, ...args], { encoding: "utf8" }).trim()
    const bindToServiceAccount = (role: string) =>
      kubectl("create", "clusterrolebinding", role, `--clusterrole=${role}`, `--serviceaccount=default:${ns("no-ns")}`)
    kubectl("create", "serviceaccount", ns("no-ns"), "-n", "default")
    kubectl("create", "clusterrole", ns("e2e-no-namespace-create"), "--verb=get,list,watch", "--resource=namespaces")
    bindToServiceAccount(ns("e2e-no-namespace-create"))
    const token = kubectl("create", "token", ns("no-ns"), "-n", "default", "--duration=1h")
    await installKubevirtConfig(supervisor, ns("remote-no-ns"), kubeconfigYaml(ctx.remote, token))
    await upsert(supervisor, namespace(ns("e2e-denied")))
    // Everything else the operator needs on the remote, but namespaces read-only.
    kubectl(
      "create",
      "clusterrole",
      ns("e2e-vms-only"),
      "--verb=get,list,watch,create,patch,update,delete",
      "--resource=virtualmachines.kubevirt.io,virtualmachineinstances.kubevirt.io,persistentvolumeclaims"
    )
    bindToServiceAccount(ns("e2e-vms-only"))
    // ...and what boot media and cloud-init read and write (deploy/rbac/remote-clusterrole.yaml).
    kubectl(
      "create",
      "clusterrole",
      ns("e2e-boot-media"),
      "--verb=get,list,watch,create,patch,delete",
      "--resource=datavolumes.cdi.kubevirt.io,secrets,storageprofiles.cdi.kubevirt.io,storageclasses.storage.k8s.io"
    )
    bindToServiceAccount(ns("e2e-boot-media"))
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        machine("denied-vm", ns("e2e-denied"), {}, { "vitistack.io/kubevirt-config": ns("remote-no-ns") })
      )
      const s = await eventually("namespace failure on status", async () => {
        const st = await statusOf("denied-vm", ns("e2e-denied"))
        return st?.failureMessage === undefined ? undefined : st
      })
      expect(s.failureMessage).toMatch(/^failed to create namespace on remote cluster: /)
      expect(s.failureMessage).toMatch(/forbidden/i)
      expect(s.phase).toBe("Creating")
      expect(await getObject(remote, "Namespace", ns("e2e-denied"))).toBeUndefined()
      await removeMachines([["denied-vm", ns("e2e-denied")]])
    } finally {
      await op.stop()
    }
  })

  it("custom network: the Machine waits for its NetworkAttachmentDefinition, then runs on it (design 3.3)", async () => {
    await upsert(supervisor, namespace(ns("e2e-net")))
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        machine("net-vm", ns("e2e-net"), { network: { interfaces: [{ name: "lan", subnet: "vlan100" }] } })
      )
      const waiting = await eventually("waiting for the NAD", async () => {
        const s = await statusOf("net-vm", ns("e2e-net"))
        return String(s?.message).includes(`${ns("e2e-net")}/vlan100`) ? s : undefined
      })
      expect(waiting.phase).not.toBe("Running")
      expect(await listNames("VirtualMachine", ns("e2e-net"))).toEqual([])
      // The cluster owner adds the NAD in the Machine's namespace (the operator itself may only read NADs). An end to
      // end check: that the NAD watch, not the backoff, wakes the Machine is shown on virtual time (Operator.test.ts).
      await upsert(remote, {
        apiVersion: "k8s.cni.cncf.io/v1",
        kind: "NetworkAttachmentDefinition",
        metadata: { name: "vlan100", namespace: ns("e2e-net") },
        spec: { config: '{"cniVersion":"1.0.0","name":"br0","plugins":[{"type":"bridge","bridge":"br0"}]}' }
      })
      await running("net-vm", ns("e2e-net"))
      const vm = await getObject(remote, "VirtualMachine", "net-vm", ns("e2e-net"))
      expect((vm?.spec as any)?.template?.spec?.networks).toEqual([
        { name: "default", pod: {} },
        { name: "lan", multus: { networkName: "vlan100" } }
      ])
      await removeMachines([["net-vm", ns("e2e-net")]])
    } finally {
      await op.stop()
    }
  })

  it("credential rotation: a revoked token shows RemoteReachable False; a new token in the Secret heals without restart", async () => {
    await installKubevirtConfig(
      supervisor,
      ns("remote-rot"),
      kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary)
    )
    await upsert(supervisor, namespace(ns("e2e-rot")))
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        machine("rot-vm", ns("e2e-rot"), {}, { "vitistack.io/kubevirt-config": ns("remote-rot") })
      )
      await running("rot-vm", ns("e2e-rot"))
      await installKubevirtConfig(supervisor, ns("remote-rot"), kubeconfigYaml(ctx.remote, "not-a-valid-token"))
      await eventually("RemoteReachable False", async () => {
        const c = (await statusOf("rot-vm", ns("e2e-rot")))?.conditions?.find((x: any) => x.type === "RemoteReachable")
        return c?.status === "False" ? c : undefined
      })
      await installKubevirtConfig(
        supervisor,
        ns("remote-rot"),
        kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.rotated)
      )
      await eventually("RemoteReachable True again", async () => {
        const s = await statusOf("rot-vm", ns("e2e-rot"))
        const c = s?.conditions?.find((x: any) => x.type === "RemoteReachable")
        return c?.status === "True" && s?.phase === "Running" ? c : undefined
      })
      await removeMachines([["rot-vm", ns("e2e-rot")]])
    } finally {
      await op.stop()
    }
  })

  it("an operator stopped mid-reconcile and a second replica through the Lease converge with no duplicates", async () => {
    await upsert(supervisor, namespace(ns("e2e-ha")))
    const first = startOperator(ctx.supervisor.operatorKubeconfig, { leaderElect: true, leaseName: `leader-${id}` })
    const names = ["ha-1", "ha-2", "ha-3", "ha-4", "ha-5"]
    for (const n of names)
      await upsert(
        supervisor,
        machine(n, ns("e2e-ha"), {
          disks: [
            { name: "root", sizeGB: 1, boot: true },
            { name: "data", sizeGB: 1 }
          ]
        })
      )
    // Stop the leader as soon as it has started writing remotely.
    await eventually("first VM", async () =>
      (await listNames("VirtualMachine", ns("e2e-ha"))).length > 0 ? true : undefined
    )
    await first.stop()
    const second = startOperator(ctx.supervisor.operatorKubeconfig, { leaderElect: true, leaseName: `leader-${id}` })
    const standby = startOperator(ctx.supervisor.operatorKubeconfig, { leaderElect: true, leaseName: `leader-${id}` })
    try {
      for (const n of names) await running(n, ns("e2e-ha"))
      expect(await listNames("VirtualMachine", ns("e2e-ha"))).toEqual(names)
      expect(await listNames("PersistentVolumeClaim", ns("e2e-ha"))).toEqual(
        names.flatMap((n) => [n, `${n}-data`]).sort()
      )
      const leaders = async () =>
        [await second.metrics(), await standby.metrics()].map(
          (t) => /^kubevirt_operator_leader (\d)/m.exec(t)?.[1] ?? "0"
        )
      expect((await leaders()).sort()).toEqual(["0", "1"])
      // Both replicas are ready, the standby too (ADR 0004 §6): a rolling update waits for the new pod's readiness.
      for (const replica of [second, standby])
        expect((await fetch(`http://127.0.0.1:${await replica.port}/readyz?verbose`)).status).toBe(200)
      // The leader goes away; the standby takes over (released Lease: within a retry period or two).
      const leaderIsSecond = (await leaders())[0] === "1"
      await (leaderIsSecond ? second : standby).stop()
      const remaining = leaderIsSecond ? standby : second
      await eventually(
        "standby leads",
        async () => (/^kubevirt_operator_leader 1/m.test(await remaining.metrics()) ? true : undefined),
        30_000
      )
      await upsert(supervisor, machine("ha-6", ns("e2e-ha")))
      await running("ha-6", ns("e2e-ha"))
      await removeMachines([...names, "ha-6"].map((n) => [n, ns("e2e-ha")] as const))
      await remaining.stop()
    } finally {
      await second.stop().catch(() => undefined)
      await standby.stop().catch(() => undefined)
    }
  })
})
