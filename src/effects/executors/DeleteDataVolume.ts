/**
 * Executor of DeleteDataVolume: delete our DataVolume with the observed resourceVersion as precondition; its claim
 * goes first by owner reference (foreground propagation), so the DataVolume is gone only once its claim is: a claim
 * left without its DataVolume counts as imported (a completed one that CDI collected), which a failed import's is not.
 * NotFound is success. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeDeleteDataVolume = Effect.fn("Executor.DeleteDataVolume")(function* (
  a: Extract<Action, { _tag: "DeleteDataVolume" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api.delete(a.target, { resourceVersion: a.resourceVersion, propagationPolicy: "Foreground" }).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "NotFound", () => Effect.void)
  )
})
