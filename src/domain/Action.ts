/**
 * The closed set of things the operator can do, as a JSON-encodable tagged union. Domain layer: pure schema.
 * Every variant names the object it writes (`target`) and carries a `reason` that is for display and events ONLY:
 * executors must never branch on it. Remote actions say which cluster they touch (`cluster`: a KubevirtConfig name);
 * Machine actions always go to the supervisor (`actionInfo.ts` says which is which, with everything else known per
 * kind). Mutations of existing objects carry the observed `resourceVersion`, so a stale plan fails with Conflict
 * instead of overwriting (G3).
 */
import { Schema } from "effect"
import { CloudInitSecretSpec } from "./CloudInitSecretSpec.ts"
import { DataVolumeSpec } from "./DataVolumeSpec.ts"
import { NetworkAttachmentSpec } from "./NetworkAttachmentSpec.ts"
import { NetworkConfigurationSpec } from "./NetworkConfigurationSpec.ts"
import { ObjectRef } from "./ObjectRef.ts"
import { PvcSpec } from "./PvcSpec.ts"
import { VmSpec } from "./VmSpec.ts"

const Str = Schema.String
const Reason = Schema.String

export const Action = Schema.TaggedUnion({
  /**
   * Create the remote namespace `target` with our label if absent. AlreadyExists is success; never updates an
   * existing one.
   */
  EnsureNamespace: { cluster: Str, target: ObjectRef, labels: Schema.Record(Str, Str), reason: Reason },
  /** Create a PVC. `after` is the whole desired claim. */
  CreatePvc: { cluster: Str, target: ObjectRef, after: PvcSpec, reason: Reason },
  /** Grow a PVC's requested storage from `before` to `after` (merge patch with resourceVersion precondition). */
  ExpandPvc: { cluster: Str, target: ObjectRef, before: Str, after: Str, resourceVersion: Str, reason: Reason },
  /** Delete one of our PVCs (precondition: resourceVersion). Only planned once the VM is gone. */
  DeletePvc: { cluster: Str, target: ObjectRef, resourceVersion: Str, reason: Reason },
  /** Create the VirtualMachine. `after` is the whole desired owned state. */
  CreateVirtualMachine: { cluster: Str, target: ObjectRef, after: VmSpec, reason: Reason },
  /**
   * Converge the VM's owned fields from `before` (observed) to `after` (desired) with a merge patch and a
   * resourceVersion precondition. `restartRequired`: the running guest sees the change only after a restart.
   */
  PatchVirtualMachine: {
    cluster: Str,
    target: ObjectRef,
    before: VmSpec,
    after: VmSpec,
    resourceVersion: Str,
    restartRequired: Schema.Boolean,
    reason: Reason
  },
  /**
   * Delete our VirtualMachine (precondition: resourceVersion). `cascades`: the DataVolumes it owns, which go with it
   * (a VM adopted from the Go operator owns its ISO's), so the deletion loses their data too.
   */
  DeleteVirtualMachine: {
    cluster: Str,
    target: ObjectRef,
    resourceVersion: Str,
    cascades: Schema.optionalKey(Schema.Array(Str)),
    reason: Reason
  },
  /**
   * Create a CDI DataVolume (an image import or clone into a disk, or an ISO). `after` is the whole desired state; its
   * `source` holds the URL as given (CDI downloads it), so it is shown only through `describeSource` / `redactPlan`.
   */
  CreateDataVolume: { cluster: Str, target: ObjectRef, after: DataVolumeSpec, reason: Reason },
  /** Delete our DataVolume (precondition: resourceVersion); its claim follows by owner reference. */
  DeleteDataVolume: { cluster: Str, target: ObjectRef, resourceVersion: Str, reason: Reason },
  /**
   * Create the cloud-init Secret. `after` holds digests and sizes only: the executor writes the content the reconcile
   * rendered with exactly `after.digest`, or nothing (ADR 0010). Plans never carry the content.
   */
  CreateSecret: { cluster: Str, target: ObjectRef, after: CloudInitSecretSpec, reason: Reason },
  /** Replace the cloud-init Secret's content (digest `before` → `after.digest`), resourceVersion precondition. */
  PatchSecret: {
    cluster: Str,
    target: ObjectRef,
    before: Str,
    after: CloudInitSecretSpec,
    resourceVersion: Str,
    reason: Reason
  },
  /** Delete our cloud-init Secret (precondition: resourceVersion). */
  DeleteSecret: { cluster: Str, target: ObjectRef, resourceVersion: Str, reason: Reason },
  /**
   * Adopt the Go operator's VirtualMachine (ADR 0014): add our `labels` (and `annotations`: the full Machine name when
   * the label had to be shortened) with a merge patch of metadata only, resourceVersion precondition. Nothing else on
   * the object changes; planned only with adoption on, for a VM that carries the Go operator's labels for this
   * Machine and none of ours. Its spec differences are drift, patched in a later round like any VM of ours.
   */
  AdoptVirtualMachine: {
    cluster: Str,
    target: ObjectRef,
    labels: Schema.Record(Str, Str),
    annotations: Schema.Record(Str, Str),
    resourceVersion: Str,
    reason: Reason
  },
  /** Adopt the Go operator's PVC of one of this Machine's disks: as AdoptVirtualMachine. */
  AdoptPvc: {
    cluster: Str,
    target: ObjectRef,
    labels: Schema.Record(Str, Str),
    annotations: Schema.Record(Str, Str),
    resourceVersion: Str,
    reason: Reason
  },
  /** Adopt the Go operator's ISO DataVolume (made from its VM's dataVolumeTemplate): as AdoptVirtualMachine. */
  AdoptDataVolume: {
    cluster: Str,
    target: ObjectRef,
    labels: Schema.Record(Str, Str),
    annotations: Schema.Record(Str, Str),
    resourceVersion: Str,
    reason: Reason
  },
  /**
   * Create the VLAN NetworkAttachmentDefinition a NetworkNamespace names (only with --create-network-attachments,
   * ADR 0013). AlreadyExists is success whoever made it: an existing NAD is used as it is, never modified.
   */
  CreateNetworkAttachmentDefinition: { cluster: Str, target: ObjectRef, after: NetworkAttachmentSpec, reason: Reason },
  /**
   * Delete a NetworkAttachmentDefinition the operator created (our label) that no VM of its namespace names
   * (precondition: resourceVersion, so one changed since it was read stays).
   */
  DeleteNetworkAttachmentDefinition: { cluster: Str, target: ObjectRef, resourceVersion: Str, reason: Reason },
  /**
   * Create the Machine's NetworkConfiguration on the supervisor (`after`: the whole object the operator writes, with
   * the controller owner reference to the Machine). The executor first claims the MACs in the operator's index of
   * the fleet's NetworkConfigurations, so two Machines can never record one MAC; AlreadyExists of ours is success.
   */
  CreateNetworkConfiguration: { target: ObjectRef, after: NetworkConfigurationSpec, reason: Reason },
  /**
   * Record interfaces that are missing or have another MAC (`before`: the recorded ones, for display) by a
   * read-modify-write of `spec.networkInterfaces` on the fresh object with its resourceVersion as precondition; other
   * fields of an entry (an IP operator's) are kept. A content precondition, like the Machine actions': a no-op when
   * the fresh object already records `after`.
   */
  PatchNetworkConfiguration: { target: ObjectRef, before: Str, after: NetworkConfigurationSpec, reason: Reason },
  /**
   * Add the finalizer to the Machine. Machine actions carry content preconditions instead of a resourceVersion
   * (several run in one plan, each bumping it): adding a present finalizer is a no-op.
   */
  AddFinalizer: { target: ObjectRef, finalizer: Str, reason: Reason },
  /**
   * Remove the finalizer from the Machine; only planned when every remote child is gone (or orphaned), or, with
   * `abandoned`, when deletion policy AbandonAfter's deadline passed with the remote unreadable (`abandon.ts`):
   * `abandoned` lists what may be left behind there, for the event and the log line the executor's reconcile writes.
   */
  RemoveFinalizer: {
    target: ObjectRef,
    finalizer: Str,
    reason: Reason,
    abandoned: Schema.optionalKey(
      Schema.Struct({
        cluster: Str,
        /** RFC 3339: since when the remote could not be read (as far as the operator saw). */
        since: Str,
        /** The deadline's duration as written (`AbandonAfter=<duration>`). */
        after: Str,
        /** The objects the Machine's spec and last status name; they may or may not exist. */
        objects: Schema.Array(ObjectRef),
        /** Anything else of this Machine's carries these labels (a disk removed from the spec, for one). */
        labelSelector: Str
      })
    )
  },
  /**
   * Record an automatic placement (`placement`, a KubevirtConfig name) as the Machine's
   * `vitistack.io/kubevirt-config` annotation. Precondition: the annotation is absent on the freshly read Machine
   * (written with that read's resourceVersion), so a placement chosen concurrently is never overwritten.
   */
  PersistPlacement: { target: ObjectRef, placement: Str, reason: Reason },
  /**
   * Set an annotation of the Machine to `value` (the Go operator's `vitistack.io/iso-cleaned-up`, for tools that read
   * it). Content precondition: a no-op when it already has that value.
   */
  PatchMachineAnnotation: { target: ObjectRef, key: Str, value: Str, reason: Reason }
})
export type Action = typeof Action.Type
export type ActionTag = Action["_tag"]
/** One variant of the union, by tag. */
export type ActionOf<T extends ActionTag> = Extract<Action, { readonly _tag: T }>

/** The tags as a schema, for values that name an action kind (an execution failure). */
export const ActionTag = Schema.Literals(Object.keys(Action.cases) as [ActionTag, ...Array<ActionTag>])
