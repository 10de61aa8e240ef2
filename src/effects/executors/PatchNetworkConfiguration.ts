/**
 * Executor of PatchNetworkConfiguration (ADR 0013): claim the MACs, then read the NetworkConfiguration fresh and, if
 * it still lacks an interface or records another MAC, write `spec.networkInterfaces` with the fresh resourceVersion as
 * precondition (a Conflict re-reads; an IP operator's fields of an entry are kept). Only ours is written (our labels,
 * or a controller owner reference to the Machine). Effects layer.
 */
import { Effect, Option } from "effect"
import type { Action } from "../../domain/Action.ts"
import { isOwnedBy } from "../../domain/labels.ts"
import { asRecord } from "../../domain/manifests/jsonPath.ts"
import {
  mergeInterfaces,
  missingInterfaces,
  observeNetworkConfiguration
} from "../../domain/manifests/NetworkConfiguration.ts"
import { refKey } from "../../domain/ObjectRef.ts"
import { Supervisor } from "../Clusters.ts"
import { NotOurs } from "../ExecutionError.ts"
import { apiRetry, conflictRetry, retryApi } from "../retry.ts"
import { claimMacs } from "./CreateNetworkConfiguration.ts"

export const executePatchNetworkConfiguration = Effect.fn("Executor.PatchNetworkConfiguration")(function* (
  a: Extract<Action, { _tag: "PatchNetworkConfiguration" }>
) {
  const supervisor = yield* Supervisor
  yield* claimMacs(
    a.target,
    a.after.interfaces.map((i) => i.macAddress)
  )
  const attempt = Effect.gen(function* () {
    const fresh = yield* retryApi(apiRetry)(supervisor.get(a.target))
    if (Option.isNone(fresh)) return "done" as const
    const nc = observeNetworkConfiguration(fresh.value)
    const ours =
      isOwnedBy(nc.labels, a.after.owner.name) ||
      (a.after.owner.uid !== "" && nc.machineOwners.includes(a.after.owner.uid))
    if (!ours) return "notOurs" as const
    if (missingInterfaces(nc, a.after.interfaces).length === 0) return "done" as const
    const live = asRecord(fresh.value.spec).networkInterfaces
    // resourceVersion precondition: a write by someone else in between makes this a Conflict, and it re-reads.
    yield* supervisor.patch(
      a.target,
      { spec: { networkInterfaces: mergeInterfaces(Array.isArray(live) ? live : [], a.after.interfaces) } },
      { resourceVersion: fresh.value.metadata.resourceVersion }
    )
    return "done" as const
  })
  const outcome = yield* Effect.retry(attempt, { schedule: conflictRetry, while: (e) => e.reason._tag === "Conflict" })
  if (outcome === "notOurs") return yield* new NotOurs({ target: `NetworkConfiguration ${refKey(a.target)}` })
})
