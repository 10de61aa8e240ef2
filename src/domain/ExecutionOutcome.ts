/**
 * What executing a plan did, as the domain needs it for status: how many actions ran and the first failure.
 * Domain layer: pure schema; the interpreter in `src/effects` produces it.
 */
import { Schema } from "effect"
import { ActionTag } from "./Action.ts"

export const ActionFailure = Schema.Struct({
  action: ActionTag,
  target: Schema.String,
  /** The typed reason of the API error (NotFound, Forbidden, ...). */
  reason: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean
})
export type ActionFailure = typeof ActionFailure.Type

export const ExecutionOutcome = Schema.Struct({
  executed: Schema.Number,
  failed: Schema.optionalKey(ActionFailure)
})
export type ExecutionOutcome = typeof ExecutionOutcome.Type
