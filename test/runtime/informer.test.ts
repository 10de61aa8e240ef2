/**
 * The informer's relist backoff (`informerRetry`, on the TestClock): failures wait 1 s, 2 s, 4 s, ... (±20 %), and a
 * list that succeeds starts the sequence again, so a watch failing after a quiet spell waits 1 s, not the last delay.
 * 410 Gone relists at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../src/domain/labels.ts"
import { Kinds } from "../../src/domain/ObjectRef.ts"
import { slimFor } from "../../src/effects/cache/slim.ts"
import { WatchCache } from "../../src/effects/cache/WatchCache.ts"
import type { KubeApiService, WatchEvent } from "../../src/effects/KubeApi.ts"
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

describe("runInformer with a cache: which events show a read something new", () => {
  const ours = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }
  const pvc = (rv: number, size: string, phase?: string): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "root", namespace: "team-a", uid: "uid-root", resourceVersion: String(rv), labels: ours },
    spec: { resources: { requests: { storage: size } } },
    ...(phase === undefined ? {} : { status: { phase } })
  })

  it.effect("the echo of our own write and a change of a field the cache drops are unchanged; a new size is not", () =>
    Effect.gen(function* () {
      const cache = new WatchCache({
        kind: Kinds.PersistentVolumeClaim,
        labelSelector: ours,
        complete: true,
        staleAfterMillis: 30_000,
        slim: slimFor(Kinds.PersistentVolumeClaim)
      })
      const events: ReadonlyArray<WatchEvent> = [
        { type: "ADDED", object: pvc(5, "1Gi") }, // what our create returned
        { type: "MODIFIED", object: pvc(6, "1Gi", "Bound") }, // the binding: status, which the cache does not keep
        { type: "MODIFIED", object: pvc(7, "2Gi", "Bound") }, // someone resized it
        { type: "DELETED", object: pvc(8, "2Gi", "Bound") }
      ]
      const api = {
        list: () => Effect.succeed({ items: [], resourceVersion: "4" }),
        watch: () => Stream.concat(Stream.fromIterable(events), Stream.never)
      } as unknown as KubeApiService
      const seen: Array<string> = []
      const fiber = yield* Effect.forkChild(
        runInformer(
          api,
          Kinds.PersistentVolumeClaim,
          {},
          {
            onEvent: (type, o, _previous, unchanged) =>
              Effect.sync(() => {
                seen.push(`${type} ${o.metadata.resourceVersion} ${unchanged === true ? "unchanged" : "changed"}`)
              }),
            onSynced: () => Effect.sync(() => cache.wrote(pvc(5, "1Gi"), 0))
          },
          "test",
          cache
        )
      )
      for (let i = 0; i < 50 && seen.length < 4; i++) yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(seen, [
        "ADDED 5 unchanged",
        "MODIFIED 6 unchanged",
        "MODIFIED 7 changed",
        "DELETED 8 changed"
      ])
    })
  )
})
