/**
 * A circuit breaker per remote cluster (issue "Hardening", item 2): after `failureThreshold` timeouts or transport
 * failures in a row the cluster is open, and every call fails at once with reason `Unavailable` (no request sent,
 * not retried) instead of holding a worker for a request deadline; after a cooldown one call goes through as a
 * probe; its success closes the breaker, its failure reopens it for twice as long (up to `maxCooldown`). Any answer
 * of the server (a 404, a 409) is a success here: the cluster is there. Watches pass through (their loop has its own
 * backoff). Effects layer (cluster service), a decorator like readOnly and instrumented.
 */
import { Clock, Duration, Effect } from "effect"
import type { KubeApiService } from "../KubeApi.ts"
import {
  describeCollection,
  describeGroup,
  describeObject,
  type KubeApiError,
  kubeApiError,
  Unavailable
} from "../KubeApiError.ts"

export interface CircuitBreakerOptions {
  /** Consecutive timeouts or transport failures that open the breaker. Default 3. */
  readonly failureThreshold?: number
  /** First cooldown before a probe. Default 5 seconds. */
  readonly cooldown?: Duration.Input
  /** Longest cooldown after failed probes. Default 60 seconds. */
  readonly maxCooldown?: Duration.Input
}

type State =
  | { readonly _tag: "Closed"; readonly failures: number }
  | { readonly _tag: "Open"; readonly until: number; readonly cooldownMillis: number; readonly failures: number }
  | { readonly _tag: "Probing"; readonly cooldownMillis: number; readonly failures: number }

const isOutage = (e: KubeApiError): boolean => e.reason._tag === "Timeout" || e.reason._tag === "Transport"

/** `api` behind a breaker for `cluster`. The state lives with the returned service (one per client). */
export const withCircuitBreaker = (
  api: KubeApiService,
  cluster: string,
  options: CircuitBreakerOptions = {}
): KubeApiService => {
  const threshold = options.failureThreshold ?? 3
  const baseMillis = Duration.toMillis(Duration.fromInputUnsafe(options.cooldown ?? Duration.seconds(5)))
  const maxMillis = Duration.toMillis(Duration.fromInputUnsafe(options.maxCooldown ?? Duration.seconds(60)))
  let state: State = { _tag: "Closed", failures: 0 }

  const guard = <A>(verb: KubeApiError["verb"], target: string, call: Effect.Effect<A, KubeApiError>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      let probe = false
      if (state._tag === "Probing" || (state._tag === "Open" && now < state.until)) {
        const wait = state._tag === "Open" ? Math.ceil((state.until - now) / 1000) : 0
        return yield* Effect.fail(
          kubeApiError(
            verb,
            target,
            new Unavailable({
              message: `cluster '${cluster}' is not answering (${state.failures} timeouts or connection failures in a row); ${
                wait > 0 ? `the next request is sent in ${wait} s` : "a probe request is under way"
              }`
            })
          )
        )
      }
      if (state._tag === "Open") {
        state = { _tag: "Probing", cooldownMillis: state.cooldownMillis, failures: state.failures }
        probe = true
      }
      return yield* call.pipe(
        Effect.onExit((exit) =>
          Effect.map(Clock.currentTimeMillis, (end) => {
            const outage =
              exit._tag === "Failure" && exit.cause.reasons.some((r) => r._tag === "Fail" && isOutage(r.error))
            const interrupted =
              exit._tag === "Failure" && !outage && exit.cause.reasons.every((r) => r._tag === "Interrupt")
            if (interrupted) {
              // A probe nobody waited for decides nothing: the next call probes again.
              if (probe && state._tag === "Probing")
                state = { _tag: "Open", until: end, cooldownMillis: state.cooldownMillis, failures: state.failures }
              return
            }
            if (!outage) {
              state = { _tag: "Closed", failures: 0 }
              return
            }
            const failures = state.failures + 1
            if (probe || state._tag === "Probing") {
              const cooldownMillis = Math.min(
                maxMillis,
                (state._tag === "Closed" ? baseMillis : state.cooldownMillis) * 2
              )
              state = { _tag: "Open", until: end + cooldownMillis, cooldownMillis, failures }
            } else if (state._tag === "Closed" && failures >= threshold)
              state = { _tag: "Open", until: end + baseMillis, cooldownMillis: baseMillis, failures }
            else if (state._tag === "Closed") state = { _tag: "Closed", failures }
          })
        )
      )
    })

  return {
    get: (ref) => guard("get", describeObject(ref), api.get(ref)),
    list: (kind, opts) => guard("list", describeCollection(kind.kind, opts?.namespace), api.list(kind, opts)),
    create: (ref, body) => guard("create", describeObject(ref), api.create(ref, body)),
    patch: (ref, patch, opts) => guard("patch", describeObject(ref), api.patch(ref, patch, opts)),
    apply: (ref, body, opts) => guard("apply", describeObject(ref), api.apply(ref, body, opts)),
    delete: (ref, opts) => guard("delete", describeObject(ref), api.delete(ref, opts)),
    updateStatus: (ref, status, opts) =>
      guard("updateStatus", describeObject(ref), api.updateStatus(ref, status, opts)),
    discover: (group) => guard("discover", describeGroup(group), api.discover(group)),
    watch: api.watch
  }
}
