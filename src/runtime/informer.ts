/**
 * A list-then-watch loop over one kind, the shape of client-go's reflector. Runtime layer.
 * It lists (delivering every object as ADDED), then watches from the list's resourceVersion, resumes from the last
 * resourceVersion when a watch ends, relists on 410 Gone, and after any other failure waits (`informerRetry` in
 * effects/retry.ts: jittered, growing, capped) and relists. `managedFields` is stripped before objects reach the
 * handler. It runs until interrupted.
 */
import { Effect, Stream } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import type { KubeApiService, ListOptions, ListResult, WatchEventType } from "../effects/KubeApi.ts"
import type { KubeApiError } from "../effects/KubeApiError.ts"
import type { KindRef } from "../effects/kube/clients.ts"
import { informerRetry } from "../effects/retry.ts"

export interface InformerHandlers {
  readonly onEvent: (type: Exclude<WatchEventType, "BOOKMARK">, object: KubeObject) => Effect.Effect<void>
  /** Called after every successful list (first sync and every relist). */
  readonly onSynced?: () => Effect.Effect<void>
  /** Called when a list or watch fails (not for 410 Gone, which is a normal relist). */
  readonly onError?: (error: KubeApiError) => Effect.Effect<void>
}

const strip = (o: KubeObject): KubeObject => {
  if (!("managedFields" in o.metadata)) return o
  const { managedFields: _dropped, ...metadata } = o.metadata as KubeObject["metadata"] & { managedFields?: unknown }
  return { ...o, metadata }
}

/** A watch that ends sooner than this without an event is re-opened only after this long. */
const QUICK_END_MS = 1000

export const runInformer = (
  api: KubeApiService,
  kind: KindRef,
  options: ListOptions,
  handlers: InformerHandlers,
  label: string
): Effect.Effect<never> => {
  // 410 Gone is not a failure: the informer relists at once.
  const report = (e: KubeApiError) =>
    e.reason._tag === "Gone"
      ? Effect.void
      : Effect.andThen(
          handlers.onError === undefined ? Effect.void : handlers.onError(e),
          Effect.logWarning(`${label}: ${e.message}; relisting after backoff`)
        )

  /**
   * Lists, retrying failures with `informerRetry` from its start: the backoff resets with every list that succeeds
   * (as client-go's reflector's does). `after` is the watch failure that ended the last list's watches; it counts as
   * the first failure, so the relist waits like a retry.
   */
  const relist = (after: KubeApiError | undefined) => {
    let pending = after
    const attempt = Effect.suspend(() => {
      const failed = pending
      pending = undefined
      return failed === undefined ? api.list(kind, options).pipe(Effect.tapError(report)) : Effect.fail(failed)
    })
    return Effect.retry(attempt, { schedule: informerRetry, while: (e) => e.reason._tag !== "Gone" })
  }

  /** Delivers a list, then watches from its resourceVersion until a watch fails (Gone included). */
  const watchFrom = (list: ListResult) =>
    Effect.gen(function* () {
      for (const o of list.items) yield* handlers.onEvent("ADDED", strip(o))
      if (handlers.onSynced !== undefined) yield* handlers.onSynced()
      let resourceVersion = list.resourceVersion
      for (;;) {
        const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
        let events = 0
        yield* api.watch(kind, { ...options, resourceVersion, allowBookmarks: true, timeoutSeconds: 300 }).pipe(
          Stream.runForEach((event) =>
            Effect.gen(function* () {
              events++
              resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion
              if (event.type !== "BOOKMARK") yield* handlers.onEvent(event.type, strip(event.object))
            })
          ),
          Effect.tapError(report)
        )
        // A watch that ends at once without an event must not be re-opened in a tight loop (it would pile up
        // requests and memory): wait a second first.
        const ended = yield* Effect.clockWith((c) => c.currentTimeMillis)
        if (events === 0 && ended - started < QUICK_END_MS) yield* Effect.sleep(QUICK_END_MS)
      }
    })

  let after: KubeApiError | undefined
  const loop: Effect.Effect<never> = Effect.gen(function* () {
    const list = yield* relist(after)
    after = undefined
    return yield* watchFrom(list)
  }).pipe(
    Effect.catch((e) =>
      Effect.sync(() => {
        after = e.reason._tag === "Gone" ? undefined : e
      })
    ),
    Effect.forever
  )
  return loop.pipe(Effect.annotateLogs({ informer: label }))
}
