/**
 * The planner's output for one Machine: ordered actions plus diagnostics, and the JSON codec that makes a plan
 * printable and re-readable (`plan --output json` decodes back to the same value). Domain layer: pure.
 */
import { Schema } from "effect"
import { Action } from "./Action.ts"
import { Diagnostic, isBlocking } from "./Diagnostic.ts"
import { ObjectRef } from "./ObjectRef.ts"

export class Plan extends Schema.Class<Plan>("Plan")({
  machine: ObjectRef,
  /** The KubevirtConfig the Machine is (or will be) placed on, when placement is decided. */
  cluster: Schema.optionalKey(Schema.String),
  actions: Schema.Array(Action),
  diagnostics: Schema.Array(Diagnostic)
}) {}

/** Several Machines' plans: what the `plan` command prints. */
export const PlanSet = Schema.Struct({ plans: Schema.Array(Plan) })
export type PlanSet = typeof PlanSet.Type

export const PlanSetJson = Schema.toCodecJson(PlanSet)
export const encodePlanSetJson = Schema.encodeSync(PlanSetJson)
export const decodePlanSetJson = Schema.decodeUnknownSync(PlanSetJson)

export const hasErrors = (p: Plan): boolean => p.diagnostics.some(isBlocking)
