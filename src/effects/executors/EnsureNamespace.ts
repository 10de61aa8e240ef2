/**
 * Executor of EnsureNamespace: create the remote namespace with our label. AlreadyExists (a concurrent create, or a
 * namespace made since observe) is success, whoever made it: namespaces are reused, never updated. Only `create` is
 * ever sent for namespaces, so the remote identity needs no update, patch or delete on them. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { namespaceManifest } from "../../domain/manifests/Namespace.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeEnsureNamespace = Effect.fn("Executor.EnsureNamespace")(function* (
  a: Extract<Action, { _tag: "EnsureNamespace" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* api.create(a.target, namespaceManifest(a.target.name, a.labels)).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "AlreadyExists", () => Effect.void)
  )
})
