/**
 * Everything read on the placed remote cluster for one Machine: each RemoteState fact comes from the capability that
 * owns it (namespace, VM and VMI, disks, networks). Domain layer: pure. `effects/observe.ts` answers the queries from
 * a live cluster, `observedFromObjects.ts` from a list of objects; `remoteStateFrom` builds the same RemoteState from
 * either set of answers.
 */
import { diskReads } from "./disks.ts"
import type { Fact } from "./Fact.ts"
import type { Machine } from "./Machine.ts"
import { namespaceReads } from "./namespace.ts"
import { networkReads } from "./networks.ts"
import type { RemoteState } from "./ObservedState.ts"
import type { Answer, Query, Reads } from "./reads.ts"
import { vmiReads, vmReads } from "./virtualMachine.ts"

type FactOf<F> = F extends { readonly _tag: "Present"; readonly value: infer A } ? A : never

/** The reads of every RemoteState fact. */
export type RemoteReads = {
  readonly [K in Exclude<keyof RemoteState, "cluster">]: Reads<FactOf<RemoteState[K]>>
}

/** The remote reads of one Machine, in RemoteState's field order. */
export const remoteReads = (machine: Machine): RemoteReads => ({
  namespace: namespaceReads(machine),
  vm: vmReads(machine),
  vmi: vmiReads(machine),
  pvcs: diskReads(machine),
  nads: networkReads(machine)
})

const fields = ["namespace", "vm", "vmi", "pvcs", "nads"] as const satisfies ReadonlyArray<keyof RemoteReads>

/** Every query of the reads, in a fixed order (field by field). */
export const queriesOf = (reads: RemoteReads): ReadonlyArray<Query> => fields.flatMap((f) => reads[f].queries)

/** The RemoteState from the answers to `queriesOf(reads)`, given in the same order. */
export const remoteStateFrom = (cluster: string, reads: RemoteReads, answers: ReadonlyArray<Answer>): RemoteState => {
  let at = 0
  const factOf = <A>(r: Reads<A>): Fact<A> => {
    const mine = answers.slice(at, at + r.queries.length)
    at += r.queries.length
    return r.fact(mine)
  }
  return {
    cluster,
    namespace: factOf(reads.namespace),
    vm: factOf(reads.vm),
    vmi: factOf(reads.vmi),
    pvcs: factOf(reads.pvcs),
    nads: factOf(reads.nads)
  }
}
