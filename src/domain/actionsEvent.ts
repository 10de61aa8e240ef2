/**
 * The one Normal Event a reconcile records for the actions it ran (ADR 0017, decision 12): what one round changed,
 * as the plan shows it. Domain layer: pure.
 * - reason: the action's tag when every recorded action is of one kind (`CreatePvc` for a Machine's two claims), else
 *   `Applied`;
 * - message: each action's plan line, in the order they ran, joined by `; ` (the recorder cuts it at 1,024 characters);
 * - quiet actions (`actionInfo`: the finalizer) are left out, and a round of only those records nothing.
 * One Event per round instead of one per action: a new Machine costs one Event write, not two or three.
 */
import type { Action } from "./Action.ts"
import { recordsEvent } from "./actionInfo.ts"
import { renderAction } from "./render.ts"

export const APPLIED_REASON = "Applied"

export const actionsEvent = (
  executed: ReadonlyArray<Action>
): { readonly reason: string; readonly message: string } | undefined => {
  const recorded = executed.filter(recordsEvent)
  const first = recorded[0]
  if (first === undefined) return undefined
  return {
    reason: recorded.every((a) => a._tag === first._tag) ? first._tag : APPLIED_REASON,
    message: recorded.map((a) => renderAction(a).trim()).join("; ")
  }
}
