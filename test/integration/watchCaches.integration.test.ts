/**
 * Reconciles that read from the watch caches (issue 12, ADR 0017), end to end on the real apiservers:
 * - a remote reached through a TCP proxy the test controls: with the proxy cut (open connections dropped, new ones
 *   refused) the watches break, and after the (short) staleness bound the remote's facts are Unknown: a new Machine
 *   gets nothing and a deleted one keeps its VM, claims and finalizer while the Machines say the remote is
 *   unreachable; once the proxy forwards again, the new Machine gets one VM and its claims and runs, the deleted one's
 *   objects go and it is released;
 * - several Machines created at once on the real remote: every VM and claim is created exactly once (the overlay of
 *   the operator's own writes: a reconcile right after a create sees the object before the watch delivers it), counted
 *   from the operator's /metrics (executed actions, and the remote's create requests answered 409).
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  machineOn,
  machineStatusReads,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"
import { startTcpProxy, type TcpProxy } from "./tcpProxy.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
let supervisor: KubeApiService
let remote: KubeApiService
const { statusOf, conditionOf, isRunning } = machineStatusReads(() => supervisor)

const disks = [
  { name: "root", sizeGB: 1, boot: true },
  { name: "data", sizeGB: 1 }
]
const claimsOf = (machine: string) => [machine, `${machine}-data`]

const remoteNames = async (kind: "VirtualMachine" | "PersistentVolumeClaim", namespace: string) =>
  (
    await run(remote.list({ apiVersion: kind === "VirtualMachine" ? "kubevirt.io/v1" : "v1", kind }, { namespace }))
  ).items
    .map((o) => o.metadata.name)
    .sort()

const released = (name: string, namespace: string) =>
  eventually(
    `${namespace}/${name} released`,
    async () => ((await getObject(supervisor, "Machine", name, namespace)) === undefined ? true : undefined),
    90_000
  )

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
})

describe("watch caches on the real apiservers", () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await startTcpProxy("forward", new URL(ctx.remote.server).host)
  })
  afterAll(async () => {
    await proxy?.close()
  })

  it("a broken remote watch turns the remote's facts Unknown (no create, no delete) until it recovers", async () => {
    const config = `proxied-${id}`
    const ns = `e2e-cut-${id}`
    await installKubevirtConfig(
      supervisor,
      config,
      kubeconfigYaml({ ...ctx.remote, server: proxy.url }, ctx.remote.operatorTokens.primary)
    )
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    const standin = startStandIn(remote)
    // A short staleness bound: the caches answer Unknown 2 s after their watch broke (30 s in production).
    const op = startOperator(ctx.supervisor.operatorKubeconfig, { operator: { cacheStaleAfter: "2 seconds" } })
    try {
      for (const n of ["kept", "gone"]) await upsert(supervisor, machineOn(n, ns, config, { disks }))
      for (const n of ["kept", "gone"]) await eventually(`${n} Running`, () => isRunning(n, ns), 90_000)
      expect(await remoteNames("VirtualMachine", ns)).toEqual(["gone", "kept"])
      expect(await remoteNames("PersistentVolumeClaim", ns)).toEqual([...claimsOf("gone"), ...claimsOf("kept")].sort())
      expect(proxy.open()).toBeGreaterThan(0)

      // The network to the remote breaks: every open connection (the watches among them) drops, new ones are refused.
      const cutAt = Date.now()
      proxy.setMode("refuse", true)
      // A converged Machine learns it (the caches' outage wakes it after the bound): the last phase stays, Ready is
      // Unknown and RemoteReachable False.
      const unreachable = await eventually(
        "kept: RemoteReachable False",
        async () => {
          const c = await conditionOf("kept", ns, "RemoteReachable")
          return c?.status === "False" ? c : undefined
        },
        30_000
      )
      process.stderr.write(
        `[watch caches] kept says unreachable ${Date.now() - cutAt} ms after the cut: ${unreachable.reason}: ${unreachable.message}\n`
      )
      expect((await conditionOf("kept", ns, "Ready"))?.status).toBe("Unknown")
      expect((await statusOf("kept", ns))?.phase).toBe("Running")

      // Meanwhile on the supervisor: a new Machine, and one deleted.
      await upsert(supervisor, machineOn("fresh", ns, config, { disks }))
      await run(supervisor.delete(refOf("Machine", "gone", ns)))
      const fresh = await eventually(
        "fresh: RemoteReachable False",
        async () => {
          const c = await conditionOf("fresh", ns, "RemoteReachable")
          return c?.status === "False" ? c : undefined
        },
        30_000
      )
      expect(fresh.reason).toMatch(/RemoteUnreachable|RemoteUnreadable/)
      const s = await statusOf("fresh", ns)
      expect(s?.phase).toBe("Pending")
      expect(s?.failureReason).toBeUndefined()
      // The outage lasts a while longer (the informers retry and fail): nothing is created or deleted on the remote,
      // and the deleted Machine keeps its finalizer (its VM and claims cannot be known gone).
      const outageEnds = Date.now() + 8000
      while (Date.now() < outageEnds) {
        expect(await remoteNames("VirtualMachine", ns)).toEqual(["gone", "kept"])
        expect(await remoteNames("PersistentVolumeClaim", ns)).toEqual(
          [...claimsOf("gone"), ...claimsOf("kept")].sort()
        )
        const gone = await getObject(supervisor, "Machine", "gone", ns)
        expect(gone?.metadata.deletionTimestamp).toBeDefined()
        expect(gone?.metadata.finalizers).toContain("machine.vitistack.io/finalizer")
        await sleep(500)
      }
      expect(proxy.accepted()).toBeGreaterThan(0)
      expect((await conditionOf("gone", ns, "RemoteReachable"))?.status).not.toBe("True")

      // The network comes back: the informers relist, the new Machine gets one VM and its claims and runs, the
      // deleted one's objects go and it is released.
      const restoredAt = Date.now()
      proxy.setMode("forward")
      await eventually("fresh Running", () => isRunning("fresh", ns), 120_000)
      await released("gone", ns)
      process.stderr.write(`[watch caches] recovered ${Date.now() - restoredAt} ms after the proxy forwarded again\n`)
      await eventually(
        "gone's VM and claims removed",
        async () =>
          (await remoteNames("VirtualMachine", ns)).join() === "fresh,kept" &&
          (await remoteNames("PersistentVolumeClaim", ns)).join() === [...claimsOf("fresh"), ...claimsOf("kept")].join()
            ? true
            : undefined,
        60_000
      )
      await eventually("kept Ready again", async () =>
        (await conditionOf("kept", ns, "Ready"))?.status === "True" ? true : undefined
      )
      expect((await conditionOf("fresh", ns, "RemoteReachable"))?.status).toBe("True")

      for (const n of ["kept", "fresh"]) await run(supervisor.delete(refOf("Machine", n, ns)).pipe(Effect.ignore))
      for (const n of ["kept", "fresh"]) await released(n, ns)
    } finally {
      await op.stop()
      await standin.stop()
      await run(supervisor.delete(refOf("KubevirtConfig", config)).pipe(Effect.ignore))
    }
  })

  it("a reconcile right after a create never creates the object a second time", async () => {
    const config = `direct-${id}`
    const ns = `e2e-once-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    const standin = startStandIn(remote)
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    /** kubevirt_operator_actions_total / api_requests_total samples matching every label given. */
    const sample = async (metric: string, labels: Record<string, string>) =>
      (await op.metrics())
        .split("\n")
        .filter(
          (l) =>
            l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
        )
        .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0)
    const counts = async () => ({
      namespaceCreates: await sample("kubevirt_operator_actions_total", { action: "EnsureNamespace" }),
      vmCreates: await sample("kubevirt_operator_actions_total", { action: "CreateVirtualMachine" }),
      pvcCreates: await sample("kubevirt_operator_actions_total", { action: "CreatePvc" }),
      failedCreates: await sample("kubevirt_operator_actions_total", { outcome: "failure" }),
      createsRefused: await sample("kubevirt_operator_api_requests_total", {
        cluster: config,
        verb: "create",
        code: "409"
      })
    })
    const names = Array.from({ length: 8 }, (_, i) => `once-${i}`)
    try {
      // The remote namespace first, with a Machine of its own: Machines reconciled side by side that all find it
      // absent each create it (AlreadyExists is success there); that is a race between reconciles, not a reconcile
      // missing its own create, and would blur the count of creates refused.
      await upsert(supervisor, machineOn("first", ns, config, { disks }))
      await eventually("first Running", () => isRunning("first", ns), 120_000)
      const before = await counts()
      // All at once: their reconciles overlap (4 workers), each is reconciled again right after its creates (its
      // status write and the remote's watch events wake it).
      await Promise.all(names.map((n) => upsert(supervisor, machineOn(n, ns, config, { disks }))))
      for (const n of names) await eventually(`${n} Running`, () => isRunning(n, ns), 120_000)
      // The reconciles that follow Running (status writes, the VMIs' last events) have their say too.
      await sleep(3000)
      const after = await counts()
      const delta = {
        namespaceCreates: after.namespaceCreates - before.namespaceCreates,
        vmCreates: after.vmCreates - before.vmCreates,
        pvcCreates: after.pvcCreates - before.pvcCreates,
        failedCreates: after.failedCreates - before.failedCreates,
        createsRefused: after.createsRefused - before.createsRefused
      }
      process.stderr.write(`[watch caches] ${names.length} Machines: ${JSON.stringify(delta)}\n`)
      expect(delta).toEqual({
        namespaceCreates: 0,
        vmCreates: names.length,
        pvcCreates: names.length * disks.length,
        failedCreates: 0,
        createsRefused: 0
      })
      // On the remote, read by the admin: one VM per Machine and its claims, nothing else.
      const all = ["first", ...names]
      expect(await remoteNames("VirtualMachine", ns)).toEqual([...all].sort())
      expect(await remoteNames("PersistentVolumeClaim", ns)).toEqual(all.flatMap(claimsOf).sort())

      for (const n of all) await run(supervisor.delete(refOf("Machine", n, ns)).pipe(Effect.ignore))
      for (const n of all) await released(n, ns)
    } finally {
      await op.stop()
      await standin.stop()
      await run(supervisor.delete(refOf("KubevirtConfig", config)).pipe(Effect.ignore))
    }
  })
})
