/**
 * The wire form of any Kubernetes object as the operator sees it: typed metadata, the rest untyped JSON.
 * Domain layer: pure data. Manifest builders produce it; the cluster service stores and returns it.
 */
import { Schema } from "effect"

export const OwnerReference = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: Schema.optionalKey(Schema.Boolean),
  blockOwnerDeletion: Schema.optionalKey(Schema.Boolean)
})
export type OwnerReference = typeof OwnerReference.Type

export const ObjectMeta = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optionalKey(Schema.String),
  uid: Schema.optionalKey(Schema.String),
  resourceVersion: Schema.optionalKey(Schema.String),
  generation: Schema.optionalKey(Schema.Number),
  creationTimestamp: Schema.optionalKey(Schema.String),
  deletionTimestamp: Schema.optionalKey(Schema.String),
  labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  annotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  finalizers: Schema.optionalKey(Schema.Array(Schema.String)),
  ownerReferences: Schema.optionalKey(Schema.Array(OwnerReference))
})
export type ObjectMeta = typeof ObjectMeta.Type

/** Any object: apiVersion, kind, metadata, and whatever else the kind has (spec, status, data, ...). */
export interface KubeObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: ObjectMeta
  readonly [field: string]: unknown
}

export const KubeObject: Schema.Codec<KubeObject> = Schema.StructWithRest(
  Schema.Struct({ apiVersion: Schema.String, kind: Schema.String, metadata: ObjectMeta }),
  [Schema.Record(Schema.String, Schema.Unknown)]
) as unknown as Schema.Codec<KubeObject>
