/**
 * A watch response decoded into events on Effect's Stream: the body as text, split into lines (a last line without a
 * newline is kept when the server closes the stream), one JSON event a line. Effects layer (cluster service), used
 * by the live KubeApi (`liveApi.ts`), which builds the request.
 * - No response within `responseTimeoutMillis` (a dead pooled connection, an overloaded server): a Timeout failure.
 * - No byte for `idleTimeoutMillis` once streaming (a half-open connection, or simply nothing happening): the stream
 *   ends normally, without a partial line; the caller watches again from its last resourceVersion.
 * - A non-200 answer and an `ERROR` event map through `reasonFromHttp` (410 Expired → Gone); a line that is not a
 *   JSON event, or an event whose object does not decode, fails the stream (never skipped); so does a single event
 *   larger than `MAX_WATCH_LINE`, instead of growing without bound.
 * The request is aborted when the stream ends, fails or is interrupted by its consumer.
 */
import { Effect, Option, Predicate, Schema, Stream } from "effect"
import { KubeObject } from "../../domain/KubeObject.ts"
import type { WatchEvent, WatchEventType } from "../KubeApi.ts"
import {
  type KubeApiError,
  type KubeApiErrorReason,
  KubeStatus,
  kubeApiError,
  reasonFromHttp,
  reasonFromTransport,
  ServerError
} from "../KubeApiError.ts"
import type { KindRef } from "./KindTable.ts"
import type { StreamingBody } from "./transport.ts"

/** A single watch event larger than this (no newline yet) fails the watch. */
export const MAX_WATCH_LINE = 64 * 1024 * 1024

/** What a streaming GET answers (`transport.ts`): the body is consumed as bytes or read whole as text. */
export interface WatchResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: StreamingBody
}

export interface WatchStreamOptions {
  /** Sends the request; `signal` aborts it. */
  readonly open: (signal: AbortSignal) => Promise<WatchResponse>
  /** The kind watched: lines' objects often omit apiVersion/kind. */
  readonly kind: KindRef
  /** For messages: `Kind in namespace`. */
  readonly target: string
  readonly responseTimeoutMillis: number
  readonly idleTimeoutMillis: number
}

const decodeObject = Schema.decodeUnknownOption(KubeObject)
const decodeJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))
const decodeStatus = Schema.decodeUnknownOption(KubeStatus)
const decodeEvent = Schema.decodeUnknownOption(Schema.Struct({ type: Schema.String, object: Schema.Unknown }))

const withType = (kind: KindRef, raw: unknown): unknown =>
  Predicate.isObject(raw) ? { apiVersion: kind.apiVersion, kind: kind.kind, ...raw } : raw

const unexpectedBody = (what: string) => new ServerError({ message: `unexpected response body: ${what}` })

/** The idle timeout fired: not a failure of the watch, only the end of this request. */
class WatchIdle extends Schema.TaggedError<WatchIdle>()("WatchIdle", {}) {}

export const watchStream = (options: WatchStreamOptions): Stream.Stream<WatchEvent, KubeApiError> => {
  const fail = (reason: KubeApiErrorReason) => kubeApiError("watch", options.target, reason)

  /** One line's event. BOOKMARK objects carry only metadata (no name). */
  const decodeLine = (line: string): Effect.Effect<WatchEvent, KubeApiError> => {
    const event = Option.flatMap(decodeJson(line), decodeEvent)
    if (Option.isNone(event)) return Effect.fail(fail(unexpectedBody("malformed watch event")))
    const { type, object: raw } = event.value
    if (type === "ERROR") {
      const code = Option.getOrUndefined(Option.flatMapNullishOr(decodeStatus(raw), (s) => s.code))
      return Effect.fail(fail(reasonFromHttp({ status: code ?? 500, body: raw })))
    }
    const typed =
      type === "BOOKMARK" && Predicate.isObject(raw)
        ? { ...raw, metadata: { name: "", ...(raw as { metadata?: object }).metadata } }
        : raw
    const object = decodeObject(withType(options.kind, typed))
    return Option.isNone(object)
      ? Effect.fail(fail(unexpectedBody(`bad ${type} event object`)))
      : Effect.succeed({ type: type as WatchEventType, object: object.value })
  }

  return Stream.unwrap(
    Effect.gen(function* () {
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (c) => Effect.sync(() => c.abort())
      )
      const response = yield* Effect.tryPromise({
        try: (signal) => options.open(AbortSignal.any([signal, controller.signal])),
        catch: (cause) => fail(reasonFromTransport(cause))
      }).pipe(
        Effect.timeoutOrElse({
          duration: options.responseTimeoutMillis,
          orElse: () =>
            Effect.fail(
              fail(
                reasonFromTransport(
                  new DOMException(`no response within ${options.responseTimeoutMillis} ms`, "TimeoutError")
                )
              )
            )
        })
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => response.body.destroy()))
      if (response.status !== 200) {
        const body = yield* Effect.tryPromise({
          try: () => response.body.text(),
          catch: (cause) => fail(reasonFromTransport(cause))
        })
        return Stream.fail(fail(reasonFromHttp({ status: response.status, body, headers: response.headers })))
      }
      // Characters since the last newline: one event may not grow past MAX_WATCH_LINE.
      let partial = 0
      const bounded = (text: string): Effect.Effect<string, KubeApiError> => {
        const newline = text.lastIndexOf("\n")
        partial = newline < 0 ? partial + text.length : text.length - newline - 1
        return partial > MAX_WATCH_LINE
          ? Effect.fail(fail(unexpectedBody("watch event too large")))
          : Effect.succeed(text)
      }
      return Stream.fromAsyncIterable(response.body, (cause) => fail(reasonFromTransport(cause))).pipe(
        // Checked on every pull: silence for this long, not the total duration, ends the request.
        Stream.timeoutOrElse({ duration: options.idleTimeoutMillis, orElse: () => Stream.fail(new WatchIdle()) }),
        Stream.decodeText(),
        Stream.mapEffect(bounded),
        Stream.splitLines,
        Stream.filter((line) => line.trim() !== ""),
        Stream.mapEffect(decodeLine),
        // Idle: end here; a partial line is dropped, as the next watch resumes from the last resourceVersion.
        Stream.catchTag("WatchIdle", () => Stream.empty)
      )
    })
  )
}
