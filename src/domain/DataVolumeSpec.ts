/**
 * CDI DataVolumes of a Machine (ADR 0010): the desired fields the operator owns (an import or clone into a disk,
 * through CDI's `storage` API so the StorageProfile fills access and volume modes), and what it observes of a live
 * one (phase, progress, the failure CDI reports). Domain layer: pure schemas; `manifests/DataVolume.ts` renders and
 * projects them.
 */
import { Schema } from "effect"

const Str = Schema.String

/**
 * Records on a DataVolume which image it was made from, to notice a later change (never a re-import): the image
 * reference in its display form (ADR 0018), never a credential. DataVolumes made before hold the URL as given; it is
 * compared, and observed, in its display form.
 */
export const IMAGE_SOURCE_ANNOTATION = "vitistack.io/image-source"

/**
 * Records on a DataVolume the Machine's `metadata.generation` when it was made. An import that fails (a presigned URL
 * that expired, a password changed since) is made again, with the Machine's URL as it is now, once the Machine's spec
 * has changed since: the display forms compare equal for a new credential, and no credential is ever recorded.
 */
export const MACHINE_GENERATION_ANNOTATION = "vitistack.io/machine-generation"

/** Where CDI imports from. An http(s) or registry URL is the one given, credentials and all: show `describeSource`. */
export const DataVolumeSource = Schema.Union([
  Schema.TaggedStruct("Http", { url: Str }),
  Schema.TaggedStruct("Registry", { url: Str }),
  Schema.TaggedStruct("DataSource", { namespace: Str, name: Str })
])
export type DataVolumeSource = typeof DataVolumeSource.Type

export const DataVolumeSpec = Schema.Struct({
  name: Str,
  namespace: Str,
  labels: Schema.Record(Str, Str),
  /**
   * Ours: the image reference in its display form (`vitistack.io/image-source`), to notice a later change; and the
   * long name. The real URL is in `source` only (CDI downloads it).
   */
  annotations: Schema.Record(Str, Str),
  source: DataVolumeSource,
  /** Requested size, a quantity. */
  storage: Str,
  storageClassName: Schema.optionalKey(Str),
  /** What the disk is for: the boot disk or an installer ISO. */
  purpose: Schema.Literals(["boot", "iso"])
})
export type DataVolumeSpec = typeof DataVolumeSpec.Type

export const ObservedDataVolume = Schema.Struct({
  name: Str,
  labels: Schema.Record(Str, Str),
  annotations: Schema.Record(Str, Str),
  resourceVersion: Str,
  /** CDI's phase: Pending, ImportScheduled, ImportInProgress, CloneInProgress, WaitForFirstConsumer, Succeeded, Failed... */
  phase: Schema.optionalKey(Str),
  /** CDI's progress, e.g. "43.20%". */
  progress: Schema.optionalKey(Str),
  /** The reason and message of CDI's failing condition (Running=False or Ready=False), when there is one. */
  failure: Schema.optionalKey(Schema.Struct({ reason: Str, message: Str })),
  deleting: Schema.Boolean,
  /**
   * The VirtualMachine that owns it (an owner reference), when one does: KubeVirt makes the DataVolumes of a VM's
   * `dataVolumeTemplates` so (the Go operator's ISO), and deleting that VM deletes them with it.
   */
  ownerVm: Schema.optionalKey(Str)
})
export type ObservedDataVolume = typeof ObservedDataVolume.Type
