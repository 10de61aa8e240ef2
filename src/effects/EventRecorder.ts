/**
 * Kubernetes Events on Machines, aggregated: the same reason and message for the same Machine bump the count of
 * one Event instead of creating one per retry. Effects layer. It needs only `create` and `patch` on events (no
 * reads): counts are remembered in a bounded in-process cache, as client-go's recorder does. Recording never fails a
 * reconcile: a failed write is logged and dropped. Messages come from actions and errors, never from Secrets; any URL in
 * one is written in its display form, credentials masked (ADR 0018).
 * `layerAsync` (the operator's) takes events off the reconcile's path (ADR 0017): `record` only puts the event in a
 * bounded pending set; a writer fiber sends it, and the same reason and message again within a window of its last write
 * become one write with a count (client-go's correlator); when the set is full an event is dropped and counted, never
 * waited for.
 * `layer` writes inline (tests that read the Event right after recording it).
 */
import { Context, Duration, Effect, Layer, Queue } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { refOf } from "../domain/ObjectRef.ts"
import { redactUrlsIn } from "../domain/redactUrl.ts"
import { shortHash } from "../domain/shortHash.ts"
import { Supervisor } from "./Clusters.ts"
import type { KubeApiService } from "./KubeApi.ts"

export const EVENT_SOURCE = "kubevirt-operator"
const CACHE_LIMIT = 10_000

export interface EventTarget {
  readonly name: string
  readonly namespace: string
  readonly uid?: string | undefined
}

export type EventType = "Normal" | "Warning"

const eventName = (t: EventTarget, reason: string, message: string) =>
  `${t.name}.${shortHash(`${t.uid ?? ""}/${reason}/${message}`)}`

/** The Event object of a first recording (the benchmark's floor writes the same shape). */
export const eventObject = (
  name: string,
  target: EventTarget,
  type: EventType,
  reason: string,
  message: string,
  count: number,
  first: string,
  last: string
): KubeObject => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { name, namespace: target.namespace },
  involvedObject: {
    apiVersion: "vitistack.io/v1alpha1",
    kind: "Machine",
    name: target.name,
    namespace: target.namespace,
    ...(target.uid === undefined ? {} : { uid: target.uid })
  },
  type,
  reason,
  message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
  count,
  firstTimestamp: first,
  lastTimestamp: last,
  source: { component: EVENT_SOURCE },
  reportingComponent: EVENT_SOURCE
})

/**
 * Writes `count` more occurrences of an event: creates it, or bumps the count of the one recorded before (the count
 * is remembered in a bounded cache, so no read is needed).
 */
const makeWriter = (supervisor: KubeApiService) => {
  const counts = new Map<string, number>()
  const remember = (name: string, count: number) => {
    counts.delete(name)
    counts.set(name, count)
    if (counts.size > CACHE_LIMIT) counts.delete(counts.keys().next().value!)
  }
  return (
    target: EventTarget,
    type: EventType,
    reason: string,
    given: string,
    occurrences: { readonly count: number; readonly first: string; readonly last: string }
  ) => {
    // The last line of defence: callers pass rendered actions and display-form errors already.
    const message = redactUrlsIn(given)
    const ref = refOf("Event", eventName(target, reason, message), target.namespace)
    const create = () =>
      supervisor
        .create(
          ref,
          eventObject(ref.name, target, type, reason, message, occurrences.count, occurrences.first, occurrences.last)
        )
        .pipe(
          Effect.tap(() => Effect.sync(() => remember(ref.name, occurrences.count))),
          // Recorded before (another replica, or before a restart): bump its time; the count restarts here.
          Effect.catchReason("KubeApiError", "AlreadyExists", () =>
            Effect.tap(supervisor.patch(ref, { lastTimestamp: occurrences.last }), () =>
              Effect.sync(() => remember(ref.name, occurrences.count))
            )
          )
        )
    const known = counts.get(ref.name)
    return (
      known === undefined
        ? create()
        : supervisor.patch(ref, { count: known + occurrences.count, lastTimestamp: occurrences.last }).pipe(
            Effect.tap(() => Effect.sync(() => remember(ref.name, known + occurrences.count))),
            // Events expire (1 h by default): record it anew.
            Effect.catchReason("KubeApiError", "NotFound", () => create())
          )
    ).pipe(Effect.asVoid)
  }
}

export interface AsyncEventOptions {
  /** Distinct events waiting to be written at most; more are dropped (counted). Default 4,096 (client-go's cache). */
  readonly capacity?: number | undefined
  /** How long an event waits for the same one before it is written (the correlation window). Default 1 second. */
  readonly window?: Duration.Input | undefined
  /** Events written at once. Default 4. */
  readonly concurrency?: number | undefined
  /** An event was dropped: the pending set was full, or its write failed. */
  readonly onDropped?: ((reason: "full" | "failed") => void) | undefined
}

export class EventRecorder extends Context.Service<
  EventRecorder,
  { readonly record: (target: EventTarget, type: EventType, reason: string, message: string) => Effect.Effect<void> }
>()("kubevirt-operator/effects/EventRecorder") {
  /** Writes each event as it is recorded (the reconcile waits for it). */
  static readonly layer: Layer.Layer<EventRecorder, never, Supervisor> = Layer.effect(
    EventRecorder,
    Effect.gen(function* () {
      const write = makeWriter(yield* Supervisor)
      const record = (target: EventTarget, type: EventType, reason: string, message: string) =>
        Effect.gen(function* () {
          const now = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
          yield* write(target, type, reason, message, { count: 1, first: now, last: now })
        }).pipe(
          Effect.catch((e) =>
            Effect.logWarning(
              `cannot record event ${reason} on Machine ${target.namespace}/${target.name}: ${e.message}`
            )
          )
        )
      return EventRecorder.of({ record })
    })
  )

  /**
   * Records without waiting: a writer fiber of the layer's scope sends the events. A new event goes out at once; the
   * same reason and message again within `window` of its last write is held until the window has passed and then
   * written once with the count of its occurrences (a retry storm costs one write per window).
   */
  static readonly layerAsync = (options: AsyncEventOptions = {}): Layer.Layer<EventRecorder, never, Supervisor> =>
    Layer.effect(
      EventRecorder,
      Effect.gen(function* () {
        const write = makeWriter(yield* Supervisor)
        const capacity = options.capacity ?? 4096
        const windowMillis = Duration.toMillis(Duration.fromInputUnsafe(options.window ?? Duration.seconds(1)))
        interface Pending {
          readonly target: EventTarget
          readonly type: EventType
          readonly reason: string
          readonly message: string
          count: number
          readonly first: string
          last: string
          /** Not written before this time (the window after its last write). */
          readonly due: number
        }
        const pending = new Map<string, Pending>()
        /** When each event was last written (bounded, oldest forgotten first). */
        const writtenAt = new Map<string, number>()
        const wrote = (key: string, at: number) => {
          writtenAt.delete(key)
          writtenAt.set(key, at)
          if (writtenAt.size > capacity) writtenAt.delete(writtenAt.keys().next().value!)
        }
        // One signal at most: the writer sends everything due when it wakes.
        const signal = yield* Queue.dropping<void>(1)
        const send = (key: string, e: Pending) =>
          write(e.target, e.type, e.reason, e.message, e).pipe(
            Effect.andThen(Effect.clockWith((c) => c.currentTimeMillis)),
            Effect.map((at) => wrote(key, at)),
            Effect.catch((error) =>
              Effect.andThen(
                Effect.sync(() => options.onDropped?.("failed")),
                Effect.logWarning(
                  `cannot record event ${e.reason} on Machine ${e.target.namespace}/${e.target.name}: ${error.message}`
                )
              )
            )
          )
        /** Sends what is due (all, when `everything`); returns when the next held event is due. */
        const flush = (everything: boolean) =>
          Effect.gen(function* () {
            const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
            const due = [...pending].filter(([, e]) => everything || e.due <= now)
            for (const [key] of due) pending.delete(key)
            yield* Effect.forEach(due, ([key, e]) => send(key, e), {
              concurrency: options.concurrency ?? 4,
              discard: true
            })
            let next: number | undefined
            for (const e of pending.values()) next = next === undefined ? e.due : Math.min(next, e.due)
            return next
          })
        yield* Effect.forkScoped(
          Effect.forever(
            Effect.gen(function* () {
              yield* Queue.take(signal)
              const next = yield* flush(false)
              if (next === undefined) return
              // Held events: wake again when the first is due.
              const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
              yield* Effect.forkScoped(
                Effect.sleep(Duration.millis(Math.max(0, next - now))).pipe(
                  Effect.andThen(Effect.sync(() => Queue.offerUnsafe(signal, undefined)))
                )
              )
            })
          )
        )
        // Stopping: what is pending is written (for a few seconds at most).
        yield* Effect.addFinalizer(() => flush(true).pipe(Effect.timeoutOption("5 seconds"), Effect.asVoid))
        const record = (target: EventTarget, type: EventType, reason: string, message: string) =>
          Effect.flatMap(
            Effect.clockWith((c) => c.currentTimeMillis),
            (millis) =>
              Effect.sync(() => {
                const now = new Date(millis).toISOString()
                const key = `${target.namespace}/${eventName(target, reason, message)}`
                const same = pending.get(key)
                if (same !== undefined) {
                  same.count++
                  same.last = now
                  return
                }
                if (pending.size >= capacity) {
                  options.onDropped?.("full")
                  return
                }
                const last = writtenAt.get(key)
                const due = last === undefined || millis - last >= windowMillis ? millis : last + windowMillis
                pending.set(key, { target, type, reason, message, count: 1, first: now, last: now, due })
                Queue.offerUnsafe(signal, undefined)
              })
          )
        return EventRecorder.of({ record })
      })
    )
}
