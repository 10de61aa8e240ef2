/**
 * The work queue of Machine keys (`namespace/name`), with client-go's guarantees. Runtime layer.
 * - Deduplicated: a key waiting in the queue is there once, however often it is added.
 * - Never two workers on one key: a key added while it is being processed is queued again when `done` is called.
 * - Delayed adds keep the earliest time (kube-rs `scheduler_dedupe_should_keep_earlier_item`), and an add now
 *   supersedes a delayed one: the reconcile it brings decides again whether the key needs another (its outcome), so
 *   a backoff or requeue timer set before it would only bring a second reconcile of the same state.
 * - Per-key exponential backoff (base × 2^failures, capped) for failures, reset by `forget`, combined with a global
 *   token bucket so a storm of failures cannot hammer the API servers.
 * - Two priorities: a key added as `"high"` (a change of its remote objects, a confirmation right after its actions)
 *   is taken before every `"normal"` one, and a waiting key added again as high moves ahead. A VM's status therefore
 *   reaches its Machine while a backlog of new Machines waits (ADR 0017); within a priority, first in, first out.
 * Time comes from Effect's Clock, so tests run it on the TestClock.
 */
import { Duration, Effect, Queue, type Scope } from "effect"
import { exponentialDelayMillis, queueBackoff } from "../effects/retry.ts"

/** Defaults: `queueBackoff` in effects/retry.ts. */
export interface WorkQueueOptions {
  /** First backoff of a failing key. Default 100 ms. */
  readonly baseDelay?: Duration.Input
  /** Longest backoff of a failing key. Default 5 minutes. */
  readonly maxDelay?: Duration.Input
  /** Global rate of rate-limited adds (tokens per second) and burst. Defaults 10/s, burst 100. */
  readonly qps?: number
  readonly burst?: number
}

export interface WorkQueueHooks {
  readonly onAdd?: (key: string) => void
  readonly onRetry?: (key: string) => void
  readonly onDepth?: (depth: number) => void
  /** Seconds a key waited between being queued and being taken. */
  readonly onLatency?: (seconds: number) => void
}

/** `high` is taken before every `normal` key. */
export type Priority = "high" | "normal"

export interface WorkQueue {
  /**
   * Queue the key now (deduplicated); `high` moves it ahead of every normal key. Default normal. A delayed add
   * pending for the key is dropped.
   */
  readonly add: (key: string, priority?: Priority) => Effect.Effect<void>
  /** Queue the key after `delay`; an earlier pending time for the same key wins. */
  readonly addAfter: (key: string, delay: Duration.Input) => Effect.Effect<void>
  /** Queue the key after its backoff (which grows with each call until `forget`), capped at `maxDelay` when given. */
  readonly addRateLimited: (key: string, maxDelay?: Duration.Input) => Effect.Effect<void>
  /** Reset the key's failure count. */
  readonly forget: (key: string) => Effect.Effect<void>
  /** The number of failures recorded for the key. */
  readonly failures: (key: string) => number
  /** Wait for the next key that is not being processed; the caller must call `done` with it. */
  readonly take: Effect.Effect<string>
  /** Mark the key processed; if it was added meanwhile, it is queued again. */
  readonly done: (key: string) => Effect.Effect<void>
  /** Keys waiting (not counting delayed ones). */
  readonly depth: () => number
}

/** Builds a queue whose delay timers live in `scope`. */
export const makeWorkQueue = (
  options: WorkQueueOptions = {},
  hooks: WorkQueueHooks = {}
): Effect.Effect<WorkQueue, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    // One token per key in a lane; `lanes[0]` (high) is emptied first. A key moved to the high lane leaves a stale
    // entry in the normal lane, skipped when reached (`laneOf` says where a key really is).
    const ready = yield* Queue.unbounded<void>()
    const lanes: [Array<string>, Array<string>] = [[], []]
    const heads = [0, 0]
    const laneOf = new Map<string, 0 | 1>()
    const toLane = (key: string, lane: 0 | 1) =>
      Effect.suspend(() => {
        const at = laneOf.get(key)
        if (at !== undefined && at <= lane) return Effect.void
        laneOf.set(key, lane)
        lanes[lane].push(key)
        return at === undefined ? Queue.offer(ready, undefined).pipe(Effect.asVoid) : Effect.void
      })
    const next = (): string => {
      for (const lane of [0, 1] as const) {
        const queue = lanes[lane]
        while (heads[lane]! < queue.length) {
          const key = queue[heads[lane]!]!
          heads[lane]!++
          if (laneOf.get(key) === lane) {
            laneOf.delete(key)
            if (heads[lane]! > 1024 && heads[lane]! * 2 > queue.length) {
              queue.splice(0, heads[lane]!)
              heads[lane] = 0
            }
            return key
          }
        }
      }
      throw new Error("work queue: a token without a key")
    }
    const dirty = new Map<string, 0 | 1>()
    const processing = new Set<string>()
    const queuedAt = new Map<string, number>()
    const pendingUntil = new Map<string, number>()
    const failureCount = new Map<string, number>()
    const base = Duration.toMillis(Duration.fromInputUnsafe(options.baseDelay ?? queueBackoff.baseDelay))
    const max = Duration.toMillis(Duration.fromInputUnsafe(options.maxDelay ?? queueBackoff.maxDelay))
    const qps = options.qps ?? queueBackoff.qps
    const burst = options.burst ?? queueBackoff.burst
    let tokens = burst
    let tokensAt = 0

    const add = (key: string, priority: Priority = "normal") =>
      Effect.gen(function* () {
        hooks.onAdd?.(key)
        pendingUntil.delete(key)
        const lane = priority === "high" ? 0 : 1
        const before = dirty.get(key)
        if (before !== undefined && before <= lane) return
        dirty.set(key, lane)
        if (before === undefined) queuedAt.set(key, yield* Effect.clockWith((c) => c.currentTimeMillis))
        // A key being processed is re-queued by `done`, so a second worker never gets it.
        if (!processing.has(key)) yield* toLane(key, lane)
        hooks.onDepth?.(dirty.size)
      })

    const addAfter = (key: string, delay: Duration.Input) =>
      Effect.gen(function* () {
        const ms = Duration.toMillis(Duration.fromInputUnsafe(delay))
        if (ms <= 0) return yield* add(key)
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const due = now + ms
        const pending = pendingUntil.get(key)
        if (pending !== undefined && pending <= due) return
        pendingUntil.set(key, due)
        yield* Effect.forkIn(
          Effect.sleep(ms).pipe(
            Effect.andThen(
              Effect.suspend(() => {
                // Only the timer of the earliest pending time fires the add.
                if (pendingUntil.get(key) !== due) return Effect.void
                pendingUntil.delete(key)
                return add(key)
              })
            )
          ),
          scope
        )
      })

    const addRateLimited = (key: string, maxDelay?: Duration.Input) =>
      Effect.gen(function* () {
        hooks.onRetry?.(key)
        const n = failureCount.get(key) ?? 0
        failureCount.set(key, n + 1)
        const cap = maxDelay === undefined ? max : Math.min(max, Duration.toMillis(Duration.fromInputUnsafe(maxDelay)))
        const perKey = exponentialDelayMillis(base, cap, n)
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        tokens = Math.min(burst, tokens + ((now - tokensAt) / 1000) * qps)
        tokensAt = now
        tokens -= 1
        const bucket = tokens >= 0 ? 0 : (-tokens / qps) * 1000
        yield* addAfter(key, Duration.millis(Math.max(perKey, bucket)))
      })

    const take = Effect.gen(function* () {
      yield* Queue.take(ready)
      const key = next()
      dirty.delete(key)
      processing.add(key)
      const since = queuedAt.get(key)
      queuedAt.delete(key)
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      if (since !== undefined) hooks.onLatency?.((now - since) / 1000)
      hooks.onDepth?.(dirty.size)
      return key
    })

    const done = (key: string) =>
      Effect.suspend(() => {
        processing.delete(key)
        const lane = dirty.get(key)
        return lane === undefined ? Effect.void : toLane(key, lane)
      })

    return {
      add,
      addAfter,
      addRateLimited,
      forget: (key) => Effect.sync(() => void failureCount.delete(key)),
      failures: (key) => failureCount.get(key) ?? 0,
      take,
      done,
      depth: () => dirty.size
    } satisfies WorkQueue
  })
