/**
 * Everything the planner may look at, as facts (Present | Absent | Unknown). Domain layer: pure schemas.
 * `src/effects/observe.ts` gathers it from the clusters; `observedFromObjects.ts` builds it from raw objects (the
 * same function serves snapshots for the offline `plan`). Lists are sets: the planner sorts before it decides.
 */
import { Schema } from "effect"
import { ApprovalPolicy } from "./ApprovalPolicy.ts"
import { ObservedSecret } from "./CloudInitSecretSpec.ts"
import { ClusterHealth } from "./ClusterHealth.ts"
import { ObservedDataVolume } from "./DataVolumeSpec.ts"
import { Fact } from "./Fact.ts"
import { MachineClass } from "./MachineClass.ts"
import { NetworkAttachmentUsage } from "./NetworkAttachmentSpec.ts"
import { ObservedNetworkConfiguration } from "./NetworkConfigurationSpec.ts"
import { ObservedNetworkNamespace } from "./NetworkNamespaceSpec.ts"
import { RenderedCloudInit } from "./RenderedCloudInit.ts"
import { Tenancy } from "./tenancy.ts"
import { VmSpec } from "./VmSpec.ts"

const Str = Schema.String
const Labels = Schema.Record(Str, Str)

export const ObservedNamespace = Schema.Struct({ name: Str, labels: Labels, deleting: Schema.Boolean })
export type ObservedNamespace = typeof ObservedNamespace.Type

export const ObservedPvc = Schema.Struct({
  name: Str,
  labels: Labels,
  resourceVersion: Str,
  /** Requested size (spec.resources.requests.storage). */
  storage: Str,
  storageClassName: Schema.optionalKey(Str),
  volumeMode: Schema.optionalKey(Str),
  accessModes: Schema.Array(Str),
  deleting: Schema.Boolean
})
export type ObservedPvc = typeof ObservedPvc.Type

export const ObservedVm = Schema.Struct({
  name: Str,
  labels: Labels,
  resourceVersion: Str,
  /** The owned fields as they are on the live object. */
  spec: VmSpec,
  printableStatus: Schema.optionalKey(Str),
  deleting: Schema.Boolean
})
export type ObservedVm = typeof ObservedVm.Type

export const ObservedVmi = Schema.Struct({
  phase: Schema.optionalKey(Str),
  interfaces: Schema.Array(
    Schema.Struct({
      name: Schema.optionalKey(Str),
      mac: Schema.optionalKey(Str),
      ipAddresses: Schema.Array(Str),
      linkState: Schema.optionalKey(Str),
      infoSource: Schema.optionalKey(Str)
    })
  ),
  volumes: Schema.Array(
    Schema.Struct({
      name: Str,
      target: Schema.optionalKey(Str),
      pvcName: Schema.optionalKey(Str),
      volumeMode: Schema.optionalKey(Str),
      capacity: Schema.optionalKey(Schema.Number),
      accessModes: Schema.optionalKey(Schema.Array(Str))
    })
  )
})
export type ObservedVmi = typeof ObservedVmi.Type

/** One `status.claimPropertySets[]` entry of a CDI StorageProfile. */
export const ClaimPropertySet = Schema.Struct({ accessModes: Schema.Array(Str), volumeMode: Schema.optionalKey(Str) })
export type ClaimPropertySet = typeof ClaimPropertySet.Type

/** What the remote says about storage for new PVCs (read only when a PVC is to be created; `accessModes.ts`). */
export const StorageFacts = Schema.Struct({
  /** The default StorageClass's name; Present(null): the cluster has none. */
  defaultClass: Fact(Schema.NullOr(Str)),
  /** The claim property sets of the StorageProfile of the class in use; Absent: no CDI, or no such profile. */
  profile: Fact(Schema.Array(ClaimPropertySet))
})
export type StorageFacts = typeof StorageFacts.Type

/**
 * The objects in the Machine's namespace that carry the Go operator's labels for it (ADR 0014): read only with
 * adoption on, to report those it does not adopt (its old `vm-<machine>` VMs, claims that are not the Machine's disks).
 */
export const GoOperatorObjects = Schema.Struct({ virtualMachines: Schema.Array(Str), pvcs: Schema.Array(Str) })
export type GoOperatorObjects = typeof GoOperatorObjects.Type

/** What one remote cluster holds for one Machine. */
export const RemoteState = Schema.Struct({
  /** The KubevirtConfig name of the cluster these facts come from. */
  cluster: Str,
  namespace: Fact(ObservedNamespace),
  vm: Fact(ObservedVm),
  vmi: Fact(ObservedVmi),
  /** PVCs with this Machine's desired names or with its labels (the union), in the Machine's namespace. */
  pvcs: Fact(Schema.Array(ObservedPvc)),
  /**
   * Which of the NetworkAttachmentDefinitions the Machine's networks name exist in its namespace (only those are
   * read; Unknown when one of them cannot be read).
   */
  nads: Fact(Schema.Array(Str)),
  /**
   * The Machine's DataVolumes (by label, and by their desired names); only read for a Machine with an image or ISO,
   * or being deleted (ADR 0010). Not read: absent key.
   */
  dataVolumes: Schema.optionalKey(Fact(Schema.Array(ObservedDataVolume))),
  /** The cloud-init Secret `<machine>-cloudinit`; only read for a Machine with cloud-init, or being deleted. */
  cloudInitSecret: Schema.optionalKey(Fact(ObservedSecret)),
  /** Storage facts for new PVCs; only read when a PVC is to be created. */
  storage: Schema.optionalKey(StorageFacts),
  /** The Go operator's objects for this Machine (by its labels); only read with adoption on (ADR 0014). */
  goOperator: Schema.optionalKey(Fact(GoOperatorObjects)),
  /**
   * On deletion, with `--create-network-attachments` (ADR 0013): the NADs we created in the Machine's namespace and
   * the ones its VMs still name. Not read otherwise: absent key.
   */
  networkAttachments: Schema.optionalKey(Fact(NetworkAttachmentUsage))
})
export type RemoteState = typeof RemoteState.Type

/**
 * Vitistack networking on the supervisor (ADR 0013), read for a live Machine: its NetworkNamespace, its
 * NetworkConfiguration, and, when an interface needs a new MAC, who holds the MACs it may take.
 */
export const VitistackFacts = Schema.Struct({
  /** The NetworkNamespace `spec.network.networkNamespaceName` names (empty when it does not exist), or without a
   * name every NetworkNamespace in the Machine's namespace (the Go operator's legacy lookup). */
  networkNamespaces: Fact(Schema.Array(ObservedNetworkNamespace)),
  /** NetworkConfiguration `<namespace>/<machine>`. */
  networkConfiguration: Fact(ObservedNetworkConfiguration),
  /**
   * For the MACs the Machine may derive (only those): MAC → the NetworkConfiguration (`namespace/name`) that recorded
   * it first. Read only when an interface needs a new MAC; absent key: not read.
   */
  macOwners: Schema.optionalKey(Fact(Schema.Record(Str, Str)))
})
export type VitistackFacts = typeof VitistackFacts.Type

/** Result of looking for an existing VM of this Machine on one cluster (placement rule 4). */
export const VmSearch = Schema.Struct({ cluster: Str, found: Fact(Schema.Boolean) })
export type VmSearch = typeof VmSearch.Type

export class ObservedState extends Schema.Class<ObservedState>("ObservedState")({
  /** Names of the KubevirtConfigs on the supervisor. */
  kubevirtConfigs: Fact(Schema.Array(Str)),
  /** The MachineClass the Machine names (Absent when it does not exist; Absent too when none is named). */
  machineClass: Fact(MachineClass),
  /** Per-cluster search results; only gathered when placement needs them. */
  vmSearch: Schema.Array(VmSearch),
  /** The placed cluster's state; Absent when the Machine is not placed yet; Unknown when unreachable. */
  remote: Fact(RemoteState),
  /**
   * The supervisor keys the Machine's cloud-init reads (`cloudInitPayload.ts`), by `Secret/name/key`; values stay
   * Redacted and never encode to JSON. A key not in the record was not read: it counts as Absent.
   */
  cloudInitSources: Schema.optionalKey(Schema.Record(Str, Fact(Schema.Redacted(Str, { disallowJsonEncode: true })))),
  /** The opt-in ISO size probe's answer (`--iso-size-probe`), a quantity; absent: not probed or no answer. */
  isoSize: Schema.optionalKey(Str),
  /**
   * The placed cluster's last health check (ADR 0012), when the operator has one; absent in the offline `plan` and
   * before the first check. A NotReady cluster holds the Machine back (`placement.ts`, `placedRemote`).
   */
  clusterHealth: Schema.optionalKey(ClusterHealth),
  /** Who may use the placed cluster (tenancy.ts); observed for a placed Machine, absent: not restricted. */
  tenancy: Schema.optionalKey(Fact(Tenancy)),
  /** Vitistack networking (ADR 0013); absent: not read (a Machine being deleted), which counts as no NetworkNamespace. */
  vitistack: Schema.optionalKey(VitistackFacts),
  /**
   * Whether destructive steps need approval (`governance.ts`), from the placed KubevirtConfig's and the namespace's
   * annotations; observed only when a plan has a destructive step. Absent: not observed (not required unless the
   * operator-wide setting says so).
   */
  approval: Schema.optionalKey(Fact(ApprovalPolicy)),
  /**
   * The cloud-init payload as rendered (digests, no content), in place of `cloudInitSources`: what a decision trace
   * holds (`decisionTrace.ts`). When set, the planner uses it instead of rendering from the sources.
   */
  cloudInitRendered: Schema.optionalKey(RenderedCloudInit)
}) {}
