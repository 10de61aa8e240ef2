/**
 * The operator's marks on remote objects and on Machines: label, annotation and finalizer keys, and the ownership
 * rule. Domain layer: pure. An object is ours only if it carries our `managed-by` label and the `source-machine`
 * label of the Machine in question (design 3.4); nothing else is ever updated or deleted.
 */
import { shortHash } from "./shortHash.ts"

export const MANAGED_BY_LABEL = "managed-by"
export const MANAGED_BY_VALUE = "vitistack-kubevirt-operator"
export const SOURCE_MACHINE_LABEL = "source-machine"
/** Holds the full Machine name when the `source-machine` label had to be shortened. */
export const SOURCE_MACHINE_ANNOTATION = "vitistack.io/source-machine"
export const PLACEMENT_ANNOTATION = "vitistack.io/kubevirt-config"
export const DELETION_POLICY_ANNOTATION = "vitistack.io/deletion-policy"
export const FINALIZER = "machine.vitistack.io/finalizer"

const LABEL_VALUE_MAX = 63

/**
 * The `source-machine` label value for a Machine name. Names of up to 63 characters are used as they are; longer
 * names keep a 54-character prefix and an 8-hex-digit hash of the full name, so the value is stable, valid, and
 * distinct for distinct names in practice. The full name then goes into an annotation.
 */
export const sourceMachineValue = (machineName: string): string => {
  if (machineName.length <= LABEL_VALUE_MAX) return machineName
  const prefix = machineName.slice(0, LABEL_VALUE_MAX - 9).replace(/[-_.]+$/, "")
  return `${prefix}-${shortHash(machineName)}`
}

/** Labels every VM, VM template and PVC of a Machine carries. */
export const ownerLabels = (machineName: string): Record<string, string> => ({
  [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
  [SOURCE_MACHINE_LABEL]: sourceMachineValue(machineName)
})

/** Annotations that go with the labels: the full Machine name when the label value was shortened. */
export const ownerAnnotations = (machineName: string): Record<string, string> =>
  machineName.length > LABEL_VALUE_MAX ? { [SOURCE_MACHINE_ANNOTATION]: machineName } : {}

/** The ownership rule: our `managed-by` label and this Machine's `source-machine` label. */
export const isOwnedBy = (labels: Readonly<Record<string, string>> | undefined, machineName: string): boolean =>
  labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && labels[SOURCE_MACHINE_LABEL] === sourceMachineValue(machineName)

/** The Machine key (`namespace/name`) an object of ours names in its `source-machine` label or annotation. */
export const sourceMachineKeys = (o: {
  readonly metadata: {
    readonly namespace?: string | undefined
    readonly labels?: Readonly<Record<string, string>> | undefined
    readonly annotations?: Readonly<Record<string, string>> | undefined
  }
}): ReadonlyArray<string> => {
  const source = o.metadata.annotations?.[SOURCE_MACHINE_ANNOTATION] ?? o.metadata.labels?.[SOURCE_MACHINE_LABEL]
  return source === undefined ? [] : [`${o.metadata.namespace}/${source}`]
}
