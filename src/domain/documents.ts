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

export const sortDocuments = (docs: ReadonlyArray<SourceDocument>): Documents => {
  const machines: Array<Machine> = []
  const machineClasses: Array<MachineClass> = []
  const kubevirtConfigs: Array<KubevirtConfig> = []
  const objects: Array<KubeObject> = []
  const problems: Array<string> = []
  for (const doc of docs.flatMap(expand)) {
    if (doc.value === null || doc.value === undefined) continue
    const r = asRecord(doc.value)
    const kind = asString(r.kind)
    const meta = asRecord(r.metadata)
    const name = asString(meta.name)
    const ns = asString(meta.namespace)
    const where = `${doc.source}#${doc.index}${kind === undefined ? "" : ` (${kind}${name === undefined ? "" : ` ${ns === undefined ? "" : `${ns}/`}${name}`})`}`
    const take = <A>(schema: Schema.Codec<A, any>, into: Array<A>, value: unknown = doc.value) => {
      const out = decode(schema, value, where)
      if (Array.isArray(out)) problems.push(...out)
      else into.push(out as A)
    }
    switch (kind) {
      case "Machine":
        // Namespace defaults as kubectl does, so example files need not repeat it.
        take(Machine, machines, ns === undefined ? { ...r, metadata: { ...meta, namespace: "default" } } : r)
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
