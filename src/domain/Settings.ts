/**
 * Operator-wide settings that shape desired objects (the Go operator's environment variables, same names).
 * Domain layer: a pure value; `src/runtime` reads it from flags and environment.
 */
import { Schema } from "effect"

export const VolumeMode = Schema.Literals(["Block", "Filesystem"])
export const AccessMode = Schema.Literals(["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"])

export class Settings extends Schema.Class<Settings>("Settings")({
  /** `DEFAULT_KUBEVIRT_CONFIG`: placement when the Machine has no annotation. */
  defaultKubevirtConfig: Schema.optionalKey(Schema.String),
  /** `PVC_VOLUME_MODE`, default Block. */
  pvcVolumeMode: VolumeMode,
  /** `PVC_ACCESS_MODE`, default ReadWriteMany. */
  pvcAccessMode: AccessMode,
  /** `STORAGE_CLASS_NAME`; unset means the remote cluster's default StorageClass. */
  storageClassName: Schema.optionalKey(Schema.String),
  /** `CPU_MODEL`, default host-model. */
  cpuModel: Schema.String,
  /**
   * `DISABLE_CPU_HT_FEATURE`, default true: host-model CPUs get `ht` disabled, without which guests crash-loop on
   * KubeVirt >= 1.8 (reference W22). Absent counts as true.
   */
  disableCpuHtFeature: Schema.optionalKey(Schema.Boolean),
  /**
   * `ADOPT_GO_OPERATOR` (off by default): the Go operator's `MANAGED_BY` value (`GO_OPERATOR_MANAGED_BY`, default
   * `kubevirt-operator`) whose objects for a Machine this operator adopts (ADR 0014). Absent: adoption is off, and
   * nothing the Go operator created is read, adopted or changed.
   */
  adoptGoOperator: Schema.optionalKey(Schema.String),
  /**
   * `MAC_SET`: the second octet of derived MAC addresses (`02:<MAC_SET>:...`, ADR 0013), two lower-case hex digits;
   * absent counts as `12` (the Go operator's default).
   */
  macSet: Schema.optionalKey(Schema.String),
  /**
   * `CREATE_NETWORK_ATTACHMENTS` / `--create-network-attachments` (ADR 0013): the operator creates the VLAN
   * NetworkAttachmentDefinition a NetworkNamespace names when it is missing, and deletes the ones it created once no
   * VM of their namespace uses them. Absent counts as false: NADs are the cluster owner's, looked up and waited for.
   */
  createNetworkAttachments: Schema.optionalKey(Schema.Boolean),
  /** `NETWORK_ATTACHMENT_DEFINITION_CNI_VERSION` of the NADs the operator creates; absent counts as `1.0.0`. */
  nadCniVersion: Schema.optionalKey(Schema.String),
  /**
   * `IP_SOURCE`: where `status.publicIPAddresses` come from: `vmi` (absent: the default) or `networkconfiguration`
   * (the NetworkConfiguration's status, as the Go operator's F39).
   */
  ipSource: Schema.optionalKey(Schema.Literals(["vmi", "networkconfiguration"])),
  /**
   * `REQUIRE_APPROVAL`, default false: every Machine's destructive steps wait for `vitistack.io/approve-plan`
   * (`governance.ts`); without it, only where a KubevirtConfig or Namespace annotation asks for it.
   */
  requireApproval: Schema.optionalKey(Schema.Boolean)
}) {}

export const defaultSettings: Settings = Settings.make({
  pvcVolumeMode: "Block",
  pvcAccessMode: "ReadWriteMany",
  cpuModel: "host-model"
})
