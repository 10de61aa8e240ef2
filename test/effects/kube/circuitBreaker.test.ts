/**
 * The per-cluster circuit breaker in virtual time: consecutive timeouts open it, calls then fail at once with
 * Unavailable without reaching the cluster, a probe after the cooldown closes it on success and reopens it for
 * longer on failure, and an answer of any kind (404) counts as the cluster being there.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../../src/effects/KubeApi.ts"
import { type KubeApiErrorReason, kubeApiError, NotFound, Timeout } from "../../../src/effects/KubeApiError.ts"
import { withCircuitBreaker } from "../../../src/effects/kube/circuitBreaker.ts"

/** A cluster whose `get` answers as `script` says for each call; counts the calls that reached it. */
const cluster = (script: (call: number) => KubeApiErrorReason | "ok") => {
  const seen = { calls: 0 }
  const unused = () => Effect.die("not used")
  const api: KubeApiService = {
    get: () =>
      Effect.suspend(() => {
        const answer = script(seen.calls++)
        return answer === "ok"
          ? Effect.succeed(Option.none())
          : Effect.fail(kubeApiError("get", "ConfigMap a/b", answer))
      }),
    list: unused,
    create: unused,
    patch: unused,
    apply: unused,
    delete: unused,
    updateStatus: unused,
    discover: unused,
    watch: () => {
      throw new Error("not used")
    }
  }
  return { api, seen }
}
const ref = refOf("Namespace", "x")
const timeout = new Timeout({ message: "no response within 10000 ms" })
const reasonOf = (api: KubeApiService) =>
  Effect.match(api.get(ref), { onFailure: (e) => e.reason._tag, onSuccess: () => "ok" })

describe("withCircuitBreaker", () => {
  it.effect("three timeouts in a row open it; calls fail at once without reaching the cluster", () =>
    Effect.gen(function* () {
      const { api, seen } = cluster(() => timeout)
      const guarded = withCircuitBreaker(api, "remote-a", { failureThreshold: 3, cooldown: "5 seconds" })
      assert.deepStrictEqual(
        [yield* reasonOf(guarded), yield* reasonOf(guarded), yield* reasonOf(guarded)],
        ["Timeout", "Timeout", "Timeout"]
      )
      const error = yield* Effect.flip(guarded.get(ref))
      assert.strictEqual(error.reason._tag, "Unavailable")
      assert.isFalse(error.isRetryable)
      assert.include(error.message, "cluster 'remote-a' is not answering")
      assert.strictEqual(seen.calls, 3)
    })
  )

  it.effect("after the cooldown one probe goes through: success closes, failure reopens for twice as long", () =>
    Effect.gen(function* () {
      let healthy = false
      const { api, seen } = cluster(() => (healthy ? "ok" : timeout))
      const guarded = withCircuitBreaker(api, "remote-a", { failureThreshold: 2, cooldown: "5 seconds" })
      yield* reasonOf(guarded)
      yield* reasonOf(guarded)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* reasonOf(guarded), "Timeout", "the probe reached the cluster and failed")
      assert.strictEqual(seen.calls, 3)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* reasonOf(guarded), "Unavailable", "reopened for 10 s, not 5")
      yield* TestClock.adjust("5 seconds")
      healthy = true
      assert.strictEqual(yield* reasonOf(guarded), "ok")
      assert.strictEqual(yield* reasonOf(guarded), "ok")
      assert.strictEqual(seen.calls, 5)
    })
  )

  it.effect("any answer of the server (a 404) resets the count", () =>
    Effect.gen(function* () {
      const { api } = cluster((n) => (n % 2 === 0 ? timeout : new NotFound({ message: "nope" })))
      const guarded = withCircuitBreaker(api, "remote-a", { failureThreshold: 2 })
      for (let i = 0; i < 6; i++) assert.notStrictEqual(yield* reasonOf(guarded), "Unavailable")
    })
  )
})
