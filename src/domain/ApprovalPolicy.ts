/**
 * Whether a Machine's destructive steps need a person's approval (`governance.ts`, ADR 0015), and who says so.
 * Domain layer: pure schema, observed for the Machine (its KubevirtConfig's and its namespace's annotations) and kept
 * in ObservedState, so a recorded decision replays with the policy it was made under.
 */
import { Schema } from "effect"

export const ApprovalPolicy = Schema.Struct({
  required: Schema.Boolean,
  /** Where the policy comes from, for the message: `KubevirtConfig 'a'`, `Namespace 'team-a'`, `REQUIRE_APPROVAL`. */
  source: Schema.String
})
export type ApprovalPolicy = typeof ApprovalPolicy.Type
