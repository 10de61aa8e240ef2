/**
 * Retry schedules in virtual time (TestClock): only retryable reasons are retried, attempts are bounded,
 * a 429's Retry-After is honoured, and no real time passes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import {
  type KubeApiErrorReason,
  kubeApiError,
  NotFound,
  ServerError,
  Timeout,
  TooManyRequests
} from "../../src/effects/KubeApiError.ts"
import { conflictRetry, retryApi } from "../../src/effects/retry.ts"

/** An effect failing with `reasons[i]` on attempt i, succeeding after them; counts attempts. */
const scripted = (reasons: ReadonlyArray<KubeApiErrorReason>) => {
  const state = { attempts: 0 }
  const effect = Effect.suspend(() => {
    const reason = reasons[state.attempts++]
    return reason === undefined
      ? Effect.succeed("ok" as const)
      : Effect.fail(kubeApiError("get", "ConfigMap ns/c", reason))
  })
  return { state, effect }
}

describe("retryApi", () => {
  it.effect("retries retryable failures with backoff in virtual time", () =>
    Effect.gen(function* () {
      const { state, effect } = scripted([new ServerError({ message: "a" }), new Timeout({ message: "b" })])
      const started = Date.now()
      const fiber = yield* Effect.forkChild(retryApi()(effect))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(state.attempts, 3)
      assert.strictEqual(yield* Clock.currentTimeMillis, 60_000)
      assert.isBelow(Date.now() - started, 1_000, "no real sleeping")
    })
  )

  it.effect("fails at once on a non-retryable reason", () =>
    Effect.gen(function* () {
      const { state, effect } = scripted([new NotFound({ message: "gone" })])
      const error = yield* Effect.flip(retryApi()(effect))
      assert.strictEqual(error.reason._tag, "NotFound")
      assert.strictEqual(state.attempts, 1)
    })
  )

  it.effect("gives up after 5 retries (6 attempts) with the last error", () =>
    Effect.gen(function* () {
      const { state, effect } = scripted(Array.from({ length: 10 }, (_, i) => new ServerError({ message: `e${i}` })))
      const fiber = yield* Effect.forkChild(Effect.flip(retryApi()(effect)))
      yield* TestClock.adjust("10 minutes")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(state.attempts, 6)
      assert.strictEqual(error.reason.message, "e5")
    })
  )

  it.effect("waits at least the server's Retry-After on 429", () =>
    Effect.gen(function* () {
      const { state, effect } = scripted([
        new TooManyRequests({ message: "slow down", retryAfter: Duration.seconds(5) })
      ])
      const fiber = yield* Effect.forkChild(retryApi()(effect))
      yield* TestClock.adjust("4900 millis")
      assert.strictEqual(state.attempts, 1)
      yield* TestClock.adjust("200 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(state.attempts, 2)
    })
  )

  it.effect("conflictRetry stops after 3 retries", () =>
    Effect.gen(function* () {
      const { state, effect } = scripted(Array.from({ length: 10 }, () => new ServerError({ message: "busy" })))
      const fiber = yield* Effect.forkChild(Effect.flip(retryApi(conflictRetry)(effect)))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      assert.strictEqual(state.attempts, 4)
    })
  )
})
