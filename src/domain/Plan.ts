/**
 * The planner's output for one Machine: ordered actions plus diagnostics, and the JSON codec that makes a plan
 * printable and re-readable (`plan --output json` decodes back to the same value). Domain layer: pure.
 * `actions` is exactly what the interpreter runs; actions planned but held back (a paused Machine, a destructive step
 * waiting for approval, `governance.ts`) are in `held` and never run from there.
 */
import { Schema } from "effect"
import { Action } from "./Action.ts"
import { Diagnostic, isBlocking } from "./Diagnostic.ts"
import { ObjectRef } from "./ObjectRef.ts"

/** Why a planned action does not run now. */
export const HoldGate = Schema.Literals(["Paused", "Approval"])
export type HoldGate = typeof HoldGate.Type

/** An action the planner wants but holds back: the Machine is paused, or the step waits for a person's approval. */
export const HeldAction = Schema.Struct({ action: Action, gate: HoldGate })
export type HeldAction = typeof HeldAction.Type

export class Plan extends Schema.Class<Plan>("Plan")({
  machine: ObjectRef,
  /** The KubevirtConfig the Machine is (or will be) placed on, when placement is decided. */
  cluster: Schema.optionalKey(Schema.String),
  /** What runs now, in order. */
  actions: Schema.Array(Action),
  diagnostics: Schema.Array(Diagnostic),
  /** Planned but held back (absent: nothing held). Counted as pending changes; never executed from here. */
  held: Schema.optionalKey(Schema.Array(HeldAction)),
  /**
   * The plan hash (`planHash.ts`): over the actions and the held actions (what would be done, with targets and
   * contents) and the planner version, not over progress. Set by the planner; the Machine's `Planned` condition and
   * `plan` show it.
   */
  hash: Schema.optionalKey(Schema.String),
  /** Look at the Machine again within this many seconds (a deadline the plan waits for, e.g. AbandonAfter). */
  recheckAfterSeconds: Schema.optionalKey(Schema.Number)
}) {}

/** Every action the plan wants, runnable and held, in plan order of each list. */
export const allActions = (p: Plan): ReadonlyArray<Action> => [...p.actions, ...(p.held ?? []).map((h) => h.action)]

/** Several Machines' plans: what the `plan` command prints. */
export const PlanSet = Schema.Struct({ plans: Schema.Array(Plan) })
export type PlanSet = typeof PlanSet.Type

export const PlanSetJson = Schema.toCodecJson(PlanSet)
export const encodePlanSetJson = Schema.encodeSync(PlanSetJson)
export const decodePlanSetJson = Schema.decodeUnknownSync(PlanSetJson)

export const hasErrors = (p: Plan): boolean => p.diagnostics.some(isBlocking)
