/**
 * Renders plans for reviewers: Terraform-style text (`+` create, `~` change, `-` destroy, one action a line with
 * its target and reason, diagnostics, then a summary line). Domain layer: pure. JSON output goes through the Plan
 * codec instead (see Plan.ts), so a saved plan decodes back to the same value. Each Machine's head line carries the
 * plan hash (the one its `Planned` condition shows); held actions are listed with what holds them.
 */
import type { Action } from "./Action.ts"
import { actionDetail, actionKind, actionTarget } from "./actionInfo.ts"
import { refKey } from "./ObjectRef.ts"
import { allActions, type HoldGate, type Plan } from "./Plan.ts"
import { hashOf } from "./planSummary.ts"

const GLYPH = { create: "+", change: "~", destroy: "-" } as const

export const renderAction = (a: Action): string =>
  `  ${GLYPH[actionKind(a)]} ${a._tag} ${actionTarget(a)}${actionDetail(a)}  (${a.reason})`

export interface Summary {
  readonly add: number
  readonly change: number
  readonly destroy: number
  /** Of those, held back (paused, or waiting for approval). */
  readonly held: number
}

/** Counts every pending change, held ones included (they are pending: a person holds them). */
export const summarize = (plans: ReadonlyArray<Plan>): Summary => {
  const kinds = plans.flatMap((p) => allActions(p).map(actionKind))
  return {
    add: kinds.filter((k) => k === "create").length,
    change: kinds.filter((k) => k === "change").length,
    destroy: kinds.filter((k) => k === "destroy").length,
    held: plans.reduce((n, p) => n + (p.held?.length ?? 0), 0)
  }
}

const HELD: { readonly [G in HoldGate]: string } = { Paused: "held: paused", Approval: "held: awaiting approval" }

export const renderPlan = (p: Plan): string => {
  const head = `Machine ${refKey(p.machine)}${p.cluster === undefined ? "" : ` -> ${p.cluster}`}  (plan ${hashOf(p)})`
  const lines = [
    head,
    ...p.actions.map(renderAction),
    ...(p.held ?? []).map((h) => `${renderAction(h.action)}  [${HELD[h.gate]}]`)
  ]
  for (const d of p.diagnostics)
    lines.push(`  ! ${d.severity} ${d.reason}${d.field === undefined ? "" : ` [${d.field}]`}: ${d.message}`)
  if (allActions(p).length === 0 && p.diagnostics.length === 0) lines.push("  (no changes)")
  return lines.join("\n")
}

/** The whole text output of `plan`: each Machine's block, then the Terraform summary line. */
export const renderPlans = (plans: ReadonlyArray<Plan>): string => {
  const s = summarize(plans)
  return [
    ...plans.map(renderPlan),
    "",
    `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${s.held === 0 ? "" : ` (${s.held} held)`}.`
  ].join("\n")
}
