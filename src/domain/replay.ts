/**
 * `plan --replay`: the planner run again on the inputs recorded in decision traces (`decisionTrace.ts`), each
 * result compared with the recorded plan (ADR 0015). Domain layer: pure. A recorded trace replayed by the planner that
 * recorded it reproduces every plan exactly; run through another planner version (an upgrade), the differences are
 * listed per Machine, decision by decision.
 */
import { type DecisionTrace, planDifferences, sameVersion } from "./decisionTrace.ts"
import { PLANNER_VERSION } from "./planHash.ts"
import { plan } from "./planner.ts"
import { hashOf } from "./planSummary.ts"
import { redactPlan } from "./redactPlan.ts"

export interface ReplayedDecision {
  /** The time the planner was given (the trace's `now`). */
  readonly at: string
  readonly recordedHash: string
  readonly replayedHash: string
  /** `- ` recorded only, `+ ` replayed only; empty: the same decision. */
  readonly differences: ReadonlyArray<string>
}

export interface ReplayedMachine {
  readonly machine: string
  readonly decisions: ReadonlyArray<ReplayedDecision>
}

export interface ReplayReport {
  readonly plannerVersion: string
  /** The planner versions that recorded the traces. */
  readonly recordedBy: ReadonlyArray<string>
  readonly machines: ReadonlyArray<ReplayedMachine>
  readonly decisions: number
  readonly differing: number
}

/** Replays one trace. Compared as recorded: image URLs in display form (ADR 0018). */
export const replayOne = (trace: DecisionTrace): ReplayedDecision => {
  const again = redactPlan(plan(trace.input))
  return {
    at: trace.input.now ?? "",
    recordedHash: hashOf(trace.plan),
    replayedHash: hashOf(again),
    differences: planDifferences(trace.plan, again, sameVersion(trace))
  }
}

/** Replays every trace, grouped by Machine in the order first seen, each Machine's decisions in file order. */
export const replayTraces = (traces: ReadonlyArray<DecisionTrace>): ReplayReport => {
  const byMachine = new Map<string, Array<ReplayedDecision>>()
  for (const t of traces) {
    const list = byMachine.get(t.machine) ?? []
    list.push(replayOne(t))
    byMachine.set(t.machine, list)
  }
  const machines = [...byMachine].map(([machine, decisions]) => ({ machine, decisions }))
  const all = machines.flatMap((m) => m.decisions)
  return {
    plannerVersion: PLANNER_VERSION,
    recordedBy: [...new Set(traces.map((t) => t.plannerVersion))].sort(),
    machines,
    decisions: all.length,
    differing: all.filter((d) => d.differences.length > 0).length
  }
}

/** The report as text: a line per Machine, the differing decisions with their lines, and a summary. */
export const renderReplay = (r: ReplayReport): string => {
  const lines = [
    `Replaying with planner ${r.plannerVersion}; recorded by planner ${r.recordedBy.join(", ") || "(none)"}.`
  ]
  for (const m of r.machines) {
    const differing = m.decisions.filter((d) => d.differences.length > 0)
    lines.push(
      `Machine ${m.machine}: ${m.decisions.length} decision(s), ${differing.length === 0 ? "all the same" : `${differing.length} differ`}`
    )
    for (const d of differing) {
      lines.push(`  decision at ${d.at || "(no time)"}: plan ${d.recordedHash} recorded, ${d.replayedHash} now`)
      for (const l of d.differences) lines.push(`    ${l}`)
    }
  }
  lines.push("", `Replay: ${r.decisions} decision(s), ${r.differing} differ.`)
  return lines.join("\n")
}
