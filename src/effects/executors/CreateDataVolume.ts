/** Executor of CreateDataVolume: create the DataVolume (CDI imports it); AlreadyExists of ours is success. Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { dataVolumeManifest } from "../../domain/manifests/DataVolume.ts"
import { Remotes } from "../Clusters.ts"
import { createOwned } from "./createOwned.ts"

export const executeCreateDataVolume = Effect.fn("Executor.CreateDataVolume")(function* (
  a: Extract<Action, { _tag: "CreateDataVolume" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* createOwned(api, a.target, dataVolumeManifest(a.after))
})
