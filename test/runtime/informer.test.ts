/**
 * The informer's relist backoff (`informerRetry`, on the TestClock): failures wait 1 s, 2 s, 4 s, ... (±20 %), and a
 * list that succeeds starts the sequence again, so a watch failing after a quiet spell waits 1 s, not the last delay.
 * 410 Gone relists at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { Gone, kubeApiError, ServerError } from "../../src/effects/KubeApiError.ts"
import { runInformer } from "../../src/runtime/informer.ts"

const serverError = kubeApiError("list", "ConfigMap in all namespaces", new ServerError({ message: "boom" }))
const gone = kubeApiError("watch", "ConfigMap in all namespaces", new Gone({ message: "too old" }))

/** A cluster whose lists follow `lists` (true: succeed) and whose watches all fail with `watchFailure`. */
const scripted = (lists: ReadonlyArray<boolean>, watchFailure = serverError) => {
  const listedAt: Array<number> = []
  let n = 0
  const api = {
    list: () =>
      Effect.gen(function* () {
        listedAt.push(yield* Clock.currentTimeMillis)
        const ok = lists[n++] ?? true
        return ok ? { items: [], resourceVersion: "1" } : yield* Effect.fail(serverError)
      }),
    watch: () => Stream.fail(watchFailure)
  } as unknown as KubeApiService
  return { api, listedAt }
}

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)
const within = (gap: number, seconds: number) => gap >= seconds * 800 && gap <= seconds * 1200

describe("runInformer backoff", () => {
  it.effect("list failures back off 1 s, 2 s, 4 s; after a good list a failed watch waits 1 s again", () =>
    Effect.gen(function* () {
      const { api, listedAt } = scripted([false, false, false, true, false])
      const fiber = yield* Effect.forkChild(
        runInformer(api, { apiVersion: "v1", kind: "ConfigMap" }, {}, { onEvent: () => Effect.void }, "test")
      )
      for (let i = 0; i < 200 && listedAt.length < 6; i++) yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(fiber)
      const g = gaps(listedAt)
      assert.isAtLeast(g.length, 5)
      // fail, 1 s, fail, 2 s, fail, 4 s, ok then the watch fails: 1 s (reset), list fails: 2 s.
      const want = [1, 2, 4, 1, 2]
      for (const [i, s] of want.entries()) assert.isTrue(within(g[i]!, s), `gap ${i}: ${g[i]} ms, want about ${s} s`)
    })
  )

  it.effect("a watch that fails with Gone relists at once", () =>
    Effect.gen(function* () {
      const { api, listedAt } = scripted([], gone)
      const fiber = yield* Effect.forkChild(
        runInformer(api, { apiVersion: "v1", kind: "ConfigMap" }, {}, { onEvent: () => Effect.void }, "test")
      )
      for (let i = 0; i < 50 && listedAt.length < 3; i++) yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      assert.isAtLeast(listedAt.length, 3)
      assert.deepStrictEqual(gaps(listedAt).slice(0, 2), [0, 0])
    })
  )
})
