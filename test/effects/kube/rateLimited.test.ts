/**
 * The token bucket in front of a remote client: a burst goes at once, then requests are spaced at the rate, in order;
 * watches are not limited. On the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Kinds } from "../../../src/domain/ObjectRef.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../../src/effects/kube/inMemoryApi.ts"
import { rateLimited } from "../../../src/effects/kube/rateLimited.ts"

describe("rateLimited", () => {
  it.effect("a burst passes at once, then requests wait for tokens at the rate", () =>
    Effect.gen(function* () {
      const cluster = InMemoryCluster.make()
      const api = rateLimited(makeInMemoryApi(cluster), { qps: 10, burst: 3 })
      const doneAt: Array<number> = []
      const fiber = yield* Effect.forkChild(
        Effect.forEach(
          Array.from({ length: 6 }),
          () =>
            Effect.andThen(
              api.list(Kinds.Namespace),
              Effect.map(Clock.currentTimeMillis, (t) => doneAt.push(t))
            ),
          { concurrency: "unbounded", discard: true }
        )
      )
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(cluster.requestCount(), 3, "the burst")
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(cluster.requestCount(), 4)
      yield* TestClock.adjust("200 millis")
      assert.strictEqual(cluster.requestCount(), 6)
      yield* Fiber.join(fiber)
      // After a quiet second the bucket is full again.
      yield* TestClock.adjust("1 second")
      yield* Effect.forEach(Array.from({ length: 3 }), () => api.list(Kinds.Namespace), { discard: true })
      assert.strictEqual(cluster.requestCount(), 9)
    })
  )
})
