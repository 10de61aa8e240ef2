/**
 * Everything read on the placed remote cluster for one Machine: each RemoteState fact comes from the capability that
 * owns it (namespace, VM and VMI, disks, networks, boot media, cloud-init, adoption). Domain layer: pure.
 * `effects/observe.ts` answers the queries from a live cluster, `observedFromObjects.ts` from a list of objects;
 * `remoteStateFrom` builds the same RemoteState from either set of answers. Storage facts are a second round
 * (`storageReadsFor`): read only when a PVC is about to be created, since they depend on what the first round found.
 */
import { adoptionReads } from "./adoption.ts"
import { bootMediaReads } from "./bootMedia.ts"
import { cloudInitSecretReads } from "./cloudInit.ts"
import { diskReads, storageReads, unclaimedDisks } from "./disks.ts"
import type { Fact } from "./Fact.ts"
import type { Machine } from "./Machine.ts"
import { namespaceReads } from "./namespace.ts"
import { networkReads } from "./networks.ts"
import type { RemoteState, StorageFacts } from "./ObservedState.ts"
import type { Answer, Query, Reads } from "./reads.ts"
import type { Settings } from "./Settings.ts"
import { vmiReads, vmReads } from "./virtualMachine.ts"
import { networkAttachmentUsageReads, type VitistackReadContext } from "./vitistackNetwork.ts"

type FactOf<F> = F extends { readonly _tag: "Present"; readonly value: infer A } ? A : never

const required = ["namespace", "vm", "vmi", "pvcs", "nads"] as const
const optional = ["dataVolumes", "cloudInitSecret", "networkAttachments", "goOperator"] as const

/** The reads of the RemoteState facts: always the first five; the others only when the Machine needs them. */
export type RemoteReads = {
  readonly [K in (typeof required)[number]]: Reads<FactOf<RemoteState[K]>>
} & {
  readonly [K in (typeof optional)[number]]: Reads<FactOf<NonNullable<RemoteState[K]>>> | undefined
}

/**
 * What the remote reads need from the supervisor and the operator's settings: the NetworkNamespace's NAD and whether
 * it is static (ADR 0013), whether deletion cleans up NADs (`--create-network-attachments`), and whether the Go
 * operator's objects are adopted (ADR 0014: its reads only then).
 */
export interface RemoteReadContext {
  readonly vitistack?: VitistackReadContext | undefined
  readonly settings?: Settings | undefined
}

/** The remote reads of one Machine, in RemoteState's field order. */
export const remoteReads = (machine: Machine, context: RemoteReadContext = {}): RemoteReads => ({
  namespace: namespaceReads(machine),
  vm: vmReads(machine),
  vmi: vmiReads(machine),
  pvcs: diskReads(machine),
  nads: networkReads(machine, context.vitistack?.nad),
  dataVolumes: bootMediaReads(machine),
  cloudInitSecret: cloudInitSecretReads(machine, context.vitistack?.staticIp),
  networkAttachments: networkAttachmentUsageReads(machine, context.settings),
  goOperator: adoptionReads(machine, context.settings)
})

const readsOf = (reads: RemoteReads): ReadonlyArray<Reads<unknown>> => [
  ...required.map((f) => reads[f] as Reads<unknown>),
  ...optional.flatMap((f) => (reads[f] === undefined ? [] : [reads[f] as Reads<unknown>]))
]

/** Every query of the reads, in a fixed order (field by field). */
export const queriesOf = (reads: RemoteReads): ReadonlyArray<Query> => readsOf(reads).flatMap((r) => r.queries)

/** The RemoteState from the answers to `queriesOf(reads)`, given in the same order. */
export const remoteStateFrom = (cluster: string, reads: RemoteReads, answers: ReadonlyArray<Answer>): RemoteState => {
  let at = 0
  const factOf = <A>(r: Reads<A>): Fact<A> => {
    const mine = answers.slice(at, at + r.queries.length)
    at += r.queries.length
    return r.fact(mine)
  }
  const state: RemoteState = {
    cluster,
    namespace: factOf(reads.namespace),
    vm: factOf(reads.vm),
    vmi: factOf(reads.vmi),
    pvcs: factOf(reads.pvcs),
    nads: factOf(reads.nads)
  }
  const dataVolumes = reads.dataVolumes === undefined ? undefined : factOf(reads.dataVolumes)
  const cloudInitSecret = reads.cloudInitSecret === undefined ? undefined : factOf(reads.cloudInitSecret)
  const networkAttachments = reads.networkAttachments === undefined ? undefined : factOf(reads.networkAttachments)
  const goOperator = reads.goOperator === undefined ? undefined : factOf(reads.goOperator)
  return {
    ...state,
    ...(dataVolumes === undefined ? {} : { dataVolumes }),
    ...(cloudInitSecret === undefined ? {} : { cloudInitSecret }),
    ...(networkAttachments === undefined ? {} : { networkAttachments }),
    ...(goOperator === undefined ? {} : { goOperator })
  }
}

/** The second round: storage facts, when a plain disk's claim is absent (it is about to be created). */
export const storageReadsFor = (
  machine: Machine,
  settings: Settings,
  remote: RemoteState
): Reads<StorageFacts> | undefined => (unclaimedDisks(machine, remote.pvcs) ? storageReads(settings) : undefined)
