/**
 * A finding of the planner that is not an action: a bad field, a name clash, a wait. Domain layer: pure schema.
 * What a diagnostic does is data on it (`effect`), as an action's `reason` is for display only (Action.ts):
 * - Blocks: the Machine cannot be satisfied as written: no remote write is planned, and the reconcile waits for a
 *   change (severity Error);
 * - Waits: the operator waits for something that should come right (an unreachable remote, a missing NAD): the
 *   reconcile backs off and the status message names it (severity Warning);
 * - Advises: nothing changes (an alias used, a refused shrink; Info findings for reviewers).
 * `severity` (Error, Warning, Info) is for display. `reason` is CamelCase, becomes the condition reason, and is one
 * of the literals below, grouped by the constructor that may use it, so a typo or a reason without a declared effect
 * fails the typecheck. `field` names the offending field when there is one.
 */
import { Schema } from "effect"

/** Reasons of `error`: bad input, or a name taken by an object that is not ours. */
export const BlockingReasons = [
  "InvalidName",
  "InvalidNamespace",
  "MachineClassNotFound",
  "MachineClassDisabled",
  "InvalidMachineClass",
  "InvalidCpu",
  "InvalidMemory",
  "MultipleBootDisks",
  "InvalidDiskName",
  "MissingDiskSize",
  "InvalidDiskSize",
  "DuplicateDiskName",
  "MultiplePrimaryInterfaces",
  "InvalidInterfaceName",
  "InvalidNetworkAttachment",
  "DuplicateInterfaceName",
  "KubevirtConfigNotFound",
  "NoKubevirtConfig",
  "AmbiguousPlacement",
  "NamespaceNotAllowed",
  "NameClash",
  "PvcNameCollision",
  "InvalidImage",
  "InvalidIso",
  "InvalidIsoSize",
  "InvalidCloudInit",
  "CloudInitTooLarge",
  "InvalidArchitecture",
  "InvalidNetworkNamespaceName",
  "AmbiguousNetworkNamespace",
  "StaticIpConfigMissing",
  "InvalidStaticIpConfig",
  "NetworkNamespaceConflict",
  "InvalidDeletionPolicy"
] as const
export type BlockingReason = (typeof BlockingReasons)[number]

/** Reasons of `waiting`: a fact that cannot be read yet, or an object on its way in or out. */
export const WaitingReasons = [
  "MachineClassUnknown",
  "KubevirtConfigsUnknown",
  "PlacementSearchIncomplete",
  "TenancyUnknown",
  "RemoteUnreachable",
  "RemoteNotObserved",
  "ClusterNotReady",
  "NamespaceUnknown",
  "NamespaceTerminating",
  "PvcsUnknown",
  "PvcTerminating",
  "NetworkAttachmentUnknown",
  "NetworkAttachmentMissing",
  "VirtualMachineUnknown",
  "VirtualMachineTerminating",
  "CloudInitSourceMissing",
  "CloudInitSourceUnknown",
  "StorageUnknown",
  "DataVolumesUnknown",
  "DataVolumeTerminating",
  "ImportPending",
  "ImportInProgress",
  "ImportFailed",
  "ImportRetrying",
  "CloudInitSecretUnknown",
  "CloudInitSecretTerminating",
  "GoOperatorVirtualMachineExists",
  "NetworkNamespaceUnknown",
  "NetworkNamespaceMissing",
  "NetworkNamespaceNotProvisioned",
  "NetworkConfigurationUnknown",
  "NetworkConfigurationTerminating",
  "MacAddressesUnknown",
  "NoFreeMacAddress",
  "WaitingForStaticIP",
  "Paused",
  "ApprovalRequired",
  "AbandonPending"
] as const
export type WaitingReason = (typeof WaitingReasons)[number]

/** Reasons of `advisory`: warnings that neither block nor wait. */
export const AdvisoryReasons = [
  "InstanceTypeAlias",
  "UnknownDiskBus",
  "PvcShrinkRefused",
  "ProviderChanged",
  "CloudInitNotMerged",
  "ImageChangeIgnored",
  "CloudInitChanged",
  "DeletionPolicyNotUnderstood"
] as const
export type AdvisoryReason = (typeof AdvisoryReasons)[number]

/** Reasons of `info`: notes for reviewers (a deletion step in progress is followed up by a watch event). */
export const InfoReasons = [
  "OutOfScope",
  "PvcImmutableDrift",
  "PvcNotInSpec",
  "Orphaned",
  "WaitingForVirtualMachine",
  "ForeignVirtualMachine",
  "WaitingForPvcs",
  "StorageProfileMissing",
  "StorageProfileNoMatch",
  "CloudInitFromSshKeys",
  "WaitingForDataVolumes",
  "WaitingForCloudInitSecret",
  "AdoptionFollowUp",
  "GoOperatorObjectNotAdopted",
  "GoOperatorObjectsUnknown",
  "MacAddressCollision",
  "StaticIpNotRendered",
  "Abandoned"
] as const
export type InfoReason = (typeof InfoReasons)[number]

export const DiagnosticReason = Schema.Literals([
  ...BlockingReasons,
  ...WaitingReasons,
  ...AdvisoryReasons,
  ...InfoReasons
])
export type DiagnosticReason = typeof DiagnosticReason.Type

export const DiagnosticEffect = Schema.Literals(["Blocks", "Waits", "Advises"])
export type DiagnosticEffect = typeof DiagnosticEffect.Type

export const Diagnostic = Schema.Struct({
  severity: Schema.Literals(["Error", "Warning", "Info"]),
  effect: DiagnosticEffect,
  reason: DiagnosticReason,
  message: Schema.String,
  field: Schema.optionalKey(Schema.String)
})
export type Diagnostic = typeof Diagnostic.Type

const withField = (field: string | undefined) => (field === undefined ? {} : { field })

/** Bad input (or a name clash): blocks every remote write of the plan. */
export const error = (reason: BlockingReason, message: string, field?: string): Diagnostic => ({
  severity: "Error",
  effect: "Blocks",
  reason,
  message,
  ...withField(field)
})

/** The operator waits for this (backoff; the status message names it). */
export const waiting = (reason: WaitingReason, message: string, field?: string): Diagnostic => ({
  severity: "Warning",
  effect: "Waits",
  reason,
  message,
  ...withField(field)
})

/** A warning that changes nothing the operator does. */
export const advisory = (reason: AdvisoryReason, message: string, field?: string): Diagnostic => ({
  severity: "Warning",
  effect: "Advises",
  reason,
  message,
  ...withField(field)
})

export const info = (reason: InfoReason, message: string): Diagnostic => ({
  severity: "Info",
  effect: "Advises",
  reason,
  message
})

/** The Machine cannot be satisfied as written (no remote write). */
export const isBlocking = (d: Diagnostic): boolean => d.effect === "Blocks"

/** The operator is waiting for something. */
export const isWaiting = (d: Diagnostic): boolean => d.effect === "Waits"
