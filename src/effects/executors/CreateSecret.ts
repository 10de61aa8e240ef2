/**
 * Executor of CreateSecret: write the cloud-init content the reconcile rendered with exactly the planned digest
 * (`CloudInitContent`), or nothing; AlreadyExists of ours is success (the next plan compares digests). Effects layer.
 * The content is never logged: only the Secret's name reaches spans and errors.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { cloudInitSecretManifest } from "../../domain/manifests/CloudInitSecret.ts"
import { contentFor } from "../CloudInitContent.ts"
import { Remotes } from "../Clusters.ts"
import { createOwned } from "./createOwned.ts"

export const executeCreateSecret = Effect.fn("Executor.CreateSecret")(function* (
  a: Extract<Action, { _tag: "CreateSecret" }>
) {
  const payload = yield* contentFor(a.after.digest)
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* createOwned(api, a.target, cloudInitSecretManifest(a.after, payload))
})
