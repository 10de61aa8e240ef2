/**
 * The desired state of a KubeVirt VirtualMachine: exactly the fields the operator owns and compares for drift.
 * Domain layer: pure schema. `manifests/VirtualMachine.ts` renders it and projects a live VM back to it, so
 * "no difference" means "no write" (design 3.7).
 */
import { Schema } from "effect"

export const VmDisk = Schema.Struct({
  /** Disk and volume name inside the VM. */
  name: Schema.String,
  bus: Schema.Literals(["virtio", "sata", "scsi"]),
  bootOrder: Schema.optionalKey(Schema.Number),
  /** The PVC backing the disk (for a DataVolume, the claim CDI creates with the same name). */
  claimName: Schema.String,
  /** The volume is `dataVolume: {name: claimName}` (an imported disk or ISO, ADR 0010); absent: a plain PVC. */
  dataVolume: Schema.optionalKey(Schema.Boolean),
  /** A CD-ROM (`cdrom: {bus}`) instead of a disk: the installer ISO. */
  cdrom: Schema.optionalKey(Schema.Boolean)
})
export type VmDisk = typeof VmDisk.Type

/** KubeVirt's name for the pod network; a custom interface may not take it while the pod network is attached. */
export const POD_NETWORK = "default"

/** One network of the VM and its interface (same name). */
export const VmNetwork = Schema.Struct({
  /** Interface and network name inside the VM. */
  name: Schema.String,
  /** A NetworkAttachmentDefinition in the VM's namespace (bridge binding); absent: the pod network (masquerade). */
  nad: Schema.optionalKey(Schema.String),
  /** The NAD is the VM's default network, in place of the pod network. */
  primary: Schema.optionalKey(Schema.Boolean),
  /** Network boot: the interface's place in the boot order (after the disks; reference F27). */
  bootOrder: Schema.optionalKey(Schema.Number),
  /**
   * The interface's MAC address (ADR 0013: a Machine whose network comes from a NetworkNamespace; recorded in its
   * NetworkConfiguration). Set at creation and carried by patches that rewrite interfaces; not compared for drift.
   */
  macAddress: Schema.optionalKey(Schema.String)
})
export type VmNetwork = typeof VmNetwork.Type

/** The cloud-init disk: the remote Secret holding the payload (never inline content, ADR 0010). */
export const VmCloudInit = Schema.Struct({
  kind: Schema.Literals(["NoCloud", "ConfigDrive"]),
  secretName: Schema.String,
  /** The Secret has a `networkdata` key (referenced as networkDataSecretRef). */
  networkData: Schema.Boolean
})
export type VmCloudInit = typeof VmCloudInit.Type

/** A CPU feature policy (`{name: ht, policy: disable}` for KubeVirt >= 1.8 host-model CPUs, reference W22). */
export const CpuFeature = Schema.Struct({ name: Schema.String, policy: Schema.String })

export const VmSpec = Schema.Struct({
  name: Schema.String,
  namespace: Schema.String,
  /** Labels of the VM and of its template (ours only; other labels on a live VM are not compared). */
  labels: Schema.Record(Schema.String, Schema.String),
  annotations: Schema.Record(Schema.String, Schema.String),
  runStrategy: Schema.String,
  cpu: Schema.Struct({
    cores: Schema.Number,
    sockets: Schema.Number,
    threads: Schema.Number,
    model: Schema.String,
    features: Schema.optionalKey(Schema.Array(CpuFeature))
  }),
  /** `spec.template.spec.architecture` (arm64); absent: the cluster's default. */
  architecture: Schema.optionalKey(Schema.String),
  /** Guest memory as a quantity ("2Gi", "4096Mi"). */
  memory: Schema.String,
  disks: Schema.Array(VmDisk),
  networks: Schema.Array(VmNetwork),
  cloudInit: Schema.optionalKey(VmCloudInit),
  /**
   * The names in `spec.dataVolumeTemplates` of a live VM: the Go operator's ISO (reference F17), on a VM adopted from
   * it (ADR 0014). Ours use standalone DataVolumes (ADR 0010) and never have any, so a desired VmSpec has none and a
   * patch removes them (the DataVolume stays, adopted on its own).
   */
  dataVolumeTemplates: Schema.optionalKey(Schema.Array(Schema.String))
})
export type VmSpec = typeof VmSpec.Type
