/**
 * Executor of DeleteDataVolume: delete our DataVolume with the observed resourceVersion as precondition; its claim
 * follows by owner reference (background propagation). NotFound is success. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeDeleteDataVolume = Effect.fn("Executor.DeleteDataVolume")(function* (
  a: Extract<Action, { _tag: "DeleteDataVolume" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api.delete(a.target, { resourceVersion: a.resourceVersion, propagationPolicy: "Background" }).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "NotFound", () => Effect.void)
  )
})
