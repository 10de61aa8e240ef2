/**
 * One hung remote must not stall the others (issue "Hardening", item 2). The slots themselves (`clusterSlots.ts`): a
 * limit per cluster, parked keys handed back oldest first. And the operator loop on in-memory clusters on virtual
 * time, with a second remote that hangs: Machines on the healthy remote reach Running in their normal time, at most
 * half the workers are ever held by the hung cluster, and its Machines show it unreachable, not Failed. Since
 * reconciles read from the watch caches (ADR 0017), a remote that never answers at all (not even its lists) holds no
 * worker: its Machines wait for its caches without a request. What holds workers is a remote whose caches fill and
 * whose answers to the requests a reconcile sends (its writes, a live get) never come; or one answering every request
 * with a timeout after the read deadline, behind the circuit breaker as the live clients are.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { Remotes, Supervisor } from "../../src/effects/Clusters.ts"
import { EventRecorder } from "../../src/effects/EventRecorder.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  describeObject,
  type KubeApiError,
  type KubeVerb,
  kubeApiError,
  Timeout
} from "../../src/effects/KubeApiError.ts"
import { withCircuitBreaker } from "../../src/effects/kube/circuitBreaker.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { defaultClusterLimit, makeClusterSlots } from "../../src/runtime/clusterSlots.ts"
import { runOperator } from "../../src/runtime/Operator.ts"
import { runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import { kubevirtInstallation } from "../../src/runtime/standin/kubevirtInstallation.ts"
import { kubevirtConfigObject, namespaceObject } from "../fixtures/world.ts"

describe("makeClusterSlots", () => {
  it("admits up to the limit per cluster; others are parked and handed back oldest first, one per release", () => {
    const slots = makeClusterSlots(2)
    assert.isTrue(slots.acquire("hung", "a"))
    assert.isTrue(slots.acquire("hung", "b"))
    assert.isFalse(slots.acquire("hung", "c"))
    assert.isFalse(slots.acquire("hung", "d"))
    assert.isFalse(slots.acquire("hung", "c"))
    // Another cluster is not affected.
    assert.isTrue(slots.acquire("ok", "x"))
    assert.deepStrictEqual(slots.parked("hung"), ["c", "d"])
    assert.strictEqual(slots.release("hung"), "c")
    assert.strictEqual(slots.inFlight("hung"), 1)
    // The handed-back key takes the free slot and is no longer parked.
    assert.isTrue(slots.acquire("hung", "c"))
    assert.deepStrictEqual(slots.parked("hung"), ["d"])
    assert.strictEqual(slots.release("hung"), "d")
    assert.strictEqual(slots.release("hung"), undefined)
    assert.strictEqual(slots.inFlight("hung"), 0)
    assert.strictEqual(slots.release("ok"), undefined)
  })

  it("drain hands back every parked key of a cluster that is no longer limited", () => {
    const slots = makeClusterSlots(1)
    assert.isTrue(slots.acquire("c", "a"))
    assert.isFalse(slots.acquire("c", "b"))
    assert.isFalse(slots.acquire("c", "d"))
    assert.deepStrictEqual(slots.drain("c"), ["b", "d"])
    assert.deepStrictEqual(slots.parked("c"), [])
    assert.strictEqual(slots.release("c"), undefined)
  })

  const limits = [
    { workers: 1, want: 1 },
    { workers: 2, want: 1 },
    { workers: 4, want: 2 },
    { workers: 5, want: 3 },
    { workers: 16, want: 8 }
  ]
  it.each(limits)("the default limit for $workers workers is $want", ({ workers, want }) =>
    assert.strictEqual(defaultClusterLimit(workers), want)
  )
})

const machine = (name: string, namespace: string, cluster: string): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace, annotations: { "vitistack.io/kubevirt-config": cluster } },
  spec: { provider: "kubevirt" }
})

/** Requests of the hung cluster in flight, by the Machine (or namespace) they are about. */
const inFlight = new Map<string, number>()
let mostMachinesAtOnce = 0
const track = <A, E>(name: string, e: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      inFlight.set(name, (inFlight.get(name) ?? 0) + 1)
      mostMachinesAtOnce = Math.max(
        mostMachinesAtOnce,
        [...inFlight.keys()].filter((k) => k.startsWith("hung-")).length
      )
    }),
    () => e,
    () =>
      Effect.sync(() => {
        const n = (inFlight.get(name) ?? 1) - 1
        if (n === 0) inFlight.delete(name)
        else inFlight.set(name, n)
      })
  )

/**
 * A cluster that accepts requests and never answers them: each one waits forever (`deadline` undefined) or fails with
 * a Timeout after `deadline`, as the live client's read deadline would end it.
 */
const hungCluster = (deadline: Duration.Input | undefined): KubeApiService => {
  const answer = <A>(verb: KubeVerb, target: string): Effect.Effect<A, KubeApiError> =>
    deadline === undefined
      ? Effect.never
      : Effect.andThen(
          Effect.sleep(deadline),
          Effect.fail(kubeApiError(verb, target, new Timeout({ message: "no answer within the read deadline" })))
        )
  return {
    get: (ref) => track(ref.name, answer("get", describeObject(ref))),
    list: (kind) => answer("list", kind.kind),
    create: (ref) => track(ref.name, answer("create", describeObject(ref))),
    patch: (ref) => answer("patch", describeObject(ref)),
    apply: (ref) => answer("apply", describeObject(ref)),
    delete: (ref) => answer("delete", describeObject(ref)),
    updateStatus: (ref) => answer("updateStatus", describeObject(ref)),
    discover: (group) => answer("discover", group),
    watch: (kind) => Stream.fromEffect(answer("list", kind.kind))
  }
}

/**
 * A cluster whose lists, watches and discovery answer (its watch caches fill and its health probe passes: a KubeVirt
 * installation and the Machines' namespace) and which never answers a get or a write, the requests a reconcile sends.
 */
const stuckCluster = (): KubeApiService => {
  const cluster = InMemoryCluster.make()
  cluster.seed([namespaceObject("hung"), ...kubevirtInstallation()])
  const api = makeInMemoryApi(cluster)
  return {
    ...api,
    get: (ref) => track(ref.name, Effect.never),
    create: (ref) => track(ref.name, Effect.never),
    patch: (ref) => track(ref.name, Effect.never),
    apply: (ref) => track(ref.name, Effect.never),
    delete: (ref) => track(ref.name, Effect.never),
    updateStatus: (ref) => track(ref.name, Effect.never)
  }
}

/** A supervisor with KubevirtConfigs `remote-a` (healthy, with the stand-in) and `remote-hung` (or only the latter). */
const world = (hung: KubeApiService, configs: ReadonlyArray<string> = ["remote-a", "remote-hung"]) => {
  const supervisor = InMemoryCluster.make()
  const remote = InMemoryCluster.make()
  supervisor.seed([
    namespaceObject("default"),
    namespaceObject("hung"),
    namespaceObject("vitistack"),
    ...configs.map(kubevirtConfigObject)
  ])
  remote.seed([namespaceObject("default"), ...kubevirtInstallation()])
  const layer = Layer.provideMerge(
    Layer.merge(
      EventRecorder.layer,
      Remotes.layerFromMap({ "remote-a": makeInMemoryApi(remote), "remote-hung": hung })
    ),
    Supervisor.layer(makeInMemoryApi(supervisor))
  )
  return { supervisor, remote, layer }
}

const statusOf = (w: ReturnType<typeof world>, name: string, ns: string) =>
  Option.getOrUndefined(w.supervisor.object(refOf("Machine", name, ns)))?.status as Record<string, any> | undefined

/** Virtual milliseconds until `done` holds, stepping 100 ms (fails after `limitMs`). */
const timeUntil = (done: () => boolean, limitMs: number) =>
  Effect.gen(function* () {
    let elapsed = 0
    while (!done() && elapsed < limitMs) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
      elapsed += 100
    }
    assert.isTrue(done(), `condition not reached within ${limitMs} ms of virtual time`)
    return elapsed
  })

const healthy = ["ok-0", "ok-1", "ok-2"]
const allRunning = (w: ReturnType<typeof world>) => () =>
  healthy.every((n) => statusOf(w, n, "default")?.phase === "Running")

/** How long (virtual ms) the healthy Machines take to run, created after `hungMachines` Machines on the hung cluster. */
const healthyRunTime = (hung: KubeApiService, hungMachines: number) => {
  const w = world(hung)
  w.supervisor.seed(Array.from({ length: hungMachines }, (_, i) => machine(`hung-${i}`, "hung", "remote-hung")))
  return Effect.gen(function* () {
    const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, workers: 4, resync: "1 hour" }))
    const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
    // The hung cluster's Machines are taken first and are in flight when the healthy ones arrive.
    yield* TestClock.adjust("1 second")
    yield* Effect.yieldNow
    const supervisor = yield* Supervisor
    for (const n of healthy) yield* supervisor.create(refOf("Machine", n, "default"), machine(n, "default", "remote-a"))
    const took = yield* timeUntil(allRunning(w), 120_000)
    return { took, w, op, standin }
  }).pipe(Effect.provide(w.layer))
}

describe("a hung remote does not stall the others", () => {
  it.effect(
    "a cluster that never answers at all: its 8 Machines wait for its caches without holding a worker; the healthy Machines run as if alone",
    () =>
      Effect.gen(function* () {
        const alone = yield* healthyRunTime(hungCluster(undefined), 0)
        yield* Fiber.interrupt(alone.op)
        yield* Fiber.interrupt(alone.standin)
        inFlight.clear()
        mostMachinesAtOnce = 0
        const beside = yield* healthyRunTime(hungCluster(undefined), 8)
        assert.strictEqual(mostMachinesAtOnce, 0, "nothing is asked of a cluster whose caches have not listed")
        assert.isAtMost(
          beside.took,
          alone.took + 500,
          `alone ${alone.took} ms, beside a hung cluster ${beside.took} ms`
        )
        const hungMachines = Array.from({ length: 8 }, (_, i) => `hung-${i}`)
        assert.isTrue(hungMachines.every((n) => statusOf(beside.w, n, "hung")?.phase !== "Running"))
        yield* Fiber.interrupt(beside.op)
        yield* Fiber.interrupt(beside.standin)
      })
  )

  it.effect(
    "a cluster that never answers a reconcile's requests: 8 Machines on it hold 2 of 4 workers; the healthy Machines run as if alone",
    () =>
      Effect.gen(function* () {
        const alone = yield* healthyRunTime(stuckCluster(), 0)
        yield* Fiber.interrupt(alone.op)
        yield* Fiber.interrupt(alone.standin)
        inFlight.clear()
        mostMachinesAtOnce = 0
        const beside = yield* healthyRunTime(stuckCluster(), 8)
        // Never more than the per-cluster limit of Machines in flight on the hung cluster, and it was reached.
        assert.strictEqual(mostMachinesAtOnce, 2)
        assert.isAtMost(
          beside.took,
          alone.took + 500,
          `alone ${alone.took} ms, beside a hung cluster ${beside.took} ms`
        )
        yield* Fiber.interrupt(beside.op)
        yield* Fiber.interrupt(beside.standin)
      })
  )

  it.effect(
    "a cluster whose requests time out (behind the circuit breaker): healthy Machines are not delayed, and the hung cluster's Machines are Pending with RemoteReachable False and Ready Unknown",
    () =>
      Effect.gen(function* () {
        const alone = yield* healthyRunTime(withCircuitBreaker(hungCluster("10 seconds"), "remote-hung"), 0)
        yield* Fiber.interrupt(alone.op)
        yield* Fiber.interrupt(alone.standin)
        const beside = yield* healthyRunTime(withCircuitBreaker(hungCluster("10 seconds"), "remote-hung"), 8)
        assert.isAtMost(
          beside.took,
          alone.took + 500,
          `alone ${alone.took} ms, beside a hung cluster ${beside.took} ms`
        )
        const hungMachines = Array.from({ length: 8 }, (_, i) => `hung-${i}`)
        yield* timeUntil(() => hungMachines.every((n) => statusOf(beside.w, n, "hung") !== undefined), 120_000)
        for (const n of hungMachines) {
          const s = statusOf(beside.w, n, "hung")!
          const c = (t: string) => s.conditions.find((x: any) => x.type === t)
          assert.strictEqual(s.phase, "Pending", n)
          assert.isUndefined(s.failureReason, n)
          assert.deepStrictEqual([c("RemoteReachable").status, c("Ready").status], ["False", "Unknown"], n)
        }
        yield* Fiber.interrupt(beside.op)
        yield* Fiber.interrupt(beside.standin)
      })
  )

  it.effect("with a single cluster there is nobody to keep workers for: its Machines may use all of them", () => {
    inFlight.clear()
    mostMachinesAtOnce = 0
    const w = world(stuckCluster(), ["remote-hung"])
    w.supervisor.seed(Array.from({ length: 8 }, (_, i) => machine(`hung-${i}`, "hung", "remote-hung")))
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, workers: 4, resync: "1 hour" }))
      yield* TestClock.adjust("5 seconds")
      yield* Effect.yieldNow
      assert.strictEqual(mostMachinesAtOnce, 4)
      yield* Fiber.interrupt(op)
    }).pipe(Effect.provide(w.layer))
  })
})
