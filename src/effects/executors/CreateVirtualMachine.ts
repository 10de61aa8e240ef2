/** Executor of CreateVirtualMachine: create the VM; AlreadyExists of our VM is success. Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { vmManifest } from "../../domain/manifests/VirtualMachine.ts"
import { Remotes } from "../Clusters.ts"
import { createOwned } from "./createOwned.ts"

export const executeCreateVirtualMachine = Effect.fn("Executor.CreateVirtualMachine")(function* (
  a: Extract<Action, { _tag: "CreateVirtualMachine" }>
) {
  const api = yield* (yield* Remotes).get(a.cluster)
  yield* createOwned(api, a.target, vmManifest(a.after))
})
