/**
 * Executor of DeleteNetworkAttachmentDefinition (ADR 0013, opt-in): delete a NAD the operator created, with the
 * observed resourceVersion as precondition (one changed since it was read stays and is replanned). NotFound is success.
 * Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeDeleteNetworkAttachmentDefinition = Effect.fn("Executor.DeleteNetworkAttachmentDefinition")(
  function* (a: Extract<Action, { _tag: "DeleteNetworkAttachmentDefinition" }>) {
    const api = yield* (yield* Remotes).get(a.cluster)
    yield* api.delete(a.target, { resourceVersion: a.resourceVersion }).pipe(
      retryApi(apiRetry),
      Effect.asVoid,
      Effect.catchReason("KubeApiError", "NotFound", () => Effect.void)
    )
  }
)
