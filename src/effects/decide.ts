/**
 * Plans one Machine from its observed state, reading the one fact only some plans need: whether destructive steps
 * need approval (`observeApproval.ts`), looked up when the first plan has a destructive step, then planned again with
 * it (ADR 0015). Effects layer. The operator's reconcile and `plan --kubeconfig` both decide through here, so they
 * hold the same steps; the observed state returned is the one the final plan was made from (what a decision trace
 * records).
 */
import { Effect } from "effect"
import { needsApprovalPolicy } from "../domain/governance.ts"
import { PLACEMENT_ANNOTATION } from "../domain/labels.ts"
import type { Machine } from "../domain/Machine.ts"
import { ObservedState } from "../domain/ObservedState.ts"
import type { Plan } from "../domain/Plan.ts"
import { plan } from "../domain/planner.ts"
import type { Settings } from "../domain/Settings.ts"
import { observeApproval } from "./observeApproval.ts"

export interface Decision {
  readonly plan: Plan
  readonly observed: ObservedState
}

export const decide = Effect.fn("decide")(function* (
  machine: Machine,
  observed: ObservedState,
  settings: Settings,
  /** RFC 3339, the time of the observation (AbandonAfter's deadline). */
  now: string | undefined
) {
  const first = plan({ machine, observed, settings, now })
  if (!needsApprovalPolicy(settings, observed, first)) return { plan: first, observed } satisfies Decision
  const cluster = first.cluster ?? machine.metadata.annotations?.[PLACEMENT_ANNOTATION]
  const approval = yield* observeApproval(machine, cluster === "" ? undefined : cluster)
  const withPolicy = ObservedState.make({ ...observed, approval })
  return { plan: plan({ machine, observed: withPolicy, settings, now }), observed: withPolicy } satisfies Decision
})
