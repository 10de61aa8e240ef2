/**
 * How a reconcile learns the health of the cluster its Machine is placed on (ADR 0012): a reference the operator
 * provides from its health checks; by default nothing is known (the offline `plan`, tests), and the planner decides
 * from the observed facts alone. Effects layer.
 */
import { Context } from "effect"
import type { ClusterHealth } from "../domain/ClusterHealth.ts"
import { ObservedState } from "../domain/ObservedState.ts"

export type ClusterHealthLookup = (cluster: string) => ClusterHealth | undefined

export const ClusterHealthFacts = Context.Reference<ClusterHealthLookup>(
  "kubevirt-operator/effects/ClusterHealthFacts",
  { defaultValue: () => () => undefined }
)

/** `observed` with the placed cluster's health, when there is a placed cluster and its health is known. */
export const withClusterHealth = (observed: ObservedState, lookup: ClusterHealthLookup): ObservedState => {
  const health = observed.remote._tag === "Present" ? lookup(observed.remote.value.cluster) : undefined
  return health === undefined ? observed : ObservedState.make({ ...observed, clusterHealth: health })
}
