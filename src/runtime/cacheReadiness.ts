/**
 * The `/readyz` check `informers-synced`, with the same meaning on every replica (ADR 0004 §6: readiness never
 * depends on leadership). Runtime layer. The Machine and KubevirtConfig caches live inside the operator loop, which
 * runs only on the replica that holds the Lease; a standby runs none, so it has nothing to wait for and the check
 * passes there (its readiness is then what the other checks say: the supervisor answers and serves our CRDs). A
 * replica whose loop runs is ready once its caches have synced, and again not while a new loop starts over.
 */
import { Effect } from "effect"
import { booleanCheck, type HealthCheck } from "./HealthServer.ts"

export interface CacheReadiness {
  readonly check: HealthCheck
  /** Runs `loop` (the operator loop, whose caches the check follows) with the check tracking it. */
  readonly track: <A, E, R>(loop: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** The loop's caches have synced (its `onSynced`). */
  readonly synced: () => void
}

export const CACHES_NOT_SYNCED = "Machine and KubevirtConfig caches have not synced yet"

export const makeCacheReadiness = (): CacheReadiness => {
  let running = false
  let synced = false
  return {
    check: booleanCheck(
      "informers-synced",
      Effect.sync(() => !running || synced),
      CACHES_NOT_SYNCED
    ),
    track: (loop) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          running = true
          synced = false
        }),
        () => loop,
        () =>
          Effect.sync(() => {
            running = false
            synced = false
          })
      ),
    synced: () => {
      if (running) synced = true
    }
  }
}
