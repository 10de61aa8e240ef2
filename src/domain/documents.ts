/**
 * Sorts the documents of input files into Machines, MachineClasses, KubevirtConfigs and remote objects, decoding each
 * through its schema. Domain layer: pure (files are read by the runtime). Every problem names the document
 * (`file#index`, kind and name when known) and the field, so a reviewer can fix the input.
 */
import { Schema } from "effect"
import { KubeObject } from "./KubeObject.ts"
import { KubevirtConfig } from "./KubevirtConfig.ts"
import { Machine } from "./Machine.ts"
import { MachineClass } from "./MachineClass.ts"
import { asRecord, asString } from "./manifests/jsonPath.ts"

export interface SourceDocument {
  /** File name (or "stdin"). */
  readonly source: string
  /** Position of the document in its file, from 0. */
  readonly index: number
  readonly value: unknown
}

export interface Documents {
  readonly machines: ReadonlyArray<Machine>
  readonly machineClasses: ReadonlyArray<MachineClass>
  readonly kubevirtConfigs: ReadonlyArray<KubevirtConfig>
  /** Everything else with apiVersion/kind/metadata.name: remote objects for a snapshot. */
  readonly objects: ReadonlyArray<KubeObject>
  readonly problems: ReadonlyArray<string>
}

const fieldPath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string =>
  (path ?? [])
    .map((p) => (typeof p === "object" ? p.key : p))
    .map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join("")

/** Decodes `value` with `schema`; on failure, one message per issue: `<where>: <field>: <problem>`. */
const decode = <S extends Schema.Codec<any, any>>(
  schema: S,
  value: unknown,
  where: string
): S["Type"] | Array<string> => {
  const result = Schema.toStandardSchemaV1(schema)["~standard"].validate(value)
  if (result instanceof Promise) return [`${where}: cannot be decoded synchronously`]
  if (result.issues === undefined) return result.value as S["Type"]
  return result.issues.map((i) => `${where}: ${fieldPath(i.path) || "(document)"}: ${i.message}`)
}

/** Expands `kind: List` documents (kubectl's output) into their items. */
const expand = (d: SourceDocument): Array<SourceDocument> => {
  const r = asRecord(d.value)
  return r.kind === "List" && Array.isArray(r.items) ? r.items.map((value) => ({ ...d, value })) : [d]
}

/** The apiVersion of the vitistack kinds this tool reads; a `Machine` of another group is someone else's kind. */
export const VITISTACK_API_VERSION = "vitistack.io/v1alpha1"
const VITISTACK_KINDS: ReadonlySet<string> = new Set(["Machine", "MachineClass", "KubevirtConfig"])

export const sortDocuments = (docs: ReadonlyArray<SourceDocument>): Documents => {
  const machines: Array<Machine> = []
  const machineClasses: Array<MachineClass> = []
  const kubevirtConfigs: Array<KubevirtConfig> = []
  const objects: Array<KubeObject> = []
  const problems: Array<string> = []
  // The first document of each object (apiVersion, kind, namespace, name): a second one is an error, not a second plan.
  const seen = new Map<string, string>()
  for (const doc of docs.flatMap(expand)) {
    if (doc.value === null || doc.value === undefined) continue
    const r = asRecord(doc.value)
    const kind = asString(r.kind)
    const apiVersion = asString(r.apiVersion)
    const meta = asRecord(r.metadata)
    const name = asString(meta.name)
    const given = asString(meta.namespace)
    // A Machine without a namespace is in `default`, as kubectl would put it.
    const ns = given ?? (kind === "Machine" ? "default" : undefined)
    const where = `${doc.source}#${doc.index}${kind === undefined ? "" : ` (${kind}${name === undefined ? "" : ` ${given === undefined ? "" : `${given}/`}${name}`})`}`
    if (kind !== undefined && VITISTACK_KINDS.has(kind) && apiVersion !== VITISTACK_API_VERSION) {
      problems.push(
        `${where}: apiVersion: ${apiVersion === undefined ? "missing" : `'${apiVersion}'`}; a ${kind} of this tool is ${VITISTACK_API_VERSION}`
      )
      continue
    }
    if (kind !== undefined && name !== undefined) {
      const identity = JSON.stringify([apiVersion, kind, ns, name])
      const first = seen.get(identity)
      if (first !== undefined) {
        problems.push(`${where}: duplicate of ${first}; each object may be given once`)
        continue
      }
      seen.set(identity, `${doc.source}#${doc.index}`)
    }
    const take = <A>(schema: Schema.Codec<A, any>, into: Array<A>, value: unknown = doc.value) => {
      const out = decode(schema, value, where)
      if (Array.isArray(out)) problems.push(...out)
      else into.push(out as A)
    }
    switch (kind) {
      case "Machine":
        take(Machine, machines, given === undefined ? { ...r, metadata: { ...meta, namespace: ns } } : r)
        break
      case "MachineClass":
        take(MachineClass, machineClasses)
        break
      case "KubevirtConfig":
        take(KubevirtConfig, kubevirtConfigs)
        break
      case undefined:
        problems.push(`${where}: kind: missing`)
        break
      default:
        take(KubeObject, objects)
    }
  }
  return { machines, machineClasses, kubevirtConfigs, objects, problems }
}
