/**
 * The in-memory half of the operator benchmark: the operator (`runOperator`, 4 workers) on in-memory supervisor and
 * remote clusters until every Machine is converged, and the floor (a bare client doing the same writes). Request
 * figures come from the in-memory clusters' counters. Not a test.
 */
import { Effect, Fiber, Layer, Logger, References } from "effect"
import type { KubeObject } from "../src/domain/KubeObject.ts"
import { FINALIZER } from "../src/domain/labels.ts"
import { refOf } from "../src/domain/ObjectRef.ts"
import { defaultSettings } from "../src/domain/Settings.ts"
import { Remotes, Supervisor } from "../src/effects/Clusters.ts"
import { EventRecorder } from "../src/effects/EventRecorder.ts"
import type { KubeApiService } from "../src/effects/KubeApi.ts"
import { InMemoryCluster } from "../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../src/effects/kube/inMemoryApi.ts"
import { runOperator } from "../src/runtime/Operator.ts"
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
  machines: ReadonlyArray<BenchMachine>
) => {
  const onSupervisor = new Map(supervisor.objects({ kind: "Machine" }).map((m) => [keyOf(m), m]))
  const vms = new Set(remote.objects({ kind: "VirtualMachine" }).map(keyOf))
  const pvcs = new Set(remote.objects({ kind: "PersistentVolumeClaim" }).map(keyOf))
  return machines.every((b) => {
    const m = onSupervisor.get(`${b.namespace}/${b.name}`)
    return (
      m !== undefined &&
      (m.metadata.finalizers ?? []).includes(FINALIZER) &&
      (m.status as { phase?: string } | undefined)?.phase !== undefined &&
      vms.has(keyOf(b.vm)) &&
      b.pvcs.every((p) => pvcs.has(keyOf(p)))
    )
  })
}

/**
 * Runs the operator until converged: state complete and no write for `quietMs`. The time is that of the last write
 * (to the 50 ms poll); requests are counted at the end of the quiet window (reads in it included).
 */
export const operatorInMemory = (machines: ReadonlyArray<BenchMachine>, quietMs = 1000, timeoutMs = 300_000) =>
  Effect.gen(function* () {
    const { supervisor, remote } = fresh(benchNamespaces("bench"))
    supervisor.seed(machines.map((b) => structuredClone(b.object)))
    const layer = Layer.provideMerge(
      Layer.merge(EventRecorder.layerAsync(), Remotes.layerFromMap({ [CONFIG]: makeInMemoryApi(remote) })),
      Supervisor.layer(makeInMemoryApi(supervisor))
    )
    const started = performance.now()
    const fiber = yield* Effect.forkChild(
      runOperator({ settings: defaultSettings, workers: 4 }).pipe(Effect.provide(layer))
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
      } else if (now - lastWriteAt >= quietMs && convergedInMemory(supervisor, remote, machines)) {
        ms = lastWriteAt - started
        break
      }
      if (now - started > timeoutMs) break
    }
    const counted = totals([supervisor, remote])
    const statuses = new Map(
      supervisor.objects({ kind: "Machine" }).map((m) => [keyOf(m), m.status as Record<string, unknown>])
    )
    yield* Fiber.interrupt(fiber)
    return {
      result: { ms, ...counted } satisfies Counted,
      converged: !Number.isNaN(ms),
      statuses,
      supervisorObjects: supervisor.objects().length
    }
  }).pipe(
    Effect.provideService(References.MinimumLogLevel, "Error"),
    Effect.provide(Logger.layer([Logger.consolePretty()]))
  )

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
  config = CONFIG
) =>
  Effect.gen(function* () {
    yield* Effect.forEach(namespaces, (n) => remoteApi.create(refOf("Namespace", n), remoteNamespace(n)), {
      concurrency: 4,
      discard: true
    })
    yield* Effect.forEach(
      machines,
      (b) =>
        Effect.gen(function* () {
          for (const p of b.pvcs)
            yield* remoteApi.create(refOf("PersistentVolumeClaim", p.metadata.name, b.namespace), p)
          yield* remoteApi.create(refOf("VirtualMachine", b.name, b.namespace), b.vm)
          const ref = refOf("Machine", b.name, b.namespace)
          const patched: KubeObject = yield* supervisorApi.patch(ref, machinePatch(config))
          yield* supervisorApi.updateStatus(ref, statusOf(b), {
            resourceVersion: patched.metadata.resourceVersion ?? ""
          })
        }),
      { concurrency: 4, discard: true }
    )
  })

/** The floor on fresh in-memory clusters. */
export const floorInMemory = (machines: ReadonlyArray<BenchMachine>, statusOf: (b: BenchMachine) => unknown) =>
  Effect.gen(function* () {
    const { supervisor, remote } = fresh(benchNamespaces("bench"))
    supervisor.seed(machines.map((b) => structuredClone(b.object)))
    const started = performance.now()
    yield* floorWrites(
      makeInMemoryApi(supervisor),
      makeInMemoryApi(remote),
      benchNamespaces("bench"),
      machines,
      statusOf
    )
    const ms = performance.now() - started
    if (!convergedInMemory(supervisor, remote, machines)) throw new Error("in-memory floor did not converge")
    return { ms, ...totals([supervisor, remote]) } satisfies Counted
  })
