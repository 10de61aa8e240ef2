/**
 * Every retry and backoff policy of the operator, named (G8): bounded schedules for cluster calls, and `retryApi`,
 * which retries only errors whose reason is retryable (Conflict, TooManyRequests, ServerError, Timeout, Transport);
 * the unbounded schedule of the long-running loops (informers, resolving a remote client to watch it); and the work
 * queue's per-key backoff. Effects layer. Every schedule is exponential and jittered; those for single calls are
 * capped in attempts, so no call loops forever.
 */
import { Duration, Effect, Schedule } from "effect"
import type { KubeApiError } from "./KubeApiError.ts"

/** Longest single backoff step before jitter. */
export const maxApiBackoff = Duration.seconds(10)

/** A 429's `retryAfter` stretches the next delay to at least what the server asked for. */
const honourRetryAfter = <O>(self: Schedule.Schedule<O, KubeApiError>) =>
  Schedule.modifyDelay(self, ({ duration, input }) =>
    Effect.succeed(
      input.reason._tag === "TooManyRequests" && input.reason.retryAfter !== undefined
        ? Duration.max(duration, input.reason.retryAfter)
        : duration
    )
  )

/**
 * Default for one API call: 200 ms, 400 ms, 800 ms, ... capped at 10 s, ±20 % jitter, at most 5 retries
 * (6 attempts, about 6 s of waiting in total), honouring Retry-After.
 */
export const apiRetry: Schedule.Schedule<Duration.Duration, KubeApiError> = honourRetryAfter(
  Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced(maxApiBackoff)]).pipe(
    Schedule.jittered,
    Schedule.upTo({ times: 5 }),
    Schedule.setInputType<KubeApiError>()
  )
)

/**
 * For read-modify-write loops that re-read before each attempt: Conflicts clear quickly, so start at 50 ms
 * and stop after 3 retries; a persistent Conflict means another writer is active and the next reconcile
 * should replan from fresh state.
 */
export const conflictRetry: Schedule.Schedule<Duration.Duration, KubeApiError> = Schedule.exponential("50 millis").pipe(
  Schedule.jittered,
  Schedule.upTo({ times: 3 }),
  Schedule.setInputType<KubeApiError>()
)

/**
 * For loops that must keep going (an informer relisting after a failure, resolving a remote client before watching
 * it): 1 s doubling to 30 s (client-go's reflector caps its backoff there too), ±20 % jitter, unbounded. Retry with it
 * from a fresh start after every success, so one failure after a long quiet spell waits 1 s again. The cap bounds how
 * long a cluster that answers again stays unread after a long outage.
 */
export const informerRetry: Schedule.Schedule<Duration.Duration> = Schedule.min([
  Schedule.exponential("1 second"),
  Schedule.spaced("30 seconds")
]).pipe(Schedule.jittered)

/**
 * The work queue's per-key backoff (client-go's controller rate limiter): a key that keeps failing waits
 * `baseDelay` × 2^failures, capped at `maxDelay`; and a global token bucket of `qps` tokens a second (burst `burst`)
 * so a storm of failures cannot hammer the API servers.
 */
export const queueBackoff = {
  baseDelay: Duration.millis(100),
  maxDelay: Duration.minutes(5),
  qps: 10,
  burst: 100
} as const

/** The delay after the n-th consecutive failure (from 0): `base` × 2^n, capped at `max` (milliseconds). */
export const exponentialDelayMillis = (baseMillis: number, maxMillis: number, n: number): number =>
  Math.min(maxMillis, baseMillis * 2 ** Math.min(n, 30))

/**
 * Retries `effect` on retryable KubeApiErrors only; a non-retryable error (NotFound, Forbidden, Invalid,
 * Gone, DryRun, ...) fails at once. The last error surfaces when the schedule is exhausted.
 */
export const retryApi: (
  schedule?: Schedule.Schedule<unknown, KubeApiError>
) => <A, E extends KubeApiError, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> =
  (schedule = apiRetry) =>
  <A, E extends KubeApiError, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.retry(effect, { schedule, while: (e: E) => e.isRetryable })
