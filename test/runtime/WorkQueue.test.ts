/**
 * The work queue: deduplication, one worker per key, earliest delayed time wins, an add now supersedes a delayed one,
 * per-key exponential backoff with a cap, reset by forget. On the TestClock: no real sleeps.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { makeWorkQueue } from "../../src/runtime/WorkQueue.ts"

const pending = <A, E>(f: Fiber.Fiber<A, E>) => f.pollUnsafe() === undefined

describe("WorkQueue", () => {
  it.effect("deduplicates keys waiting in the queue", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      yield* q.add("a")
      yield* q.add("a")
      yield* q.add("b")
      assert.strictEqual(q.depth(), 2)
      assert.deepStrictEqual([yield* q.take, yield* q.take], ["a", "b"])
      const third = yield* Effect.forkChild(q.take)
      yield* Effect.yieldNow
      assert.isTrue(pending(third), "no third item")
    })
  )

  it.effect("a key added while processing is handed out again only after done (never to two workers)", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      yield* q.add("a")
      const k = yield* q.take
      yield* q.add("a")
      const second = yield* Effect.forkChild(q.take)
      yield* Effect.yieldNow
      assert.isTrue(pending(second), "a is still being processed")
      yield* q.done(k)
      assert.strictEqual(yield* Fiber.join(second), "a")
    })
  )

  it.effect("addAfter waits on the clock, and the earliest of two times wins", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      yield* q.addAfter("a", "10 seconds")
      yield* q.addAfter("a", "2 seconds")
      yield* q.addAfter("a", "30 seconds")
      const taken = yield* Effect.forkChild(q.take)
      yield* TestClock.adjust("1999 millis")
      assert.isTrue(pending(taken))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(taken), "a")
      yield* q.done("a")
      // The later timers do not fire a second add.
      const again = yield* Effect.forkChild(q.take)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(pending(again))
    })
  )

  it.effect("an add now supersedes a delayed add: the key's timer, backoff or requeue, brings no second take", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue({ baseDelay: "10 seconds" })
      yield* q.addAfter("a", "5 seconds")
      yield* q.addRateLimited("b")
      yield* q.add("a")
      yield* q.add("b")
      assert.deepStrictEqual([yield* q.take, yield* q.take], ["a", "b"])
      yield* q.done("a")
      yield* q.done("b")
      const again = yield* Effect.forkChild(q.take)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(pending(again), "no timer fired")
      // A delayed add made after the add still fires.
      yield* q.addAfter("a", "1 second")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(again), "a")
    })
  )

  it.effect("failures back off exponentially up to the cap; forget resets", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue({ baseDelay: "100 millis", maxDelay: "1 second" })
      const waitFor = (ms: number) =>
        Effect.gen(function* () {
          const f = yield* Effect.forkChild(q.take)
          yield* TestClock.adjust(ms - 1)
          assert.isTrue(pending(f), `not before ${ms} ms`)
          yield* TestClock.adjust(1)
          yield* q.done(yield* Fiber.join(f))
        })
      for (const ms of [100, 200, 400, 800, 1000, 1000]) {
        yield* q.addRateLimited("a")
        yield* waitFor(ms)
      }
      assert.strictEqual(q.failures("a"), 6)
      yield* q.forget("a")
      yield* q.addRateLimited("a")
      yield* waitFor(100)
    })
  )

  it.effect("the global bucket spaces out a storm of failures across keys", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue({ baseDelay: "1 millis", qps: 10, burst: 2 })
      for (const k of ["a", "b", "c", "d"]) yield* q.addRateLimited(k)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(q.depth(), 2, "the burst passes at once")
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(q.depth(), 3)
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(q.depth(), 4)
    })
  )

  it.effect(
    "a key added as high is taken before every normal one, and a waiting key added again as high moves ahead",
    () =>
      Effect.gen(function* () {
        const q = yield* makeWorkQueue()
        for (const k of ["a", "b", "c"]) yield* q.add(k)
        yield* q.add("d", "high")
        yield* q.add("c", "high")
        yield* q.add("a")
        assert.strictEqual(q.depth(), 4)
        assert.deepStrictEqual([yield* q.take, yield* q.take, yield* q.take, yield* q.take], ["d", "c", "a", "b"])
        // A key added as high while it is processed comes back as high when done.
        yield* q.add("e")
        yield* q.add("b", "high")
        yield* q.done("b")
        assert.deepStrictEqual([yield* q.take, yield* q.take], ["b", "e"])
      })
  )
})
