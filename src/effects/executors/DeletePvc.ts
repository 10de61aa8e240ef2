/**
 * Executor of DeletePvc: delete our claim with the observed resourceVersion as precondition (a claim replaced since
 * observe is not deleted). NotFound is success: it is already gone. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeDeletePvc = Effect.fn("Executor.DeletePvc")(function* (a: Extract<Action, { _tag: "DeletePvc" }>) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api.delete(a.target, { resourceVersion: a.resourceVersion }).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "NotFound", () => Effect.void)
  )
})
