/**
 * What the watch caches keep of each object: the fields the operator reads, nothing else (the informer's transform,
 * as controller-runtime's `TransformStripManagedFields` and kube-rs's metadata watchers). Effects layer. Every slim
 * form is checked against the domain's observer of the kind (`test/effects/cache/slim.test.ts`: the observer sees the
 * same thing in the slim object as in the full one), so a field an observer starts to read is not silently dropped.
 */
import type { KubeObject, ObjectMeta } from "../../domain/KubeObject.ts"
import { Kinds } from "../../domain/ObjectRef.ts"
import type { KindOf } from "../../domain/reads.ts"

/** kubectl's copy of the whole applied object: as large as the object, read by nobody here. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

const record = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}

/** Metadata without managedFields, selfLink and (unless kept) kubectl's last-applied copy. */
export const slimMetadata = (m: ObjectMeta, keepLastApplied = false): ObjectMeta => {
  const {
    managedFields: _mf,
    selfLink: _sl,
    ...rest
  } = m as ObjectMeta & { managedFields?: unknown; selfLink?: unknown }
  const annotations = m.annotations
  if (keepLastApplied || annotations === undefined || !(LAST_APPLIED_ANNOTATION in annotations)) return rest
  const { [LAST_APPLIED_ANNOTATION]: _la, ...others } = annotations
  return { ...rest, annotations: others }
}

/** Only the named top-level fields of `status` (those an observer reads). */
const statusFields = (o: KubeObject, fields: ReadonlyArray<string>): { readonly status?: Record<string, unknown> } => {
  const status = record(o.status)
  const kept: Record<string, unknown> = {}
  for (const f of fields) if (status[f] !== undefined) kept[f] = status[f]
  return Object.keys(kept).length === 0 ? {} : { status: kept }
}

const pick = (o: KubeObject, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const kept: Record<string, unknown> = {}
  for (const f of fields) if (o[f] !== undefined) kept[f] = o[f]
  return kept
}

const base = (o: KubeObject, keepLastApplied = false) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: slimMetadata(o.metadata, keepLastApplied)
})

type Slim = (o: KubeObject) => KubeObject

/**
 * Per kind:
 * - VirtualMachine: spec (drift compares it; annotations too, so the last-applied copy stays) and
 *   `status.printableStatus`;
 * - VirtualMachineInstance: `status.phase`, `interfaces`, `volumeStatus` (its spec, the whole domain, is not read);
 * - PersistentVolumeClaim: spec (size, class, modes), no status;
 * - DataVolume: status (phase, progress, conditions), no spec (the import source);
 * - Namespace, NetworkAttachmentDefinition: metadata (labels, deletion; a NAD's existence);
 * - Machine: everything but managedFields and the last-applied copy (the planner decodes the whole Machine);
 * - Secret, ConfigMap (the supervisor's cloud-init sources): `data`, `stringData`, `binaryData` (the last-applied
 *   copy would hold the values a second time);
 * - others (MachineClass, KubevirtConfig): everything but managedFields.
 */
const slims: ReadonlyArray<readonly [KindOf, Slim]> = [
  [Kinds.VirtualMachine, (o) => ({ ...base(o, true), spec: o.spec, ...statusFields(o, ["printableStatus"]) })],
  [Kinds.VirtualMachineInstance, (o) => ({ ...base(o), ...statusFields(o, ["phase", "interfaces", "volumeStatus"]) })],
  [Kinds.PersistentVolumeClaim, (o) => ({ ...base(o), spec: o.spec })],
  [Kinds.DataVolume, (o) => ({ ...base(o, true), ...(o.status === undefined ? {} : { status: o.status }) })],
  [Kinds.Namespace, (o) => base(o)],
  [Kinds.NetworkAttachmentDefinition, (o) => base(o)],
  [Kinds.Secret, (o) => ({ ...base(o), ...pick(o, ["data", "stringData"]) })],
  [Kinds.ConfigMap, (o) => ({ ...base(o), ...pick(o, ["data", "binaryData"]) })],
  [
    Kinds.Machine,
    (o) => {
      const { metadata, ...rest } = o
      return { ...rest, metadata: slimMetadata(metadata) }
    }
  ]
]

const everythingButManagedFields: Slim = (o) => {
  const { metadata, ...rest } = o
  return { ...rest, metadata: slimMetadata(metadata, true) } as KubeObject
}

/** Only the metadata: for a cache of which only names are read (the Go operator's objects, ADR 0014). */
export const metadataOnly: Slim = (o) => base(o)

/** The slim form for objects of `kind`. */
export const slimFor = (kind: KindOf): Slim =>
  slims.find(([k]) => k.apiVersion === kind.apiVersion && k.kind === kind.kind)?.[1] ?? everythingButManagedFields
