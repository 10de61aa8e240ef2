/**
 * The remote Secret that carries a Machine's cloud-init payload (ADR 0010): the desired fields the operator owns,
 * which hold digests and sizes only (never the content: plans, events and logs show them), and what it observes of a
 * live Secret (never its data). Domain layer: pure schemas; `manifests/CloudInitSecret.ts` renders and projects them.
 */
import { Schema } from "effect"

const Str = Schema.String

/** A content as plans show it: a digest prefix and a size in bytes. */
export const ContentSummary = Schema.Struct({ digest: Str, bytes: Schema.Number })

export const CloudInitSecretSpec = Schema.Struct({
  name: Str,
  namespace: Str,
  labels: Schema.Record(Str, Str),
  /** Ours, including the payload's digest (`vitistack.io/cloud-init-digest`), by which drift is seen. */
  annotations: Schema.Record(Str, Str),
  kind: Schema.Literals(["NoCloud", "ConfigDrive"]),
  /** `sha256:<hex>` of the whole payload: the executor writes the content with exactly this digest, or nothing. */
  digest: Str,
  userdata: ContentSummary,
  networkdata: Schema.optionalKey(ContentSummary)
})
export type CloudInitSecretSpec = typeof CloudInitSecretSpec.Type

export const ObservedSecret = Schema.Struct({
  name: Str,
  labels: Schema.Record(Str, Str),
  annotations: Schema.Record(Str, Str),
  resourceVersion: Str,
  deleting: Schema.Boolean
})
export type ObservedSecret = typeof ObservedSecret.Type
