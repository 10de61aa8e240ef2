/**
 * Executor of CreateNetworkConfiguration (ADR 0013): claim the MACs in the operator's fleet index (when it runs one),
 * then create the NetworkConfiguration on the supervisor with the controller owner reference to the Machine;
 * AlreadyExists of ours is success (the watch cache lagged behind an earlier create). Effects layer.
 */
import { Effect, Option } from "effect"
import type { Action } from "../../domain/Action.ts"
import { networkConfigurationManifest } from "../../domain/manifests/NetworkConfiguration.ts"
import { refKey, refOf } from "../../domain/ObjectRef.ts"
import { Supervisor } from "../Clusters.ts"
import { MacAddressTaken } from "../ExecutionError.ts"
import { NetworkCache } from "../NetworkCache.ts"
import { apiRetry, retryApi } from "../retry.ts"
import { createOwned } from "./createOwned.ts"

/** Claims the planned MACs for the NetworkConfiguration, or fails with the first one another holds. */
export const claimMacs = Effect.fnUntraced(function* (
  target: { readonly namespace?: string | undefined; readonly name: string },
  macs: ReadonlyArray<string>
) {
  const cache = yield* NetworkCache
  const conflict = cache?.claim(refKey(target), macs)
  if (conflict !== undefined) return yield* new MacAddressTaken(conflict)
})

export const executeCreateNetworkConfiguration = Effect.fn("Executor.CreateNetworkConfiguration")(function* (
  a: Extract<Action, { _tag: "CreateNetworkConfiguration" }>
) {
  const supervisor = yield* Supervisor
  yield* claimMacs(
    a.target,
    a.after.interfaces.map((i) => i.macAddress)
  )
  // A plan made from files has no Machine uid: the owner reference takes the live Machine's.
  let uid = a.after.owner.uid
  if (uid === "") {
    const machine = yield* retryApi(apiRetry)(supervisor.get(refOf("Machine", a.after.owner.name, a.after.namespace)))
    if (Option.isNone(machine) || machine.value.metadata.uid === undefined) return
    uid = machine.value.metadata.uid
  }
  yield* createOwned(
    supervisor,
    a.target,
    networkConfigurationManifest({ ...a.after, owner: { ...a.after.owner, uid } })
  )
})
