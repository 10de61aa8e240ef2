/**
 * Executor of CreateNetworkAttachmentDefinition (ADR 0013, opt-in): create the VLAN NAD with the Go operator's bridge
 * config and our labels. AlreadyExists is success whoever created it: an existing NAD is used as it is and never
 * modified (two Machines of a namespace may race to create it, reference W27). Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { networkAttachmentManifest } from "../../domain/manifests/NetworkAttachmentDefinition.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executeCreateNetworkAttachmentDefinition = Effect.fn("Executor.CreateNetworkAttachmentDefinition")(
  function* (a: Extract<Action, { _tag: "CreateNetworkAttachmentDefinition" }>) {
    const api = yield* (yield* Remotes).get(a.cluster)
    yield* api.create(a.target, networkAttachmentManifest(a.after)).pipe(
      retryApi(apiRetry),
      Effect.asVoid,
      Effect.catchReason("KubeApiError", "AlreadyExists", () => Effect.void)
    )
  }
)
