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
import { readFileSync } from "node:fs"
import { createServer as createHttpsServer, request as httpsRequest, type Server } from "node:https"
import type { AddressInfo } from "node:net"
import { dirname, join } from "node:path"
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

const released = (name: string, namespace: string, timeoutMs = 90_000) =>
  eventually(
    `${namespace}/${name} released`,
    async () => ((await getObject(supervisor, "Machine", name, namespace)) === undefined ? true : undefined),
    timeoutMs
  )

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * An HTTPS proxy in front of the remote that delays every watch event by `lagMillis` (in order) and passes everything
 * else at once: a watch that lags behind the answers to the operator's writes, as under load. TLS ends here with the
 * remote's own serving certificate (for 127.0.0.1, signed by the CA the kubeconfigs trust) and starts again upstream.
 */
const startLaggingWatchProxy = async (target: string, caFile: string, lagMillis: number) => {
  const pki = dirname(caFile)
  const ca = readFileSync(caFile)
  const upstream = new URL(target)
  let watchEvents = 0
  const server: Server = createHttpsServer(
    { cert: readFileSync(join(pki, "apiserver.crt")), key: readFileSync(join(pki, "apiserver.key")) },
    (req, res) => {
      const watch = /[?&]watch=(true|1)(&|$)/.test(req.url ?? "")
      const up = httpsRequest(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          ca
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          if (!watch) {
            answer.pipe(res)
            return
          }
          let written = Promise.resolve()
          answer.on("data", (chunk: Buffer) => {
            const due = Date.now() + lagMillis
            written = written
              .then(() => sleep(Math.max(0, due - Date.now())))
              .then(() => {
                watchEvents++
                res.write(chunk)
              })
          })
          answer.on("end", () => written.then(() => res.end()))
          answer.on("error", () => res.destroy())
        }
      )
      up.on("error", () => res.destroy())
      res.on("close", () => up.destroy())
      req.pipe(up)
    }
  )
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    watchEvents: () => watchEvents,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      })
  }
}

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

      const listsBefore = (await op.metrics())
        .split("\n")
        .filter((l) => l.includes(`cluster="${config}"`) && l.includes('verb="list"') && l.includes('code="200"'))
        .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0)
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
      const relisted = await eventually(
        "the remote's informers list again",
        async () => {
          const lists = (await op.metrics())
            .split("\n")
            .filter((l) => l.includes(`cluster="${config}"`) && l.includes('verb="list"') && l.includes('code="200"'))
            .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0)
          return lists > listsBefore ? Date.now() - restoredAt : undefined
        },
        120_000
      )
      process.stderr.write(`[watch caches] first successful list ${relisted} ms after the proxy forwarded again\n`)
      await eventually("fresh Running", () => isRunning("fresh", ns), 120_000)
      const freshAt = Date.now() - restoredAt
      await released("gone", ns, 180_000).catch(async (e) => {
        process.stderr.write(
          `[watch caches] gone not released: ${JSON.stringify(await getObject(supervisor, "Machine", "gone", ns))}\n`
        )
        throw e
      })
      process.stderr.write(
        `[watch caches] fresh Running ${freshAt} ms, gone released ${Date.now() - restoredAt} ms after the proxy forwarded again\n`
      )
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
    // The recovery waits for the informers' backoff and the cluster's circuit breaker (up to about a minute after an
    // outage of some 20 s); the test's other waits add a minute.
  }, 300_000)

  it("a reconcile right after a create never creates the object a second time", async () => {
    const config = `lagging-${id}`
    const ns = `e2e-once-${id}`
    // The remote's watch events reach the operator 1.5 s late: a reconcile right after a create (woken by its own
    // status write) reads the caches before the watch has delivered the created objects, so only the overlay of the
    // operator's own writes keeps it from creating them again.
    const lagging = await startLaggingWatchProxy(ctx.remote.server, ctx.remote.caFile, 1500)
    await installKubevirtConfig(
      supervisor,
      config,
      kubeconfigYaml({ ...ctx.remote, server: lagging.url }, ctx.remote.operatorTokens.primary)
    )
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    const standin = startStandIn(remote)
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    /** kubevirt_operator_actions_total / api_requests_total samples matching every label given. */
    const sample = async (metric: string, labels: Record<string, string>) =>
      (await op.metrics())
        .split("\n")
        .filter(
          (l) => l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
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
      expect(lagging.watchEvents()).toBeGreaterThan(0)
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
      await lagging.close()
    }
  })
})
