/**
 * Named, bounded retry schedules for cluster calls, and `retryApi`, which retries only errors whose reason
 * is retryable (Conflict, TooManyRequests, ServerError, Timeout, Transport). Effects layer.
 * Every schedule is exponential, jittered and capped in attempts, so no failure loops forever.
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
 * For re-establishing a watch after a retryable failure: 1 s doubling to 30 s, jittered, at most 10
 * retries; after that the failure surfaces and the runtime's supervision decides.
 */
export const watchRetry: Schedule.Schedule<Duration.Duration, KubeApiError> = honourRetryAfter(
  Schedule.min([Schedule.exponential("1 second"), Schedule.spaced("30 seconds")]).pipe(
    Schedule.jittered,
    Schedule.upTo({ times: 10 }),
    Schedule.setInputType<KubeApiError>()
  )
)

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
