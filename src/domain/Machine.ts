/**
 * The `Machine` (vitistack.io/v1alpha1) as the operator reads it: the metadata it acts on, the spec fields the design
 * uses (others are tolerated and ignored), and the status it writes. Domain layer: pure schemas.
 * Numbers are accepted as any finite number here; range checks live in the planner (`desired.ts`, `disks.ts`,
 * `networks.ts`), so a bad value becomes a diagnostic that names the field instead of a decode failure.
 */
import { Schema } from "effect"
import { type ObjectRef, refOf } from "./ObjectRef.ts"

const Str = Schema.String
const opt = Schema.optionalKey

export const MachineMetadata = Schema.Struct({
  name: Str,
  namespace: Str,
  uid: opt(Str),
  resourceVersion: opt(Str),
  generation: opt(Schema.Number),
  creationTimestamp: opt(Str),
  deletionTimestamp: opt(Str),
  labels: opt(Schema.Record(Str, Str)),
  annotations: opt(Schema.Record(Str, Str)),
  finalizers: opt(Schema.Array(Str))
})
export type MachineMetadata = typeof MachineMetadata.Type

export const MachineDisk = Schema.Struct({
  name: opt(Str),
  sizeGB: opt(Schema.Number),
  /** Bus: virtio (default), sata, scsi. */
  type: opt(Str),
  boot: opt(Schema.Boolean),
  device: opt(Str)
})
export type MachineDisk = typeof MachineDisk.Type

/** A key of a Secret or ConfigMap in the Machine's namespace on the supervisor. */
export const SourceRef = Schema.Struct({ name: Str, key: opt(Str) })
export type SourceRef = typeof SourceRef.Type

export const MachineSpec = Schema.Struct({
  provider: opt(Str),
  machineClass: opt(Str),
  /** Not in the CRD: the seed examples' name for `machineClass`. Accepted by the offline `plan` with a warning. */
  instanceType: opt(Str),
  cpu: opt(
    Schema.Struct({
      cores: opt(Schema.Number),
      sockets: opt(Schema.Number),
      threadsPerCore: opt(Schema.Number)
    })
  ),
  /** Guest memory in bytes; overrides the MachineClass when > 0. */
  memory: opt(Schema.Number),
  disks: opt(Schema.Array(MachineDisk)),
  network: opt(
    Schema.Struct({
      networkNamespaceName: opt(Str),
      /** Custom networks (ADR 0007): an interface with a `subnet` attaches to that NetworkAttachmentDefinition. */
      interfaces: opt(Schema.Array(Schema.Struct({ name: opt(Str), subnet: opt(Str), primary: opt(Schema.Boolean) })))
    })
  ),
  os: opt(
    Schema.Struct({
      /** The boot disk's image (ADR 0010): `http(s)://...`, `docker://...` or `datasource:NAMESPACE/NAME`. */
      imageID: opt(Str),
      /** An installer ISO attached as a CD-ROM behind the boot disk. */
      isoUri: opt(Str),
      /** The guest's architecture (amd64, arm64, x86_64); arm64 gets host-passthrough CPUs. */
      architecture: opt(Str)
    })
  ),
  cloudInit: opt(
    Schema.Struct({
      /** noCloud (default) or configDrive. */
      type: opt(Str),
      userData: opt(Str),
      userDataBase64: opt(Str),
      userDataSecretRef: opt(SourceRef),
      userDataConfigMapRef: opt(SourceRef),
      networkData: opt(Str),
      networkDataBase64: opt(Str),
      networkDataSecretRef: opt(SourceRef),
      networkDataConfigMapRef: opt(SourceRef)
    })
  ),
  /** SSH public keys, folded into the cloud-init user data. */
  sshKeys: opt(Schema.Array(Str)),
  /** Legacy user data (a script or a cloud-config), folded into the cloud-init user data. */
  userData: opt(Str)
})
export type MachineSpec = typeof MachineSpec.Type

export const Condition = Schema.Struct({
  type: Str,
  status: Schema.Literals(["True", "False", "Unknown"]),
  reason: Str,
  message: Str,
  lastTransitionTime: Str
})
export type Condition = typeof Condition.Type

export const NetworkInterfaceStatus = Schema.Struct({
  name: opt(Str),
  macAddress: opt(Str),
  ipAddresses: opt(Schema.Array(Str)),
  ipv6Addresses: opt(Schema.Array(Str)),
  state: opt(Str),
  type: opt(Str)
})

export const DiskStatus = Schema.Struct({
  name: opt(Str),
  device: opt(Str),
  pvcName: opt(Str),
  volumeMode: opt(Str),
  size: opt(Schema.Number),
  accessModes: opt(Schema.Array(Str))
})

/** The status fields the operator writes (all exist in the CRD schema, so none is pruned). */
export const MachineStatus = Schema.Struct({
  phase: opt(Str),
  state: opt(Str),
  message: opt(Str),
  provider: opt(Str),
  failureReason: opt(Str),
  failureMessage: opt(Str),
  ipAddresses: opt(Schema.Array(Str)),
  ipv6Addresses: opt(Schema.Array(Str)),
  publicIPAddresses: opt(Schema.Array(Str)),
  privateIPAddresses: opt(Schema.Array(Str)),
  networkInterfaces: opt(Schema.Array(NetworkInterfaceStatus)),
  disks: opt(Schema.Array(DiskStatus)),
  conditions: opt(Schema.Array(Condition))
})
export type MachineStatus = typeof MachineStatus.Type

export class Machine extends Schema.Class<Machine>("Machine")({
  apiVersion: opt(Str),
  kind: opt(Str),
  metadata: MachineMetadata,
  spec: MachineSpec,
  status: opt(MachineStatus)
}) {}

/** Phases of the CRD's documented vocabulary that the operator writes. */
export type Phase = "Pending" | "Creating" | "Running" | "Stopping" | "Stopped" | "Terminating" | "Failed"

export const isDeleting = (m: Machine): boolean => m.metadata.deletionTimestamp !== undefined
export const hasFinalizer = (m: Machine, finalizer: string): boolean =>
  (m.metadata.finalizers ?? []).includes(finalizer)
/** The class the Machine asks for: `machineClass`, or the `instanceType` alias when only that is set. */
export const requestedClass = (m: Machine): string | undefined => m.spec.machineClass ?? m.spec.instanceType

/** The Machine as an action target. */
export const machineRef = (m: Machine): ObjectRef => refOf("Machine", m.metadata.name, m.metadata.namespace)
