/**
 * The in-memory half of the operator benchmark: the operator (`runOperator`, 4 workers, asynchronous events, as the
 * process runs it) on in-memory supervisor and remote clusters until every Machine is converged, a full resync of the
 * converged fleet, and the floor (a bare client doing the same writes). Request figures come from the in-memory
 * clusters' counters; CPU time from the process (the machine is shared: CPU time moves less than wall time). With the
 * KubeVirt stand-in, how long after its VMI runs each Machine shows Running. Not a test.
 */
import { Effect, Fiber, Layer, Logger, Queue, References, Stream } from "effect"
import type { KubeObject } from "../src/domain/KubeObject.ts"
import { FINALIZER } from "../src/domain/labels.ts"
import { Kinds, refOf } from "../src/domain/ObjectRef.ts"
import { defaultSettings } from "../src/domain/Settings.ts"
import { Remotes, Supervisor } from "../src/effects/Clusters.ts"
import type { WatchCaches } from "../src/effects/cache/WatchCaches.ts"
import { EventRecorder, eventObject } from "../src/effects/EventRecorder.ts"
import type { KubeApiService } from "../src/effects/KubeApi.ts"
import { InMemoryCluster } from "../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../src/effects/kube/inMemoryApi.ts"
import { runOperator } from "../src/runtime/Operator.ts"
import { runKubevirtStandIn } from "../src/runtime/standin/KubevirtStandIn.ts"
import { kubevirtInstallation } from "../src/runtime/standin/kubevirtInstallation.ts"
import { kubevirtConfigObject, namespaceObject } from "../test/fixtures/world.ts"
import { type BenchMachine, benchNamespaces, keyOf, machinePatch, remoteNamespace } from "./common.ts"

export interface Counted {
  readonly ms: number
  readonly requests: number
  readonly writes: number
  /** `verb kind` → count, both clusters, sorted by count. */
  readonly byVerb: ReadonlyArray<readonly [string, number]>
}

const CONFIG = "remote-a"

const fresh = (namespaces: ReadonlyArray<string>) => {
  const supervisor = InMemoryCluster.make()
  const remote = InMemoryCluster.make()
  supervisor.seed([
    namespaceObject("default"),
    namespaceObject("vitistack"),
    ...namespaces.map((n) => namespaceObject(n)),
    kubevirtConfigObject(CONFIG)
  ])
  // KubeVirt deployed (its KubeVirt resource), as the health check requires (ADR 0012).
  remote.seed([namespaceObject("default"), ...kubevirtInstallation()])
  return { supervisor, remote }
}

const totals = (clusters: ReadonlyArray<InMemoryCluster>) => {
  const byVerb = new Map<string, number>()
  for (const c of clusters) for (const [k, n] of c.requestCounts()) byVerb.set(k, (byVerb.get(k) ?? 0) + n)
  return {
    requests: clusters.reduce((s, c) => s + c.requestCount(), 0),
    writes: clusters.reduce((s, c) => s + c.writeCount(), 0),
    byVerb: [...byVerb].sort((a, b) => b[1] - a[1])
  }
}

/** Every Machine has its finalizer and a status, and its VM and PVCs exist on the remote. */
export const convergedInMemory = (
  supervisor: InMemoryCluster,
  remote: InMemoryCluster,
  machines: ReadonlyArray<BenchMachine>,
  running = false
) => {
  const onSupervisor = new Map(supervisor.objects({ kind: "Machine" }).map((m) => [keyOf(m), m]))
  const vms = new Set(remote.objects({ kind: "VirtualMachine" }).map(keyOf))
  const pvcs = new Set(remote.objects({ kind: "PersistentVolumeClaim" }).map(keyOf))
  return machines.every((b) => {
    const m = onSupervisor.get(`${b.namespace}/${b.name}`)
    const phase = (m?.status as { phase?: string } | undefined)?.phase
    return (
      m !== undefined &&
      (m.metadata.finalizers ?? []).includes(FINALIZER) &&
      phase !== undefined &&
      (!running || phase === "Running") &&
      vms.has(keyOf(b.vm)) &&
      b.pvcs.every((p) => pvcs.has(keyOf(p)))
    )
  })
}

/** The first time each object of `kind` is seen satisfying `when`, by `namespace/name` (performance.now()). */
const firstSeen = (
  api: KubeApiService,
  kind: { readonly apiVersion: string; readonly kind: string },
  when: (o: KubeObject) => boolean
) => {
  const at = new Map<string, number>()
  const watching = api.watch(kind).pipe(
    Stream.runForEach((e) =>
      Effect.sync(() => {
        const key = keyOf(e.object)
        if (!at.has(key) && e.type !== "DELETED" && when(e.object)) at.set(key, performance.now())
      })
    )
  )
  return { at, watching }
}

const percentile = (xs: ReadonlyArray<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export interface OperatorRun {
  readonly result: Counted
  /** User + system CPU time of the process while the operator converged the fleet. */
  readonly cpuMs: number
  readonly converged: boolean
  /** Reconciles until converged (the resync's not included). */
  readonly reconciles: number
  readonly statuses: ReadonlyMap<string, Record<string, unknown>>
  /** A resync of the converged fleet (every Machine reconciled once more): requests, writes, time. */
  readonly resync: {
    readonly requests: number
    readonly writes: number
    readonly ms: number
    readonly reconciles: number
  }
  readonly eventsDropped: number
  /** With the stand-in: VMI Running → Machine Running, per Machine (ms). */
  readonly runningLag: ReadonlyArray<number>
  readonly cacheObjects: ReadonlyArray<string>
}

/**
 * Runs the operator until converged: state complete and no write for `quietMs`. The time is that of the last write
 * (to the 50 ms poll); requests are counted at the end of the quiet window (reads in it included). Then a full resync,
 * counted on its own. With `standIn`, converged means every Machine Running, and the lag from each VMI's Running to
 * its Machine's is measured.
 */
export const operatorInMemory = (
  machines: ReadonlyArray<BenchMachine>,
  options: { readonly quietMs?: number; readonly timeoutMs?: number; readonly standIn?: boolean } = {}
) =>
  Effect.gen(function* () {
    const quietMs = options.quietMs ?? 1000
    const timeoutMs = options.timeoutMs ?? 600_000
    const { supervisor, remote } = fresh(benchNamespaces("bench"))
    supervisor.seed(machines.map((b) => structuredClone(b.object)))
    let eventsDropped = 0
    const layer = Layer.provideMerge(
      Layer.merge(
        EventRecorder.layerAsync({ onDropped: () => eventsDropped++ }),
        Remotes.layerFromMap({ [CONFIG]: makeInMemoryApi(remote) })
      ),
      Supervisor.layer(makeInMemoryApi(supervisor))
    )
    const resyncNow = yield* Queue.unbounded<void>()
    let reconciles = 0
    let caches: WatchCaches | undefined
    const vmiRunning = firstSeen(
      makeInMemoryApi(remote),
      Kinds.VirtualMachineInstance,
      (o) => (o.status as { phase?: string } | undefined)?.phase === "Running"
    )
    const machineRunning = firstSeen(
      makeInMemoryApi(supervisor),
      Kinds.Machine,
      (o) => (o.status as { phase?: string } | undefined)?.phase === "Running"
    )
    const watchers =
      options.standIn === true
        ? [yield* Effect.forkChild(vmiRunning.watching), yield* Effect.forkChild(machineRunning.watching)]
        : []
    const standIn =
      options.standIn === true ? [yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(remote)))] : []
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const fiber = yield* Effect.forkChild(
      runOperator({
        settings: defaultSettings,
        workers: 4,
        resyncNow,
        onReconciled: () =>
          Effect.sync(() => {
            reconciles++
          }),
        onCaches: (c) => {
          caches = c
        }
      }).pipe(Effect.provide(layer))
    )
    let lastWrites = -1
    let lastWriteAt = started
    let ms = Number.NaN
    for (;;) {
      yield* Effect.sleep("50 millis")
      const now = performance.now()
      const writes = supervisor.writeCount() + remote.writeCount()
      if (writes !== lastWrites) {
        lastWrites = writes
        lastWriteAt = now
      } else if (
        now - lastWriteAt >= quietMs &&
        convergedInMemory(supervisor, remote, machines, options.standIn === true)
      ) {
        ms = lastWriteAt - started
        break
      }
      if (now - started > timeoutMs) break
    }
    const cpu = process.cpuUsage(cpu0)
    const counted = totals([supervisor, remote])

    // A full resync of the converged fleet: every Machine reconciled once more, from the caches.
    const before = totals([supervisor, remote])
    const reconcilesBefore = reconciles
    const resyncStarted = performance.now()
    yield* Queue.offer(resyncNow, undefined)
    while (reconciles - reconcilesBefore < machines.length && performance.now() - resyncStarted < timeoutMs)
      yield* Effect.sleep("20 millis")
    const resyncMs = performance.now() - resyncStarted
    yield* Effect.sleep("500 millis")
    const after = totals([supervisor, remote])

    const statuses = new Map(
      supervisor.objects({ kind: "Machine" }).map((m) => [keyOf(m), m.status as Record<string, unknown>])
    )
    const runningLag = [...machineRunning.at]
      .map(([k, t]) => t - (vmiRunning.at.get(k) ?? Number.NaN))
      .filter((x) => !Number.isNaN(x))
    const cacheObjects = (caches?.names() ?? []).flatMap((cluster) =>
      (caches?.find(cluster)?.sizes() ?? []).map(
        (s) => `${cluster} ${s.kind}${s.namespace ? ` in ${s.namespace}` : ""} ${s.objects}`
      )
    )
    yield* Fiber.interrupt(fiber)
    for (const f of [...standIn, ...watchers]) yield* Fiber.interrupt(f)
    return {
      result: { ms, ...counted } satisfies Counted,
      cpuMs: (cpu.user + cpu.system) / 1000,
      converged: !Number.isNaN(ms),
      reconciles: reconcilesBefore,
      statuses,
      resync: {
        requests: after.requests - before.requests,
        writes: after.writes - before.writes,
        ms: resyncMs,
        reconciles: reconciles - reconcilesBefore
      },
      eventsDropped,
      runningLag,
      cacheObjects
    } satisfies OperatorRun
  }).pipe(
    Effect.provideService(References.MinimumLogLevel, "Error"),
    Effect.provide(Logger.layer([Logger.consolePretty()]))
  )

export { percentile }

/**
 * The minimal work with the KubeApiService directly: the remote namespaces once, then per Machine (4 at a time, like
 * the operator's workers) its PVCs, its VM, one metadata patch (finalizer + placement annotation) and one status write.
 */
export const floorWrites = (
  supervisorApi: KubeApiService,
  remoteApi: KubeApiService,
  namespaces: ReadonlyArray<string>,
  machines: ReadonlyArray<BenchMachine>,
  statusOf: (b: BenchMachine) => unknown,
  config = CONFIG,
  /** Another finalizer than the operator's (a floor run whose Machines the operator must not take). */
  finalizer?: string,
  /**
   * Also the operator's one Event per Machine (the round that created its claims and VM), sent beside the chain as the
   * operator's event writer does, not in it; all of them are written before the floor ends.
   */
  withEvents = false
) =>
  Effect.gen(function* () {
    yield* Effect.forEach(namespaces, (n) => remoteApi.create(refOf("Namespace", n), remoteNamespace(n)), {
      concurrency: 4,
      discard: true
    })
    const events: Array<Fiber.Fiber<unknown, unknown>> = []
    yield* Effect.forEach(
      machines,
      (b) =>
        Effect.gen(function* () {
          for (const p of b.pvcs)
            yield* remoteApi.create(refOf("PersistentVolumeClaim", p.metadata.name, b.namespace), p)
          yield* remoteApi.create(refOf("VirtualMachine", b.name, b.namespace), b.vm)
          const ref = refOf("Machine", b.name, b.namespace)
          if (withEvents) {
            const event = floorEvent(b)
            events.push(
              yield* Effect.forkDetach(supervisorApi.create(refOf("Event", event.metadata.name, b.namespace), event))
            )
          }
          const patched: KubeObject = yield* supervisorApi.patch(ref, machinePatch(config, finalizer))
          yield* supervisorApi.updateStatus(ref, statusOf(b), {
            resourceVersion: patched.metadata.resourceVersion ?? ""
          })
        }),
      { concurrency: 4, discard: true }
    )
    yield* Fiber.joinAll(events)
  })

/** The operator's Event for a new Machine (the recorder's own object; its plan lines, approximately, as message). */
const floorEvent = (b: BenchMachine): KubeObject => {
  const now = new Date().toISOString()
  const lines = [
    ...b.pvcs.map((p) => `create PersistentVolumeClaim ${b.namespace}/${p.metadata.name} on remote-a`),
    `create VirtualMachine ${b.namespace}/${b.name} on remote-a`
  ]
  const target = { name: b.name, namespace: b.namespace }
  return eventObject(`${b.name}.floor`, target, "Normal", "Applied", lines.join("; "), 1, now, now)
}

/** The floor on fresh in-memory clusters. */
export const floorInMemory = (machines: ReadonlyArray<BenchMachine>, statusOf: (b: BenchMachine) => unknown) =>
  Effect.gen(function* () {
    const { supervisor, remote } = fresh(benchNamespaces("bench"))
    supervisor.seed(machines.map((b) => structuredClone(b.object)))
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    yield* floorWrites(
      makeInMemoryApi(supervisor),
      makeInMemoryApi(remote),
      benchNamespaces("bench"),
      machines,
      statusOf
    )
    const ms = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    if (!convergedInMemory(supervisor, remote, machines)) throw new Error("in-memory floor did not converge")
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...totals([supervisor, remote]) }
  })
