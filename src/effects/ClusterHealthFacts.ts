/**
 * How a reconcile learns the health of the cluster its Machine is placed on (ADR 0012): a reference the operator
 * provides from its health checks, which observe reads into the observed state; by default nothing is known (the
 * offline `plan`, tests), and the planner decides from the observed facts alone. Effects layer.
 */
import { Context } from "effect"
import type { ClusterHealth } from "../domain/ClusterHealth.ts"

export type ClusterHealthLookup = (cluster: string) => ClusterHealth | undefined

export const ClusterHealthFacts = Context.Reference<ClusterHealthLookup>(
  "kubevirt-operator/effects/ClusterHealthFacts",
  { defaultValue: () => () => undefined }
)
