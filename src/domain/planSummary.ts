/**
 * The plan on the Machine (ADR 0015): a bounded summary of a reconcile's plan for the `Planned` condition, since the
 * Machine CRD's status has no free-form field. Domain layer: pure. The reason names the first step that is pending or
 * blocked (or what blocks it); the message starts with the plan hash and the counts by kind, then says what comes
 * first, so truncation never loses the hash. Nothing in it moves with time: a Machine at rest keeps the same
 * condition, and its status is not written again.
 */
import type { Action, ActionTag } from "./Action.ts"
import { actionInfo, actionKind, actionTarget } from "./actionInfo.ts"
import { isBlocking, isWaiting } from "./Diagnostic.ts"
import type { ExecutionOutcome } from "./ExecutionOutcome.ts"
import { RECONCILE_AT_ANNOTATION } from "./governance.ts"
import type { Machine } from "./Machine.ts"
import { allActions, type Plan } from "./Plan.ts"
import { planHash } from "./planHash.ts"

export const PLANNED_CONDITION = "Planned"

/** The longest condition message written (the apiserver allows 32 KiB; a status is read by people). */
export const MAX_PLAN_MESSAGE = 512

export interface PlannedState {
  /** True: the plan can proceed (or there is nothing to do); False: something holds or blocks it. */
  readonly status: "True" | "False"
  readonly reason: string
  readonly message: string
}

/** The plan's hash: the one the planner stamped, or computed the same way. */
export const hashOf = (p: Plan): string => p.hash ?? planHash(allActions(p))

/** `plan 1a2b3c4d5e6f7a8b: 1 to add, 0 to change, 2 to destroy (2 held)`. */
export const planCounts = (p: Plan): string => {
  const all = allActions(p)
  const count = (k: "create" | "change" | "destroy") => all.filter((a) => actionKind(a) === k).length
  const held = p.held?.length ?? 0
  return all.length === 0
    ? `plan ${hashOf(p)}: no changes`
    : `plan ${hashOf(p)}: ${count("create")} to add, ${count("change")} to change, ${count("destroy")} to destroy${held === 0 ? "" : ` (${held} held)`}`
}

const step = (a: Action, more: number) => `${a._tag} ${actionTarget(a)}${more > 0 ? ` and ${more} more` : ""}`

/** `s` cut to fit MAX_PLAN_MESSAGE with `tail` after it: the tail is always kept whole. */
const bounded = (s: string, tail: string) => {
  const room = MAX_PLAN_MESSAGE - tail.length
  return `${s.length <= room ? s : `${s.slice(0, room - 1)}…`}${tail}`
}

/** The longest reconcile-at value echoed (a timestamp is 20 to 35 characters). */
const MAX_RECONCILE_AT = 64

/**
 * The Planned condition of a reconcile: from its plan and, when it ran, what executing it did. In order: a failed
 * action; a pause or a step held for approval; bad input; a wait; the actions it ran; actions still to run; nothing.
 */
export const plannedState = (machine: Machine, p: Plan, outcome?: ExecutionOutcome): PlannedState => {
  const counts = planCounts(p)
  const at = machine.metadata.annotations?.[RECONCILE_AT_ANNOTATION]
  const shownAt = at !== undefined && at.length > MAX_RECONCILE_AT ? `${at.slice(0, MAX_RECONCILE_AT)}…` : at
  const handled = shownAt === undefined || shownAt === "" ? "" : `; ${RECONCILE_AT_ANNOTATION} ${shownAt} handled`
  const state = (status: PlannedState["status"], reason: string, head: string): PlannedState => ({
    status,
    reason,
    message: bounded(`${counts}; ${head}`, handled)
  })
  const failed = outcome?.failed
  if (failed !== undefined)
    return state(
      "False",
      actionInfo[failed.action as ActionTag].failureReason,
      `${failed.action} ${failed.target} failed: ${failed.message}`
    )
  const gate = p.diagnostics.find((d) => d.reason === "Paused" || d.reason === "ApprovalRequired")
  if (gate !== undefined) return state("False", gate.reason === "Paused" ? "Paused" : "AwaitingApproval", gate.message)
  const blocking = p.diagnostics.find(isBlocking)
  if (blocking !== undefined) return state("False", blocking.reason, blocking.message)
  const wait = p.diagnostics.find(isWaiting)
  if (wait !== undefined) return state("False", wait.reason, wait.message)
  const first = p.actions[0]
  if (first !== undefined)
    return outcome !== undefined && outcome.executed === p.actions.length
      ? state("True", "Applied", `applied ${step(first, p.actions.length - 1)}`)
      : state("True", first._tag, `next: ${step(first, p.actions.length - 1)}`)
  return state("True", "UpToDate", "nothing to do")
}
