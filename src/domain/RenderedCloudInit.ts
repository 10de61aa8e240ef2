/**
 * A Machine's cloud-init payload as rendered, without its content: the result, the digest and sizes and what the
 * rendering said. Domain layer: pure schema. A decision trace (`decisionTrace.ts`) records this in place of the
 * source values (which are Secret contents and never leave `Redacted`), and the planner uses it instead of rendering
 * again, so a replay reproduces the same digests, actions and diagnostics without ever holding the secret (ADR 0015).
 */
import { Schema } from "effect"
import { ContentSummary } from "./CloudInitSecretSpec.ts"
import { Diagnostic } from "./Diagnostic.ts"

export const RenderedCloudInit = Schema.Struct({
  result: Schema.Literals(["None", "Blocked", "Ready"]),
  diagnostics: Schema.Array(Diagnostic),
  /** Present when `result` is Ready. */
  payload: Schema.optionalKey(
    Schema.Struct({
      kind: Schema.Literals(["NoCloud", "ConfigDrive"]),
      digest: Schema.String,
      userdata: ContentSummary,
      networkdata: Schema.optionalKey(ContentSummary)
    })
  )
})
export type RenderedCloudInit = typeof RenderedCloudInit.Type
