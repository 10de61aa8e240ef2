/**
 * Executor of PatchVirtualMachine: merge-patch the VM's owned fields to `after`, with the observed resourceVersion
 * as precondition. Labels and annotations of others survive (merge); owned arrays are replaced (interfaces and
 * networks only when the networks changed). Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { vmPatch } from "../../domain/manifests/VirtualMachine.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const executePatchVirtualMachine = Effect.fn("Executor.PatchVirtualMachine")(function* (
  a: Extract<Action, { _tag: "PatchVirtualMachine" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* retryApi(apiRetry)(api.patch(a.target, vmPatch(a.before, a.after), { resourceVersion: a.resourceVersion }))
})
