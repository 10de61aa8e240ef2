/**
 * Renders plans for reviewers: Terraform-style text (`+` create, `~` change, `-` destroy, one action a line with
 * its target and reason, diagnostics, then a summary line). Domain layer: pure. JSON output goes through the Plan
 * codec instead (see Plan.ts), so a saved plan decodes back to the same value.
 */
import type { Action } from "./Action.ts"
import { actionDetail, actionKind, actionTarget } from "./actionInfo.ts"
import { refKey } from "./ObjectRef.ts"
import type { Plan } from "./Plan.ts"

const GLYPH = { create: "+", change: "~", destroy: "-" } as const

export const renderAction = (a: Action): string =>
  `  ${GLYPH[actionKind(a)]} ${a._tag} ${actionTarget(a)}${actionDetail(a)}  (${a.reason})`

export interface Summary {
  readonly add: number
  readonly change: number
  readonly destroy: number
}

export const summarize = (plans: ReadonlyArray<Plan>): Summary => {
  const kinds = plans.flatMap((p) => p.actions.map(actionKind))
  return {
    add: kinds.filter((k) => k === "create").length,
    change: kinds.filter((k) => k === "change").length,
    destroy: kinds.filter((k) => k === "destroy").length
  }
}

export const renderPlan = (p: Plan): string => {
  const head = `Machine ${refKey(p.machine)}${p.cluster === undefined ? "" : ` -> ${p.cluster}`}`
  const lines = [head, ...p.actions.map(renderAction)]
  for (const d of p.diagnostics)
    lines.push(`  ! ${d.severity} ${d.reason}${d.field === undefined ? "" : ` [${d.field}]`}: ${d.message}`)
  if (p.actions.length === 0 && p.diagnostics.length === 0) lines.push("  (no changes)")
  return lines.join("\n")
}

/** The whole text output of `plan`: each Machine's block, then the Terraform summary line. */
export const renderPlans = (plans: ReadonlyArray<Plan>): string => {
  const s = summarize(plans)
  return [...plans.map(renderPlan), "", `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.`].join(
    "\n"
  )
}
