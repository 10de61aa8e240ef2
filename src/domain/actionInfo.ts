/**
 * What is known about each kind of action, in one table typed by the Action union (as the executor table is): where
 * it writes, its Terraform-style glyph, the status failure reason and message, and its plan line. Domain layer: pure.
 * A new action does not compile until it has an entry, so it cannot fall back silently to a default classification,
 * status reason or rendering.
 */
import type { Action, ActionOf, ActionTag } from "./Action.ts"
import { describeSource } from "./bootSource.ts"
import type { CloudInitSecretSpec } from "./CloudInitSecretSpec.ts"
import { renderSummary } from "./cloudInitPayload.ts"
import type { NetworkConfigurationSpec } from "./NetworkConfigurationSpec.ts"
import { refKey } from "./ObjectRef.ts"
import type { VmNetwork } from "./VmSpec.ts"

export interface ActionInfo<T extends ActionTag> {
  /** Where the executor writes: the supervisor's Machine, or the remote cluster named by the action's `cluster`. */
  readonly scope: "supervisor" | "remote"
  /** The plan glyph: `+` create, `~` change, `-` destroy. */
  readonly change: "create" | "change" | "destroy"
  /** `status.failureReason` when executing it fails (CamelCase, a condition reason). */
  readonly failureReason: string
  /** `status.failureMessage` when executing it fails: `<failureMessage>: <the error>`. */
  readonly failureMessage: string
  /** What the plan line shows after the target (empty, or starting with a space). */
  readonly detail: (a: ActionOf<T>) => string
  /**
   * Whether it loses data or takes effect only through a restart of the guest: the steps the opt-in approval policy
   * holds for a person (`governance.ts`). Deleting a claim or a DataVolume; a VM patch that needs a restart.
   */
  readonly destructive: (a: ActionOf<T>) => boolean
  /**
   * No Event when it runs (default: one Event per executed action): bookkeeping on the Machine itself that its own
   * metadata shows (the finalizer). Saves a write per Machine (ADR 0017).
   */
  readonly quiet?: true
}

const never = () => false
const always = () => true

/**
 * `pod` for the pod network, `<interface>=<nad>` for a custom one (`*` marks the primary), and the MAC in brackets
 * when it is fixed (ADR 0013).
 */
const networkText = (n: VmNetwork): string =>
  `${n.nad === undefined ? "pod" : `${n.name}=${n.nad}${n.primary === true ? "*" : ""}`}${n.macAddress === undefined ? "" : `[${n.macAddress}]`}`

/** The VM has the pod network with no fixed MAC and nothing else (then `plan` does not mention networks). */
const podOnly = (networks: ReadonlyArray<VmNetwork>): boolean =>
  networks.every((n) => n.nad === undefined && n.macAddress === undefined)

/** `networkNamespace=team-a/vlan-2101 interfaces=vlan2101=02:12:...` */
const networkConfigurationText = (s: NetworkConfigurationSpec) =>
  ` name=${s.shortName} networkNamespace=${s.namespace}/${s.networkNamespaceName} interfaces=${s.interfaces.map((i) => `${i.name}=${i.macAddress}`).join(",")}`

const finalizerDetail = (a: { readonly finalizer: string }) => ` finalizer ${a.finalizer}`

/** `kind=NoCloud userdata=sha256:1a2b3c4d (1.2 KiB)`: digests and sizes, never content. */
const secretDetail = (s: CloudInitSecretSpec) =>
  ` kind=${s.kind} ${renderSummary("userdata", s.userdata)}${s.networkdata === undefined ? "" : ` ${renderSummary("networkdata", s.networkdata)}`}`

const diskText = (d: { readonly claimName: string; readonly dataVolume?: boolean; readonly cdrom?: boolean }) =>
  `${d.claimName}${d.cdrom === true ? "(cdrom)" : d.dataVolume === true ? "(dv)" : ""}`

/** `labels +managed-by=…,+source-machine=…`: what adopting adds (ADR 0014). */
const adoptDetail = (a: {
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}) => {
  const added = (r: Readonly<Record<string, string>>) =>
    Object.entries(r)
      .map(([k, v]) => `+${k}=${v}`)
      .join(",")
  return ` labels ${added(a.labels)}${Object.keys(a.annotations).length === 0 ? "" : ` annotations ${added(a.annotations)}`}`
}

export const actionInfo: { readonly [T in ActionTag]: ActionInfo<T> } = {
  EnsureNamespace: {
    scope: "remote",
    change: "create",
    destructive: never,
    failureReason: "NamespaceCreateFailed",
    failureMessage: "failed to create namespace on remote cluster",
    detail: (a) =>
      ` labels=${Object.entries(a.labels)
        .map(([k, v]) => `${k}:${v}`)
        .join(",")}`
  },
  CreatePvc: {
    scope: "remote",
    change: "create",
    destructive: never,
    failureReason: "PvcCreateFailed",
    failureMessage: "failed to create PVC on remote cluster",
    detail: (a) =>
      ` size=${a.after.storage} volumeMode=${a.after.volumeMode} accessModes=${a.after.accessModes.join(",")}${a.after.storageClassName === undefined ? "" : ` storageClass=${a.after.storageClassName}`}`
  },
  ExpandPvc: {
    scope: "remote",
    change: "change",
    destructive: never,
    failureReason: "PvcExpandFailed",
    failureMessage: "failed to expand PVC on remote cluster",
    detail: (a) => ` size ${a.before} -> ${a.after}`
  },
  DeletePvc: {
    scope: "remote",
    change: "destroy",
    destructive: always,
    failureReason: "PvcDeleteFailed",
    failureMessage: "failed to delete PVC on remote cluster",
    detail: () => ""
  },
  CreateVirtualMachine: {
    scope: "remote",
    change: "create",
    destructive: never,
    failureReason: "VirtualMachineCreateFailed",
    failureMessage: "failed to create VirtualMachine on remote cluster",
    detail: (a) =>
      ` cpu=${a.after.cpu.cores}x${a.after.cpu.sockets}x${a.after.cpu.threads} memory=${a.after.memory} disks=${a.after.disks.map(diskText).join(",")}${podOnly(a.after.networks) ? "" : ` networks=${a.after.networks.map(networkText).join(",")}`}${a.after.cloudInit === undefined ? "" : ` cloudInit=${a.after.cloudInit.kind}`}${a.after.networks.some((n) => n.bootOrder !== undefined) ? " boot=disk,network" : ""}`
  },
  PatchVirtualMachine: {
    scope: "remote",
    change: "change",
    destructive: (a) => a.restartRequired,
    failureReason: "VirtualMachinePatchFailed",
    failureMessage: "failed to update VirtualMachine on remote cluster",
    detail: () => ""
  },
  DeleteVirtualMachine: {
    scope: "remote",
    change: "destroy",
    // Destructive when DataVolumes go with it: their data is lost as with DeleteDataVolume.
    destructive: (a) => (a.cascades?.length ?? 0) > 0,
    failureReason: "VirtualMachineDeleteFailed",
    failureMessage: "failed to delete VirtualMachine on remote cluster",
    detail: (a) => (a.cascades === undefined ? "" : ` with DataVolume ${a.cascades.join(", ")}`)
  },
  CreateDataVolume: {
    scope: "remote",
    change: "create",
    destructive: never,
    failureReason: "DataVolumeCreateFailed",
    failureMessage: "failed to create DataVolume on remote cluster",
    detail: (a) =>
      ` ${a.after.purpose === "iso" ? "iso" : "image"}=${describeSource(a.after.source)} size=${a.after.storage}${a.after.storageClassName === undefined ? "" : ` storageClass=${a.after.storageClassName}`}`
  },
  DeleteDataVolume: {
    scope: "remote",
    change: "destroy",
    destructive: always,
    failureReason: "DataVolumeDeleteFailed",
    failureMessage: "failed to delete DataVolume on remote cluster",
    detail: () => ""
  },
  CreateSecret: {
    scope: "remote",
    change: "create",
    destructive: never,
    failureReason: "CloudInitSecretCreateFailed",
    failureMessage: "failed to create cloud-init Secret on remote cluster",
    detail: (a) => secretDetail(a.after)
  },
  PatchSecret: {
    scope: "remote",
    change: "change",
    destructive: never,
    failureReason: "CloudInitSecretPatchFailed",
    failureMessage: "failed to update cloud-init Secret on remote cluster",
    detail: (a) => ` ${a.before.slice(0, 15)} ->${secretDetail(a.after)}`
  },
  DeleteSecret: {
    scope: "remote",
    change: "destroy",
    destructive: never,
    failureReason: "CloudInitSecretDeleteFailed",
    failureMessage: "failed to delete cloud-init Secret on remote cluster",
    detail: () => ""
  },
  AdoptVirtualMachine: {
    scope: "remote",
    change: "change",
    destructive: never,
    failureReason: "VirtualMachineAdoptFailed",
    failureMessage: "failed to adopt VirtualMachine on remote cluster",
    detail: adoptDetail
  },
  AdoptPvc: {
    scope: "remote",
    change: "change",
    destructive: never,
    failureReason: "PvcAdoptFailed",
    failureMessage: "failed to adopt PVC on remote cluster",
    detail: adoptDetail
  },
  AdoptDataVolume: {
    scope: "remote",
    change: "change",
    destructive: never,
    failureReason: "DataVolumeAdoptFailed",
    failureMessage: "failed to adopt DataVolume on remote cluster",
    detail: adoptDetail
  },
  CreateNetworkAttachmentDefinition: {
    scope: "remote",
    change: "create",
    destructive: never,
    failureReason: "NetworkAttachmentCreateFailed",
    failureMessage: "failed to create NetworkAttachmentDefinition on remote cluster",
    detail: (a) => ` bridge=br0${a.after.vlanId === undefined ? " untagged" : ` vlan=${a.after.vlanId}`}`
  },
  DeleteNetworkAttachmentDefinition: {
    scope: "remote",
    change: "destroy",
    destructive: never,
    failureReason: "NetworkAttachmentDeleteFailed",
    failureMessage: "failed to delete NetworkAttachmentDefinition on remote cluster",
    detail: () => ""
  },
  CreateNetworkConfiguration: {
    scope: "supervisor",
    change: "create",
    destructive: never,
    failureReason: "NetworkConfigurationCreateFailed",
    failureMessage: "failed to create NetworkConfiguration",
    detail: (a) => networkConfigurationText(a.after)
  },
  PatchNetworkConfiguration: {
    scope: "supervisor",
    change: "change",
    destructive: never,
    failureReason: "NetworkConfigurationPatchFailed",
    failureMessage: "failed to update NetworkConfiguration",
    detail: (a) => ` interfaces ${a.before} ->${networkConfigurationText(a.after).replace(/^.* interfaces=/, " ")}`
  },
  AddFinalizer: {
    scope: "supervisor",
    change: "change",
    destructive: never,
    failureReason: "AddFinalizerFailed",
    failureMessage: "failed to add finalizer",
    detail: finalizerDetail,
    quiet: true
  },
  RemoveFinalizer: {
    scope: "supervisor",
    change: "change",
    destructive: never,
    failureReason: "RemoveFinalizerFailed",
    failureMessage: "failed to remove finalizer",
    detail: finalizerDetail
  },
  PersistPlacement: {
    scope: "supervisor",
    change: "change",
    destructive: never,
    failureReason: "PersistPlacementFailed",
    failureMessage: "failed to record placement",
    detail: (a) => ` annotation vitistack.io/kubevirt-config=${a.placement}`
  },
  PatchMachineAnnotation: {
    scope: "supervisor",
    change: "change",
    destructive: never,
    failureReason: "PatchMachineAnnotationFailed",
    failureMessage: "failed to annotate Machine",
    detail: (a) => ` annotation ${a.key}=${a.value}`
  }
}

/** The table entry of an action (the lookup the compiler cannot narrow on its own). */
export const infoOf = <T extends ActionTag>(a: ActionOf<T>): ActionInfo<T> => actionInfo[a._tag as T]

/** The Terraform-style glyph class of an action: create, change, destroy. */
export const actionKind = (a: Action): ActionInfo<ActionTag>["change"] => actionInfo[a._tag].change

/** Whether running it is recorded as an Event on the Machine. */
export const recordsEvent = (a: Action): boolean => actionInfo[a._tag].quiet !== true

/** Whether the action loses data or needs a restart (held for approval when the policy asks for it). */
export const isDestructive = (a: Action): boolean => (infoOf(a).destructive as (a: Action) => boolean)(a)

/** Whether the action writes to a remote cluster (as opposed to the supervisor's Machine). */
export const isRemote = (a: Action): a is Extract<Action, { readonly cluster: string }> =>
  actionInfo[a._tag].scope === "remote"

/** The plan line's object: `Kind namespace/name`, with `@cluster` for remote actions. */
export const actionTarget = (a: Action): string =>
  `${a.target.kind} ${refKey(a.target)}${isRemote(a) ? ` @${a.cluster}` : ""}`

/** The plan line's details after the target. */
export const actionDetail = (a: Action): string => (infoOf(a).detail as (a: Action) => string)(a)
