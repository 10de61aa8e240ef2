/**
 * What a live Machine reads on the supervisor for vitistack networking (ADR 0013), as data in two rounds, shared by
 * the live observer (`effects/observe.ts`, which answers from the operator's watch cache when it has one) and the
 * offline one (`observedFromObjects.ts`): first its NetworkNamespace(s) and its NetworkConfiguration; then, once the
 * placed cluster's facts are known and only when an interface needs a new MAC, who in the fleet holds the MACs it may
 * derive. Domain layer: pure.
 */
import type { Fact } from "./Fact.ts"
import type { Machine } from "./Machine.ts"
import type { ObservedNetworkConfiguration } from "./NetworkConfigurationSpec.ts"
import type { ObservedNetworkNamespace } from "./NetworkNamespaceSpec.ts"
import { liveMacs, macOwnerReads, macsToCheck, networkConfigurationReads } from "./networkConfiguration.ts"
import { planNetworks } from "./networks.ts"
import type { RemoteState, VitistackFacts } from "./ObservedState.ts"
import type { Answer, Query, Reads } from "./reads.ts"
import type { Settings } from "./Settings.ts"
import { networkNamespaceReads, vitistackNetwork } from "./vitistackNetwork.ts"

/** The first round: NetworkNamespace(s) and NetworkConfiguration. */
export interface VitistackReads {
  readonly networkNamespaces: Reads<ReadonlyArray<ObservedNetworkNamespace>>
  readonly networkConfiguration: Reads<ObservedNetworkConfiguration>
}

/** The first round's reads; undefined when the Machine needs none (it is being deleted, or names no valid object). */
export const vitistackReads = (machine: Machine): VitistackReads | undefined => {
  const networkNamespaces = networkNamespaceReads(machine)
  const networkConfiguration = networkConfigurationReads(machine)
  return networkNamespaces === undefined || networkConfiguration === undefined
    ? undefined
    : { networkNamespaces, networkConfiguration }
}

export const vitistackQueries = (reads: VitistackReads): ReadonlyArray<Query> => [
  ...reads.networkNamespaces.queries,
  ...reads.networkConfiguration.queries
]

/** The first round's facts from the answers to `vitistackQueries(reads)`, in order. */
export const vitistackFactsFrom = (reads: VitistackReads, answers: ReadonlyArray<Answer>): VitistackFacts => {
  const n = reads.networkNamespaces.queries.length
  return {
    networkNamespaces: reads.networkNamespaces.fact(answers.slice(0, n)),
    networkConfiguration: reads.networkConfiguration.fact(answers.slice(n))
  }
}

/**
 * The second round: who holds the MACs the Machine may derive (every derivation of each interface that has neither
 * a recorded MAC nor one on the live VM). Undefined when no interface needs one.
 */
export const macOwnerReadsFor = (
  machine: Machine,
  facts: VitistackFacts,
  cluster: string,
  settings: Settings,
  remote: RemoteState | undefined
): Reads<Readonly<Record<string, string>>> | undefined => {
  const v = vitistackNetwork(machine, facts)
  if (v._tag !== "Resolved") return undefined
  const networks = planNetworks(machine, [], { network: v.primary, networkNamespace: v.networkNamespace.name })
  return macOwnerReads(
    macsToCheck({
      machine,
      cluster,
      settings,
      networks,
      networkConfiguration: facts.networkConfiguration,
      live: liveMacs(remote)
    })
  )
}

/** The facts with the second round's answer. */
export const withMacOwners = (
  facts: VitistackFacts,
  macOwners: Fact<Readonly<Record<string, string>>>
): VitistackFacts => ({ ...facts, macOwners })
