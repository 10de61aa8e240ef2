/**
 * The shape of a planner step: one concern (the finalizer, placement, the namespace, disks, networks, the VM) as a
 * pure function with a converge half and a cleanup half, each returning the actions and diagnostics it adds. Domain
 * layer. `planner.ts` folds a fixed, ordered list of steps (reversed for cleanup); a step can stop the fold (`halt`)
 * or hold back a later step (`provides` prerequisites the VM waits for).
 * Supervisor steps write only the Machine; remote steps run only once the placed cluster's facts are usable and the
 * Machine is valid, so they never see an Unknown cluster or an invalid spec.
 * The values the fold computes once and hands to the steps (the desired objects, the placement decision, the cleanup
 * target) are typed here, so the capability modules that compute them and the steps that read them import this file
 * and not each other (imports point one way; `noImportCycles` counts type imports too).
 */
import type { Action } from "./Action.ts"
import type { BootSource } from "./bootSource.ts"
import type { CloudInitSecretSpec } from "./CloudInitSecretSpec.ts"
import type { DataVolumeSpec } from "./DataVolumeSpec.ts"
import type { BlockingReason, Diagnostic, WaitingReason } from "./Diagnostic.ts"
import type { Machine } from "./Machine.ts"
import type { NetworkAttachmentSpec } from "./NetworkAttachmentSpec.ts"
import type { NetworkConfigurationSpec } from "./NetworkConfigurationSpec.ts"
import type { ObservedState, RemoteState } from "./ObservedState.ts"
import type { PvcSpec } from "./PvcSpec.ts"
import type { Settings } from "./Settings.ts"
import type { VmSpec } from "./VmSpec.ts"
import type { VmChange } from "./vmDrift.ts"

/** What a NetworkNamespace decides for a valid, placed Machine (ADR 0013, `vitistackNetwork.ts`). */
export interface VitistackDesired {
  readonly networkNamespace: string
  /** The VLAN NetworkAttachmentDefinition the VM's first network is on; undefined: the pod network. */
  readonly nad: NetworkAttachmentSpec | undefined
  /** The NetworkConfiguration recording the MAC of every VM interface. */
  readonly networkConfiguration: NetworkConfigurationSpec
  /** Non-empty while a static address is awaited: the VM is not created yet (its network-config is not known). */
  readonly staticWait: ReadonlyArray<Diagnostic>
}

/** The remote objects a valid Machine should have (`desired.ts`). */
export interface Desired {
  /** Plain claims (blank disks); an imported boot disk is a DataVolume instead. */
  readonly pvcs: ReadonlyArray<PvcSpec>
  /** The boot disk's image and the installer ISO (ADR 0010). */
  readonly dataVolumes: ReadonlyArray<DataVolumeSpec>
  /** The cloud-init Secret, when the Machine has cloud-init. */
  readonly cloudInit: CloudInitSecretSpec | undefined
  /** What the Machine boots from (the ISO's eject request lives here). */
  readonly boot: BootSource
  readonly vm: VmSpec
  /** The NetworkNamespace's decisions; undefined when the Machine has none (the pod network and ADR 0007 only). */
  readonly vitistack?: VitistackDesired | undefined
}

export type DesiredResult =
  | { readonly _tag: "Ok"; readonly desired: Desired; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Invalid"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Waiting"; readonly diagnostics: ReadonlyArray<Diagnostic> }

export type PlacementSource = "Annotation" | "DefaultKubevirtConfig" | "OnlyKubevirtConfig" | "ExistingVirtualMachine"

/** Which remote cluster a live Machine goes to (`placement.ts`). */
export type Placement =
  | { readonly _tag: "Placed"; readonly cluster: string; readonly source: PlacementSource; readonly persist: boolean }
  | {
      readonly _tag: "Unplaced"
      readonly reason: Extract<
        BlockingReason,
        "KubevirtConfigNotFound" | "NoKubevirtConfig" | "AmbiguousPlacement" | "NamespaceNotAllowed"
      >
      readonly message: string
    }
  | {
      readonly _tag: "Undetermined"
      readonly reason: Extract<WaitingReason, "KubevirtConfigsUnknown" | "PlacementSearchIncomplete" | "TenancyUnknown">
      readonly message: string
    }

/**
 * Where a deleted Machine's remote objects are (`placement.ts`): kept on purpose (deletion policy Orphan), never
 * created (no placement was recorded, so nothing remote can exist), or on the recorded cluster.
 */
export type CleanupTarget =
  | { readonly _tag: "Orphaned" }
  | { readonly _tag: "NeverPlaced" }
  | { readonly _tag: "Placed"; readonly cluster: string }

/**
 * Something the VirtualMachine waits for, provided by an earlier step (its disks, its networks; later, its
 * DataVolumes). A create always waits for every prerequisite; a patch only for those whose `gatesPatch` holds for its
 * changes. The VM step reports the `waiting` diagnostics of the first prerequisite that is not ready, and only when it
 * would otherwise act, so a Machine waits for one thing at a time.
 */
export interface Prerequisite {
  readonly ready: boolean
  /** What the waiting step reports while this is not ready (empty when the providing step has said it already). */
  readonly waiting: ReadonlyArray<Diagnostic>
  /** Whether a patch with these changes waits for it too. */
  readonly gatesPatch: (changes: ReadonlyArray<VmChange>) => boolean
}

export interface StepResult {
  readonly actions: ReadonlyArray<Action>
  readonly diagnostics: ReadonlyArray<Diagnostic>
  /** Stop the fold after this step: later steps cannot decide (an Unknown fact, something still being deleted). */
  readonly halt?: boolean
  /** Prerequisites later steps wait for (converge only). */
  readonly provides?: ReadonlyArray<Prerequisite>
}

/** What every step may read. */
export interface PlanInput {
  readonly machine: Machine
  readonly observed: ObservedState
  readonly settings: Settings
  /**
   * RFC 3339: the time of the observation, for the one decision that depends on time (deletion policy
   * AbandonAfter's deadline, `abandon.ts`; ADR 0015 amends ADR 0001 §3). Absent: no deadline has passed.
   */
  readonly now?: string | undefined
}

/** A supervisor step's view while the Machine lives: its desired objects (or why not) and its placement. */
export interface ConvergeInput extends PlanInput {
  readonly desired: DesiredResult
  readonly placement: Placement
}

/** A supervisor step's view while the Machine is deleted: where its remote objects are, if anywhere. */
export interface CleanupInput extends PlanInput {
  readonly target: CleanupTarget
}

/** A remote step's view while converging: a valid Machine's desired objects and the placed cluster's facts. */
export interface RemoteConvergeInput extends PlanInput {
  readonly cluster: string
  readonly remote: RemoteState
  readonly desired: Desired
  /** What earlier steps said the VM must wait for, in step order. */
  readonly prerequisites: ReadonlyArray<Prerequisite>
}

/** A remote step's view while cleaning up: the placed cluster's facts. */
export interface RemoteCleanupInput extends PlanInput {
  readonly cluster: string
  readonly remote: RemoteState
}

export interface SupervisorStep {
  readonly scope: "supervisor"
  readonly name: string
  readonly converge: (input: ConvergeInput) => StepResult
  readonly cleanup: (input: CleanupInput) => StepResult
}

export interface RemoteStep {
  readonly scope: "remote"
  readonly name: string
  readonly converge: (input: RemoteConvergeInput) => StepResult
  readonly cleanup: (input: RemoteCleanupInput) => StepResult
}

export type Step = SupervisorStep | RemoteStep

/** A step result with nothing to add. */
export const nothing: StepResult = { actions: [], diagnostics: [] }

/** Nothing to add, and later steps must not run. */
export const halted = (...diagnostics: ReadonlyArray<Diagnostic>): StepResult => ({
  actions: [],
  diagnostics,
  halt: true
})
