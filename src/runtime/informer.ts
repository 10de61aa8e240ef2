/**
 * A list-then-watch loop over one kind, the shape of client-go's reflector. Runtime layer.
 * It lists (delivering every object as ADDED), then watches from the list's resourceVersion, resumes from the last
 * resourceVersion when a watch ends, relists on 410 Gone, and after any other failure waits (`informerRetry` in
 * effects/retry.ts: jittered, growing, capped) and relists. `managedFields` is stripped before objects reach the
 * handler. It runs until interrupted.
 * With a watch cache (`effects/cache/WatchCache.ts`) it fills the cache, as client-go's informer fills its store: the
 * cache's transform slims objects before they reach the handler, a relist delivers only what changed (and DELETED for
 * what vanished while the watch was down), and failures mark the cache broken until a list succeeds.
 */
import { Clock, Effect, Stream } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { sameForReads, type WatchCache } from "../effects/cache/WatchCache.ts"
import type { KubeApiService, ListOptions, ListResult, WatchEventType } from "../effects/KubeApi.ts"
import type { KubeApiError } from "../effects/KubeApiError.ts"
import type { KindRef } from "../effects/kube/clients.ts"
import { informerRetry } from "../effects/retry.ts"

export interface InformerHandlers {
  /**
   * `previous`: the object as the cache held it before this event (only with a cache). `unchanged` (only with a
   * cache, only for a watch event): a read sees nothing new, as the event repeats what our own write returned or
   * changes only fields the cache does not keep (`sameForReads`). `written`: what the operator's own latest write of
   * the object returned, while the watch has not delivered it yet (only with a cache, only for a watch event).
   */
  readonly onEvent: (
    type: Exclude<WatchEventType, "BOOKMARK">,
    object: KubeObject,
    previous?: KubeObject | undefined,
    unchanged?: boolean,
    written?: KubeObject | undefined
  ) => Effect.Effect<void>
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
  label: string,
  cache?: WatchCache | undefined
): Effect.Effect<never> => {
  // 410 Gone is not a failure: the informer relists at once.
  const report = (e: KubeApiError) =>
    e.reason._tag === "Gone"
      ? Effect.void
      : Effect.andThen(
          Effect.andThen(
            cache === undefined
              ? Effect.void
              : Effect.map(Clock.currentTimeMillis, (now) => cache.failed(e.message, now)),
            handlers.onError === undefined ? Effect.void : handlers.onError(e)
          ),
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
      if (failed !== undefined) return Effect.fail(failed)
      cache?.beginList()
      return api.list(kind, options).pipe(Effect.tapError(report))
    })
    return Effect.retry(attempt, { schedule: informerRetry, while: (e) => e.reason._tag !== "Gone" })
  }

  /**
   * Delivers a list's objects. A generator of its own that ends before the watch starts: the listed objects (whole,
   * before the cache slims them) are not kept alive by a generator that runs as long as the watch (ADR 0017,
   * "Memory").
   */
  const deliver = (list: ListResult) =>
    Effect.gen(function* () {
      if (cache === undefined) for (const o of list.items) yield* handlers.onEvent("ADDED", strip(o))
      else {
        const now = yield* Clock.currentTimeMillis
        for (const c of cache.replace(list.items, now)) yield* handlers.onEvent(c.type, c.object, c.previous)
      }
      if (handlers.onSynced !== undefined) yield* handlers.onSynced()
    })

  /** Watches from a list's resourceVersion until a watch fails (Gone included). */
  const watchFrom = (listedAt: string) =>
    Effect.gen(function* () {
      let resourceVersion = listedAt
      for (;;) {
        const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
        let events = 0
        yield* api.watch(kind, { ...options, resourceVersion, allowBookmarks: true, timeoutSeconds: 300 }).pipe(
          Stream.runForEach((event) =>
            Effect.gen(function* () {
              events++
              resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion
              if (event.type === "BOOKMARK") return
              if (cache === undefined) return yield* handlers.onEvent(event.type, strip(event.object))
              const { namespace, name } = event.object.metadata
              const previous = cache.peek(namespace, name)
              const written = cache.written(namespace, name)
              const readable = written ?? previous
              const kept = cache.apply(event.type, event.object)
              const unchanged =
                event.type !== "DELETED" && kept !== undefined && readable !== undefined && sameForReads(readable, kept)
              yield* handlers.onEvent(event.type, kept ?? strip(event.object), previous, unchanged, written)
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
  // The list is held only by `deliver` (the watch gets its resourceVersion), so it is garbage once delivered.
  const loop: Effect.Effect<never> = Effect.suspend(() => relist(after)).pipe(
    Effect.flatMap((list) => {
      after = undefined
      const listedAt = list.resourceVersion
      return Effect.andThen(
        deliver(list),
        Effect.suspend(() => watchFrom(listedAt))
      )
    }),
    Effect.catch((e) =>
      Effect.sync(() => {
        after = e.reason._tag === "Gone" ? undefined : e
      })
    ),
    Effect.forever
  )
  return loop.pipe(Effect.annotateLogs({ informer: label }))
}
