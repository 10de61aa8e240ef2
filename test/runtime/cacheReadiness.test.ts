/**
 * The `informers-synced` readiness check follows the caches a replica runs, not its role (ADR 0004 §6): a standby,
 * which runs no caches, is ready (so a rolling update of two replicas is never stalled by it); the leader is ready once
 * its caches have synced. Two replicas elect on the in-memory supervisor in virtual time.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { CACHES_NOT_SYNCED, type CacheReadiness, makeCacheReadiness } from "../../src/runtime/cacheReadiness.ts"
import { makeLeaderElector } from "../../src/runtime/LeaderElection.ts"

const NS = "kubevirt-operator"
const lease = { namespace: NS, name: "kubevirt-operator-leader" } as const

/** The check's verdict: undefined when it passes, else its reason. */
const verdict = (r: CacheReadiness) =>
  Effect.map(Effect.exit(r.check.check), (exit) => (Exit.isSuccess(exit) ? undefined : String(exit.cause)))

const ready = (r: CacheReadiness) => Effect.map(verdict(r), (v) => v === undefined)

describe("cacheReadiness", () => {
  it.effect("passes with no loop running, fails while a loop's caches sync, passes once synced and after it ends", () =>
    Effect.gen(function* () {
      const r = makeCacheReadiness()
      assert.strictEqual(r.check.name, "informers-synced")
      assert.isTrue(yield* ready(r), "no caches to wait for")
      r.synced()
      const loop = yield* Effect.forkChild(r.track(Effect.never))
      yield* Effect.yieldNow
      const failing = yield* verdict(r)
      assert.isDefined(failing, "a synced() before the loop started does not count")
      assert.include(failing!, CACHES_NOT_SYNCED)
      r.synced()
      assert.isTrue(yield* ready(r))
      yield* Fiber.interrupt(loop)
      assert.isTrue(yield* ready(r), "the loop has stopped: nothing to wait for")
      // A loop that starts again (leadership regained) waits for its own caches.
      const again = yield* Effect.forkChild(r.track(Effect.never))
      yield* Effect.yieldNow
      assert.isFalse(yield* ready(r))
      yield* Fiber.interrupt(again)
    })
  )

  it.effect("the standby replica is ready while the leader's caches sync; the leader once they have", () =>
    Effect.gen(function* () {
      const cluster = InMemoryCluster.make()
      cluster.seed([{ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }])
      const api = makeInMemoryApi(cluster)
      const replica = (identity: string) =>
        Effect.gen(function* () {
          const readiness = makeCacheReadiness()
          const elector = yield* makeLeaderElector(api, { lease, identity })
          // The loop stands for runOperator: caches inside, leader only; they sync a second after it starts.
          const loop = Effect.andThen(
            Effect.sleep("1 second"),
            Effect.andThen(
              Effect.sync(() => readiness.synced()),
              Effect.never
            )
          )
          const fiber = yield* Effect.forkChild(elector.run(readiness.track(loop)))
          return { readiness, elector, fiber }
        })
      const a = yield* replica("a")
      yield* TestClock.adjust(0)
      const b = yield* replica("b")
      yield* TestClock.adjust(0)
      assert.isTrue(yield* a.elector.isLeader)
      assert.isFalse(yield* b.elector.isLeader)
      assert.isFalse(yield* ready(a.readiness), "the leader waits for its caches")
      assert.isTrue(yield* ready(b.readiness), "the standby runs no caches: ready")
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* ready(a.readiness))
      yield* TestClock.adjust("1 minute")
      assert.isFalse(yield* b.elector.isLeader)
      assert.isTrue(yield* ready(b.readiness), "a standby stays ready")
      // The leader goes; the standby takes over and is ready again once its own caches have synced.
      yield* Fiber.interrupt(a.fiber)
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* b.elector.isLeader)
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* ready(b.readiness))
      yield* Fiber.interrupt(b.fiber)
    })
  )
})
