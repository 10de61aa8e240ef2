/**
 * `kubevirt-operator plan --replay FILE...`: reads decision traces (a JSON-lines file written by `run
 * --decision-trace`, or the operator's JSON log with `DECISION_TRACE=log`), replays each through this planner and
 * prints what differs, per Machine (ADR 0015). Runtime layer: file reading only; the replay is `domain/replay.ts`.
 * Exit codes: 0 every decision the same, 2 some differ, 1 unreadable input (a file, or a trace of another schema).
 */
import { readFileSync } from "node:fs"
import { type DecisionTrace, parseTraceLine } from "../../domain/decisionTrace.ts"
import { renderReplay, replayTraces } from "../../domain/replay.ts"

/** Where the command prints (the CLI's `CliIo`, structurally: plan.ts imports this file). */
interface Io {
  readonly out: (s: string) => void
  readonly err: (s: string) => void
}

export const runReplay = (files: ReadonlyArray<string>, output: "text" | "json", io: Io): 0 | 1 | 2 => {
  const traces: Array<DecisionTrace> = []
  const problems: Array<string> = []
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch (e) {
      problems.push(`${file}: ${e instanceof Error ? e.message : String(e)}`)
      continue
    }
    for (const [i, line] of text.split("\n").entries()) {
      const parsed = parseTraceLine(line)
      if (parsed._tag === "Trace") traces.push(parsed.trace)
      else if (parsed._tag === "Bad") problems.push(`${file}:${i + 1}: ${parsed.problem}`)
    }
  }
  if (problems.length > 0) {
    for (const p of problems.slice(0, 20)) io.err(`error: ${p}`)
    if (problems.length > 20) io.err(`error: ... and ${problems.length - 20} more`)
    return 1
  }
  const report = replayTraces(traces)
  io.out(output === "json" ? JSON.stringify(report, null, 2) : renderReplay(report))
  return report.differing > 0 ? 2 : 0
}
