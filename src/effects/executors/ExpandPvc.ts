/**
 * Executor of ExpandPvc: merge-patch the claim's requested storage, with the observed resourceVersion as
 * precondition (a claim changed since observe gives Conflict and a fresh plan, never a blind overwrite). Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { pvcExpandPatch } from "../../domain/manifests/Pvc.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeExpandPvc = Effect.fn("Executor.ExpandPvc")(function* (a: Extract<Action, { _tag: "ExpandPvc" }>) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* retryApi(apiRetry)(api.patch(a.target, pvcExpandPatch(a.after), { resourceVersion: a.resourceVersion }))
})
