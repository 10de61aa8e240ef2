/**
 * Where the operator's decision traces go (ADR 0015): `DECISION_TRACE=log` (one log line per trace, the trace as its
 * message) or a JSON-lines file; off by default. Runtime layer.
 * Bounded twice: reconciles offer their traces to a ring buffer of `DECISION_TRACE_BUFFER` entries (Effect's sliding
 * queue: when the writer falls behind, the oldest waiting trace is dropped and counted, never the reconcile slowed);
 * a file is rotated when it reaches `maxFileBytes` (the old one becomes `FILE.1`, replacing the previous `FILE.1`), so
 * at most two files of that size are on disk. Traces are redacted and encoded by the writer
 * (`domain/decisionTrace.ts`), off the reconcile's path.
 */
import { appendFile, rename, stat } from "node:fs/promises"
import { Effect, Layer, Queue } from "effect"
import { type DecisionTrace, traceLine } from "../domain/decisionTrace.ts"
import { DecisionRecorder } from "../effects/DecisionRecorder.ts"

export type TraceTarget = { readonly _tag: "Log" } | { readonly _tag: "File"; readonly path: string }

export interface DecisionTraceOptions {
  readonly target: TraceTarget
  /** Traces waiting for the writer at most; default 1,024. */
  readonly capacity?: number | undefined
  /** A file is rotated at this size; default 64 MiB. */
  readonly maxFileBytes?: number | undefined
}

export const DEFAULT_TRACE_BUFFER = 1024
export const DEFAULT_TRACE_FILE_BYTES = 64 * 1024 * 1024

/** `DECISION_TRACE`: `off`/empty (none), `log`, or a file path. */
export const parseTraceTarget = (value: string | undefined): TraceTarget | undefined =>
  value === undefined || value === "" || value === "off"
    ? undefined
    : value === "log"
      ? { _tag: "Log" }
      : { _tag: "File", path: value }

/** Appends lines to the file, rotating it first when it would grow past the bound. */
const fileWriter = (path: string, maxBytes: number) => {
  let size: number | undefined
  return (lines: ReadonlyArray<string>) =>
    Effect.tryPromise(async () => {
      const text = `${lines.join("\n")}\n`
      const bytes = Buffer.byteLength(text)
      size ??= await stat(path).then(
        (s) => s.size,
        () => 0
      )
      if (size > 0 && size + bytes > maxBytes) {
        await rename(path, `${path}.1`)
        size = 0
      }
      await appendFile(path, text)
      size += bytes
    })
}

/**
 * The recorder and its writer, for the life of the layer's scope: `DecisionRecorder` offers to the ring buffer, a
 * background fiber drains it. A write that fails is logged and the batch dropped (tracing never stops the operator).
 */
export const decisionTracesLayer = (options: DecisionTraceOptions): Layer.Layer<never> =>
  Layer.effect(
    DecisionRecorder,
    Effect.gen(function* () {
      const capacity = options.capacity ?? DEFAULT_TRACE_BUFFER
      const queue = yield* Queue.sliding<DecisionTrace>(capacity)
      let dropped = 0
      const write =
        options.target._tag === "File"
          ? fileWriter(options.target.path, options.maxFileBytes ?? DEFAULT_TRACE_FILE_BYTES)
          : (lines: ReadonlyArray<string>) =>
              Effect.forEach(lines, (l) => Effect.logInfo(JSON.parse(l)), { discard: true })
      // A batch taken is written even if the writer is being stopped: only the wait for one is interruptible.
      const drain = Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const batch = yield* restore(Queue.takeBetween(queue, 1, 256))
          if (dropped > 0) {
            yield* Effect.logWarning(
              `decision traces: ${dropped} dropped (the writer fell behind; ring of ${capacity})`
            )
            dropped = 0
          }
          yield* Effect.suspend(() => write(batch.map(traceLine))).pipe(
            Effect.catchCause((cause) => Effect.logWarning("decision traces: a write failed; batch dropped", cause))
          )
        })
      ).pipe(Effect.forever)
      // Finalizers run last-added first: the writer stops (finishing its batch), then what still waits is written, so
      // the last decisions before a stop are not lost.
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(Queue.clear(queue), (rest) =>
          rest.length === 0 ? Effect.void : Effect.ignore(write(rest.map(traceLine)))
        )
      )
      yield* Effect.forkScoped(drain)
      return {
        enabled: true,
        record: (trace: DecisionTrace) =>
          Effect.sync(() => {
            if (Queue.sizeUnsafe(queue) >= capacity) dropped++
            Queue.offerUnsafe(queue, trace)
          })
      }
    })
  )
