/**
 * A client-side token bucket per cluster client (client-go's `--kube-api-qps`/`--kube-api-burst`): every request but
 * a watch takes a token; without one it waits its turn (first come, first served) rather than fail. Effects layer
 * (cluster service). The operator puts one in front of each remote (`run --remote-qps/--remote-burst`), so a storm of
 * reconciles (a relist waking every Machine of a cluster) reaches the remote's apiserver at a bounded rate and its
 * priority and fairness queues do not overflow into 429s (ADR 0017). Time comes from the Clock.
 */
import { Clock, Duration, Effect } from "effect"
import type { KubeApiService } from "../KubeApi.ts"

export interface RateLimit {
  /** Sustained requests per second. */
  readonly qps: number
  /** Requests that may go at once after a quiet spell. */
  readonly burst: number
}

/** `api` with every request but `watch` taking a token from a bucket of `limit`. */
export const rateLimited = (api: KubeApiService, limit: RateLimit): KubeApiService => {
  let tokens = limit.burst
  let at: number | undefined
  // A request that finds no token reserves the next one (tokens go negative) and waits until it is due.
  const take = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    tokens = Math.min(limit.burst, tokens + (at === undefined ? 0 : ((now - at) / 1000) * limit.qps))
    at = now
    tokens -= 1
    return tokens >= 0 ? Effect.void : Effect.sleep(Duration.millis((-tokens / limit.qps) * 1000))
  })
  const limited =
    <Args extends ReadonlyArray<unknown>, A, E>(call: (...args: Args) => Effect.Effect<A, E>) =>
    (...args: Args): Effect.Effect<A, E> =>
      Effect.andThen(take, call(...args))
  return {
    get: limited(api.get),
    list: limited(api.list),
    create: limited(api.create),
    patch: limited(api.patch),
    apply: limited(api.apply),
    delete: limited(api.delete),
    updateStatus: limited(api.updateStatus),
    discover: limited(api.discover),
    watch: api.watch
  }
}
