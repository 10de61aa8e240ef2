/**
 * Executor of DeleteVirtualMachine: delete our VM (resourceVersion precondition; background propagation so KubeVirt
 * stops the VMI). NotFound is success. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeDeleteVirtualMachine = Effect.fn("Executor.DeleteVirtualMachine")(function* (
  a: Extract<Action, { _tag: "DeleteVirtualMachine" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api.delete(a.target, { resourceVersion: a.resourceVersion, propagationPolicy: "Background" }).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "NotFound", () => Effect.void)
  )
})
