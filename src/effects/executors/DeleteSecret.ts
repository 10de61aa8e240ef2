/** Executor of DeleteSecret: delete our cloud-init Secret (resourceVersion precondition); NotFound is success. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeDeleteSecret = Effect.fn("Executor.DeleteSecret")(function* (
  a: Extract<Action, { _tag: "DeleteSecret" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api.delete(a.target, { resourceVersion: a.resourceVersion }).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "NotFound", () => Effect.void)
  )
})
