/** Executor of CreatePvc: create the claim; AlreadyExists of our claim is success. Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { pvcManifest } from "../../domain/manifests/Pvc.ts"
import { Remotes } from "../Clusters.ts"
import { createOwned } from "./createOwned.ts"

export const executeCreatePvc = Effect.fn("Executor.CreatePvc")(function* (a: Extract<Action, { _tag: "CreatePvc" }>) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* createOwned(api, a.target, pvcManifest(a.after))
})
