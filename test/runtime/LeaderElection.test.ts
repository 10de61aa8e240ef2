/**
 * Leader election on the in-memory cluster, in virtual time (TestClock): acquiring an absent Lease, standing by,
 * release on shutdown and takeover within one retry period, loss of leadership when renewals fail (the leader stops
 * before the standby starts), Conflict retries, and client-go's config rules. Every takeover also checks that two
 * `leading` effects never ran at the same time.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { describeObject, kubeApiError, ServerError } from "../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import {
  formatMicroTime,
  type LeaderElectionConfig,
  LeaderElectionConfigError,
  LeadershipLost,
  makeLeaderElector,
  runWhenLeader,
  validateConfig
} from "../../src/runtime/LeaderElection.ts"
import { Metrics } from "../../src/runtime/Metrics.ts"

const NS = "kubevirt-operator"
const lease = { namespace: NS, name: "kubevirt-operator-leader" } as const
const leaseRef = refOf("Lease", lease.name, lease.namespace)

const world = () => {
  const cluster = InMemoryCluster.make()
  cluster.seed([{ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }])
  return { cluster, api: makeInMemoryApi(cluster) }
}

const specOf = (cluster: InMemoryCluster): Record<string, unknown> => {
  const o = cluster.object(leaseRef)
  assert.isTrue(Option.isSome(o), "the Lease exists")
  return Option.getOrThrow(o).spec as Record<string, unknown>
}

/** Lets forked fibers run up to the current virtual time. */
const settle = TestClock.adjust(0)

/** What happened, with the virtual second it happened at. */
type Log = Array<{ readonly t: number; readonly event: string }>

/** Starts a candidate whose `leading` logs start/stop (and who held the Lease when it stopped) and never ends. */
const candidate = (api: KubeApiService, identity: string, log: Log, cluster: InMemoryCluster, extra = {}) =>
  Effect.gen(function* () {
    const elector = yield* makeLeaderElector(api, { lease, identity, ...extra })
    const stamp = (event: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (ms) => Effect.sync(() => log.push({ t: ms / 1000, event })))
    const leading = stamp(`${identity} start`).pipe(
      Effect.andThen(Effect.never),
      Effect.onInterrupt(() => stamp(`${identity} stop (holder ${String(specOf(cluster).holderIdentity)})`))
    )
    const fiber = yield* Effect.forkChild(elector.run(leading))
    return { elector, fiber }
  })

/** No two `leading` effects overlap: starts and stops alternate. */
const assertNeverTwoLeaders = (log: Log) => {
  let running = 0
  for (const { event } of log) {
    running += event.includes(" start") ? 1 : event.includes(" stop") ? -1 : 0
    assert.isAtMost(running, 1, `two leaders at once: ${JSON.stringify(log)}`)
  }
}

/** Wraps an api so that Lease patches fail (or hang) while `state.mode` says so. */
const flaky = (api: KubeApiService, state: { mode: "ok" | "fail" | "hang" }): KubeApiService => ({
  ...api,
  patch: (ref, patch, options) =>
    state.mode === "ok"
      ? api.patch(ref, patch, options)
      : state.mode === "hang"
        ? Effect.never
        : Effect.fail(kubeApiError("patch", describeObject(ref), new ServerError({ message: "etcd unavailable" })))
})

describe("LeaderElection", () => {
  it.effect("a single candidate creates the absent Lease, leads, and renews every retry period", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const log: Log = []
      const a = yield* candidate(api, "a", log, cluster)
      yield* settle
      assert.isTrue(yield* a.elector.isLeader)
      assert.deepStrictEqual(log, [{ t: 0, event: "a start" }])
      assert.deepStrictEqual(specOf(cluster), {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: "1970-01-01T00:00:00.000000Z",
        renewTime: "1970-01-01T00:00:00.000000Z",
        leaseTransitions: 0
      })
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(specOf(cluster).renewTime, "1970-01-01T00:00:02.000000Z")
      assert.strictEqual(specOf(cluster).acquireTime, "1970-01-01T00:00:00.000000Z")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(specOf(cluster).renewTime, "1970-01-01T00:01:02.000000Z")
      assert.strictEqual(specOf(cluster).leaseTransitions, 0)
    })
  )

  it.effect("a second candidate stays on standby while the first renews", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const log: Log = []
      const a = yield* candidate(api, "a", log, cluster)
      yield* settle
      const b = yield* candidate(api, "b", log, cluster)
      yield* TestClock.adjust("5 minutes")
      assert.isTrue(yield* a.elector.isLeader)
      assert.isFalse(yield* b.elector.isLeader)
      assert.deepStrictEqual(
        log.map((e) => e.event),
        ["a start"]
      )
      assert.strictEqual(specOf(cluster).holderIdentity, "a")
      assert.strictEqual(specOf(cluster).leaseTransitions, 0)
    })
  )

  it.effect("an interrupted leader stops leading, then releases; the standby takes over within one retry period", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const log: Log = []
      const a = yield* candidate(api, "a", log, cluster)
      yield* settle
      const b = yield* candidate(api, "b", log, cluster)
      yield* TestClock.adjust("7 seconds")

      yield* Fiber.interrupt(a.fiber)
      assert.isFalse(yield* a.elector.isLeader)
      assert.deepStrictEqual(log.at(-1), { t: 7, event: "a stop (holder a)" }, "leading stopped before the release")
      assert.strictEqual(specOf(cluster).holderIdentity, "")
      assert.strictEqual(specOf(cluster).leaseDurationSeconds, 1)

      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* b.elector.isLeader)
      const bStart = log.find((e) => e.event === "b start")
      assert.isDefined(bStart)
      assert.isAtMost(bStart!.t - 7, 2, "within one retry period")
      const spec = specOf(cluster)
      assert.strictEqual(spec.holderIdentity, "b")
      assert.strictEqual(spec.leaseTransitions, 1)
      assert.strictEqual(spec.leaseDurationSeconds, 15)
      assert.strictEqual(spec.acquireTime, formatMicroTime(bStart!.t * 1000))
      assertNeverTwoLeaders(log)
    })
  )

  it.effect(
    "a leader that cannot renew stops leading before the Lease expires; the standby acquires after expiry",
    () =>
      Effect.gen(function* () {
        const { cluster, api } = world()
        const log: Log = []
        const patches = { mode: "ok" as "ok" | "fail" | "hang" }
        const a = yield* candidate(flaky(api, patches), "a", log, cluster)
        yield* settle
        const b = yield* candidate(api, "b", log, cluster)
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(specOf(cluster).renewTime, formatMicroTime(10_000), "last successful renewal at t=10")

        patches.mode = "fail"
        // client-go's bound: the leader gives up at last renewal + retryPeriod + renewDeadline = 22 s ...
        yield* TestClock.adjust("11 seconds")
        assert.isTrue(yield* a.elector.isLeader, "still leading at t=21")
        yield* TestClock.adjust("1 second")
        assert.isFalse(yield* a.elector.isLeader)
        const exit = a.fiber.pollUnsafe()
        assert.isTrue(exit !== undefined && Exit.isFailure(exit), "run has failed")
        const error = Exit.findErrorOption(exit!)
        assert.isTrue(Option.isSome(error) && error.value instanceof LeadershipLost)
        assert.include(
          Option.getOrThrow(error).message,
          "failed to renew Lease kubevirt-operator/kubevirt-operator-leader"
        )
        assert.include(Option.getOrThrow(error).message, "etcd unavailable")
        assert.deepStrictEqual(log.at(-1), { t: 22, event: "a stop (holder a)" })

        // ... while the standby waits until the record has not changed for leaseDuration (15 s) by its clock.
        yield* TestClock.adjust("3 seconds")
        assert.isFalse(yield* b.elector.isLeader, "the Lease has not expired at t=25")
        assert.strictEqual(specOf(cluster).holderIdentity, "a")
        yield* TestClock.adjust("4 seconds")
        assert.isTrue(yield* b.elector.isLeader, "acquired by t=29 (expiry at 25 plus at most two retry periods)")
        assert.strictEqual(specOf(cluster).holderIdentity, "b")
        assert.strictEqual(specOf(cluster).leaseTransitions, 1)
        const bStart = log.find((e) => e.event === "b start")!
        assert.isAbove(bStart.t, 25)
        assertNeverTwoLeaders(log)
      })
  )

  it.effect("a leader that finds another holder in the Lease steps down at its next renewal", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const log: Log = []
      const a = yield* candidate(api, "a", log, cluster)
      yield* TestClock.adjust("3 seconds")
      const current = Option.getOrThrow(cluster.object(leaseRef))
      cluster.seed([{ ...current, spec: { ...(current.spec as object), holderIdentity: "intruder" } } as KubeObject])
      yield* TestClock.adjust("1 second")
      const exit = a.fiber.pollUnsafe()
      assert.isDefined(exit, "run has ended")
      const error = Exit.findErrorOption(exit!)
      assert.isTrue(Option.isSome(error))
      assert.include(Option.getOrThrow(error).message, "was taken over by intruder")
      assert.deepStrictEqual(log.at(-1), { t: 4, event: "a stop (holder intruder)" })
      assert.strictEqual(specOf(cluster).holderIdentity, "intruder", "the release did not overwrite the new holder")
    })
  )

  it.effect("a Conflict from a concurrent writer is re-read and retried at once; leadership continues", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      let interfere = false
      const racing: KubeApiService = {
        ...api,
        patch: (ref, patch, options) =>
          Effect.andThen(
            Effect.suspend(() => {
              if (!interfere) return Effect.void
              interfere = false
              return api.patch(ref, { metadata: { labels: { touched: "yes" } } })
            }),
            api.patch(ref, patch, options)
          )
      }
      const log: Log = []
      const a = yield* candidate(racing, "a", log, cluster)
      yield* settle
      cluster.resetRequestCounts()
      interfere = true
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* a.elector.isLeader)
      const lease = Option.getOrThrow(cluster.object(leaseRef))
      assert.strictEqual(lease.metadata.labels?.touched, "yes")
      assert.strictEqual((lease.spec as Record<string, unknown>).renewTime, formatMicroTime(2_000))
      // interfering patch + our stale patch (Conflict) + our patch after the re-read
      assert.strictEqual(cluster.requestCount({ verb: "patch", kind: "Lease" }), 3)
      assert.strictEqual(cluster.requestCount({ verb: "get", kind: "Lease" }), 2)
    })
  )

  it.effect("a fresh candidate waits a full leaseDuration before taking over a Lease whose holder vanished", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      cluster.seed([
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: lease.name, namespace: NS },
          spec: {
            holderIdentity: "crashed",
            leaseDurationSeconds: 15,
            acquireTime: formatMicroTime(0),
            renewTime: formatMicroTime(0),
            leaseTransitions: 3
          }
        }
      ])
      yield* TestClock.adjust("1 hour")
      const log: Log = []
      const c = yield* candidate(api, "c", log, cluster)
      yield* TestClock.adjust("14 seconds")
      assert.isFalse(yield* c.elector.isLeader, "skew-safe: expiry counts from when this replica saw the record")
      yield* TestClock.adjust("4 seconds")
      assert.isTrue(yield* c.elector.isLeader)
      assert.strictEqual(specOf(cluster).holderIdentity, "c")
      assert.strictEqual(specOf(cluster).leaseTransitions, 4)
    })
  )

  it.effect("leading that ends returns its result and releases the Lease; a failure is returned as is", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const value = yield* runWhenLeader(api, { lease, identity: "a" }, Effect.succeed(42))
      assert.strictEqual(value, 42)
      assert.strictEqual(specOf(cluster).holderIdentity, "")
      const error = yield* Effect.flip(runWhenLeader(api, { lease, identity: "b" }, Effect.fail("boom" as const)))
      assert.strictEqual(error, "boom")
      assert.strictEqual(specOf(cluster).holderIdentity, "")
      assert.strictEqual(specOf(cluster).leaseTransitions, 1, "one change of holder: a, then b")
    })
  )

  it.effect("shutdown does not hang when the apiserver does not answer the release", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const patches = { mode: "ok" as "ok" | "fail" | "hang" }
      const a = yield* candidate(flaky(api, patches), "a", [], cluster)
      yield* settle
      patches.mode = "hang"
      const interrupting = yield* Effect.forkChild(Fiber.interrupt(a.fiber))
      yield* TestClock.adjust("10 seconds")
      assert.isDefined(interrupting.pollUnsafe(), "the release gave up after renewDeadline")
      assert.isFalse(yield* a.elector.isLeader)
    })
  )

  it.effect("isLeader and the kubevirt_operator_leader gauge follow leadership", () =>
    Effect.gen(function* () {
      const { cluster, api } = world()
      const metrics = yield* Metrics
      const a = yield* candidate(api, "a", [], cluster)
      assert.strictEqual(yield* metrics.leader.value(), 0)
      yield* settle
      assert.strictEqual(yield* metrics.leader.value(), 1)
      yield* Fiber.interrupt(a.fiber)
      assert.strictEqual(yield* metrics.leader.value(), 0)
      assert.isFalse(yield* a.elector.isLeader)
    }).pipe(Effect.provide(Layer.fresh(Metrics.layer)))
  )

  it.effect("the Lease namespace missing: keeps retrying, and leads once it exists", () =>
    Effect.gen(function* () {
      const cluster = InMemoryCluster.make()
      const api = makeInMemoryApi(cluster)
      const a = yield* candidate(api, "a", [], cluster)
      yield* TestClock.adjust("10 seconds")
      assert.isFalse(yield* a.elector.isLeader)
      cluster.seed([{ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }])
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* a.elector.isLeader)
    })
  )
})

describe("validateConfig", () => {
  const base: LeaderElectionConfig = { lease, identity: "a" }
  const cases: ReadonlyArray<{ name: string; config: LeaderElectionConfig; error: string | undefined }> = [
    { name: "defaults", config: base, error: undefined },
    {
      name: "renewDeadline not below leaseDuration",
      config: { ...base, leaseDuration: "10 seconds", renewDeadline: "10 seconds" },
      error: "leaseDuration must be greater than renewDeadline"
    },
    {
      name: "retryPeriod too long for renewDeadline",
      config: { ...base, renewDeadline: "2 seconds", retryPeriod: "2 seconds" },
      error: "renewDeadline must be greater than 1.2 × retryPeriod"
    },
    { name: "empty identity", config: { ...base, identity: " " }, error: "identity must not be empty" },
    {
      name: "missing lease name",
      config: { ...base, lease: { namespace: NS, name: "" } },
      error: "lease namespace and name are required"
    }
  ]
  it.each(cases)("$name", ({ config, error }) => {
    const result = validateConfig(config)
    if (error === undefined) {
      assert.isTrue(result._tag === "Success" && result.success.leaseDurationSeconds === 15)
    } else {
      assert.isTrue(result._tag === "Failure" && result.failure instanceof LeaderElectionConfigError)
      assert.include(result._tag === "Failure" ? result.failure.message : "", error)
    }
  })

  it("rounds a fractional leaseDuration up to whole seconds for the Lease", () => {
    const result = validateConfig({ ...base, leaseDuration: "15500 millis" })
    assert.isTrue(result._tag === "Success" && result.success.leaseDurationSeconds === 16)
  })

  it("formats MicroTime with six fractional digits", () => {
    assert.strictEqual(formatMicroTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), "2026-01-02T03:04:05.678000Z")
  })
})
