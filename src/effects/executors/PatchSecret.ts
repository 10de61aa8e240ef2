/**
 * Executor of PatchSecret: replace the cloud-init content (the planned digest's, from `CloudInitContent`) with a
 * merge patch and the observed resourceVersion as precondition, so a Secret changed since observe is not
 * overwritten. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { cloudInitSecretPatch } from "../../domain/manifests/CloudInitSecret.ts"
import { contentFor } from "../CloudInitContent.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executePatchSecret = Effect.fn("Executor.PatchSecret")(function* (
  a: Extract<Action, { _tag: "PatchSecret" }>
) {
  const payload = yield* contentFor(a.after.digest)
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api
    .patch(a.target, cloudInitSecretPatch(a.after, payload), { resourceVersion: a.resourceVersion })
    .pipe(retryApi(apiRetry), Effect.asVoid)
})
