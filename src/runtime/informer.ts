/**
 * A list-then-watch loop over one kind, the shape of client-go's reflector. Runtime layer.
 * It lists (delivering every object as ADDED), then watches from the list's resourceVersion, resumes from the last
 * resourceVersion when a watch ends, relists on 410 Gone, and after any other failure waits (jittered, growing,
 * capped) and relists. `managedFields` is stripped before objects reach the handler. It runs until interrupted.
 */
import { Duration, Effect, Random, Stream } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import type { KubeApiService, ListOptions, WatchEventType } from "../effects/KubeApi.ts"
import type { KubeApiError } from "../effects/KubeApiError.ts"
import type { KindRef } from "../effects/kube/clients.ts"

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

/** Delay before relisting after the n-th consecutive failure: 1 s doubling to 60 s, ±20 % jitter. */
export const informerBackoff = (failures: number, jitter: number): Duration.Duration =>
  Duration.millis(Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)) * (0.8 + 0.4 * jitter))

export const runInformer = (
  api: KubeApiService,
  kind: KindRef,
  options: ListOptions,
  handlers: InformerHandlers,
  label: string
) => {
  let failures = 0
  const cycle = Effect.gen(function* () {
    const list = yield* api.list(kind, options)
    failures = 0
    for (const o of list.items) yield* handlers.onEvent("ADDED", strip(o))
    if (handlers.onSynced !== undefined) yield* handlers.onSynced()
    let resourceVersion = list.resourceVersion
    // Watch until the server says Gone (then relist at once) or the request fails (then back off and relist).
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
        )
      )
      // A watch that ends at once without an event must not be re-opened in a tight loop (it would pile up
      // requests and memory): wait a second first.
      const ended = yield* Effect.clockWith((c) => c.currentTimeMillis)
      if (events === 0 && ended - started < QUICK_END_MS) yield* Effect.sleep(QUICK_END_MS)
    }
  })
  const loop: Effect.Effect<never> = cycle.pipe(
    Effect.catch((e) =>
      Effect.gen(function* () {
        if (e.reason._tag === "Gone") return
        if (handlers.onError !== undefined) yield* handlers.onError(e)
        yield* Effect.logWarning(`${label}: ${e.message}; relisting after backoff`)
        const jitter = yield* Random.next
        yield* Effect.sleep(informerBackoff(failures++, jitter))
      })
    ),
    Effect.forever
  )
  return loop.pipe(Effect.annotateLogs({ informer: label }))
}
