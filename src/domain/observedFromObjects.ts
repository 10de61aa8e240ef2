/**
 * Builds the remote facts of one Machine from a list of raw remote objects (a snapshot file, or a test's cluster).
 * Domain layer: pure. The queries are the live observer's (`remoteReads.ts`), answered from the list, so the offline
 * plan reads exactly what the operator reads. Objects not in the list are absent: callers that could not read a kind
 * must say Unknown themselves instead of passing an empty list.
 */
import type { KubeObject } from "./KubeObject.ts"
import type { Machine } from "./Machine.ts"
import type { RemoteState, VitistackFacts } from "./ObservedState.ts"
import { type Answer, getNames, listSelects, type Query } from "./reads.ts"
import { queriesOf, remoteReads, remoteStateFrom, storageReadsFor } from "./remoteReads.ts"
import type { Settings } from "./Settings.ts"
import { vitistackReadContext } from "./vitistackNetwork.ts"
import {
  macOwnerReadsFor,
  vitistackFactsFrom,
  vitistackQueries,
  vitistackReads,
  withMacOwners
} from "./vitistackReads.ts"

/** Answers one query from the objects. */
export const answerFromObjects =
  (objects: ReadonlyArray<KubeObject>) =>
  (q: Query): Answer => {
    if (q._tag === "List") return { _tag: "Found", objects: objects.filter((o) => listSelects(q, o)) }

    const found = objects.find((o) => getNames(q, o))
    return { _tag: "Found", objects: found === undefined ? [] : [found] }
  }

/**
 * The remote facts from the objects; with `settings`, the storage round too (when a claim is to be created).
 * `vitistack`: the supervisor's vitistack facts, which say which VLAN NAD to read and whether cloud-init is needed.
 */
export const remoteStateFromObjects = (
  machine: Machine,
  cluster: string,
  objects: ReadonlyArray<KubeObject>,
  settings?: Settings,
  vitistack?: VitistackFacts
): RemoteState => {
  const reads = remoteReads(machine, { vitistack: vitistackReadContext(machine, vitistack), settings })
  const answer = answerFromObjects(objects)
  const state = remoteStateFrom(cluster, reads, queriesOf(reads).map(answer))
  const storage = settings === undefined ? undefined : storageReadsFor(machine, settings, state)
  if (storage === undefined) return state
  const fact = storage.fact(storage.queries.map(answer))
  return fact._tag === "Present" ? { ...state, storage: fact.value } : state
}

/**
 * The vitistack facts of a live Machine from supervisor objects (the offline plan's files, ADR 0013): its
 * NetworkNamespace(s) and NetworkConfiguration; then, given the placed cluster and its remote facts, who holds the MACs
 * it may derive (the NetworkConfigurations in the list, in list order). Undefined when the Machine reads none.
 */
export const vitistackFactsFromObjects = (
  machine: Machine,
  objects: ReadonlyArray<KubeObject>
): VitistackFacts | undefined => {
  const reads = vitistackReads(machine)
  return reads === undefined
    ? undefined
    : vitistackFactsFrom(reads, vitistackQueries(reads).map(answerFromObjects(objects)))
}

export const macOwnersFromObjects = (
  machine: Machine,
  facts: VitistackFacts,
  cluster: string,
  settings: Settings,
  remote: RemoteState | undefined,
  objects: ReadonlyArray<KubeObject>
): VitistackFacts => {
  const reads = macOwnerReadsFor(machine, facts, cluster, settings, remote)
  return reads === undefined ? facts : withMacOwners(facts, reads.fact(reads.queries.map(answerFromObjects(objects))))
}
