/**
 * The decision trace writer (`decisionTraces.ts`): traces go through a ring buffer (the oldest dropped when the
 * writer falls behind) to a JSON-lines file that is rotated at its size bound; every line is a trace `plan --replay`
 * reads; what waits at shutdown is written.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type DecisionTrace, parseTraceLine, TRACE_SCHEMA } from "../../src/domain/decisionTrace.ts"
import { PLANNER_VERSION } from "../../src/domain/planHash.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { DecisionRecorder } from "../../src/effects/DecisionRecorder.ts"
import { decisionTracesLayer, parseTraceTarget } from "../../src/runtime/decisionTraces.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const traceOf = (i: number): DecisionTrace => {
  const machine = aMachine().named(`vm-${i}`).build()
  const observed = aCluster().build(machine)
  return {
    schema: TRACE_SCHEMA,
    machine: `default/vm-${i}`,
    plannerVersion: PLANNER_VERSION,
    input: { machine, observed, settings: defaultSettings },
    plan: plan({ machine, observed, settings: defaultSettings }),
    timings: { observe: 1, plan: 0, execute: 1, total: 2 }
  }
}

const linesOf = (path: string) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : []

const machinesIn = (path: string) =>
  linesOf(path).map((l) => {
    const t = parseTraceLine(l)
    return t._tag === "Trace" ? t.trace.machine : `bad: ${l.slice(0, 40)}`
  })

const record = (path: string, count: number, options: { capacity?: number; maxFileBytes?: number }) =>
  Effect.gen(function* () {
    const recorder = yield* DecisionRecorder
    assert.isTrue(recorder.enabled)
    for (let i = 1; i <= count; i++) yield* recorder.record(traceOf(i))
    yield* Effect.sleep("300 millis")
  }).pipe(Effect.provide(decisionTracesLayer({ target: { _tag: "File", path }, ...options })))

describe("decision trace writer", () => {
  it("DECISION_TRACE: off or empty is none, log is the log, anything else a file", () => {
    assert.isUndefined(parseTraceTarget(undefined))
    assert.isUndefined(parseTraceTarget("off"))
    assert.deepStrictEqual(parseTraceTarget("log"), { _tag: "Log" })
    assert.deepStrictEqual(parseTraceTarget("/tmp/t.jsonl"), { _tag: "File", path: "/tmp/t.jsonl" })
  })

  it.live("writes every trace as one JSON line plan --replay reads", () => {
    const path = join(mkdtempSync(join(tmpdir(), "traces-")), "t.jsonl")
    return Effect.gen(function* () {
      yield* record(path, 3, {})
      assert.deepStrictEqual(machinesIn(path), ["default/vm-1", "default/vm-2", "default/vm-3"])
    })
  })

  it.live("a ring: offered faster than written, the oldest waiting traces are dropped, never the newest", () => {
    const path = join(mkdtempSync(join(tmpdir(), "traces-")), "t.jsonl")
    return Effect.gen(function* () {
      yield* record(path, 5, { capacity: 2 })
      assert.deepStrictEqual(machinesIn(path), ["default/vm-4", "default/vm-5"])
    })
  })

  it.live("rotated at its size bound: FILE.1 holds the older lines, FILE the newer", () => {
    const path = join(mkdtempSync(join(tmpdir(), "traces-")), "t.jsonl")
    return Effect.gen(function* () {
      const recorder = yield* DecisionRecorder
      for (let i = 1; i <= 3; i++) {
        yield* recorder.record(traceOf(i))
        // One batch per trace, so each write checks the bound.
        yield* Effect.sleep("100 millis")
      }
    }).pipe(
      Effect.provide(decisionTracesLayer({ target: { _tag: "File", path }, maxFileBytes: 1 })),
      Effect.andThen(
        Effect.sync(() => {
          assert.deepStrictEqual(machinesIn(`${path}.1`), ["default/vm-2"])
          assert.deepStrictEqual(machinesIn(path), ["default/vm-3"])
        })
      )
    )
  })
})
