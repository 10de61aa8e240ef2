/**
 * The laws of issue 13 (ADR 0015) as fast-check properties over the scenario generator (`fixtures/arbitraries.ts`):
 * the plan hash is deterministic and changes exactly when the actions change; with the approval policy on, no
 * destructive action runs without a matching approval; a paused Machine gets no write; a recorded decision trace
 * replays to exactly the recorded plan, with no secret in it. Each law also checks that the generator reached the
 * cases it is about, so none holds vacuously.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { Action } from "../../src/domain/Action.ts"
import { isDestructive } from "../../src/domain/actionInfo.ts"
import { parseTraceLine, TRACE_SCHEMA, traceLine } from "../../src/domain/decisionTrace.ts"
import {
  APPROVE_PLAN_ANNOTATION,
  approvalHash,
  PAUSED_ALLOW_DELETION_ANNOTATION,
  PAUSED_ANNOTATION
} from "../../src/domain/governance.ts"
import { isDeleting, Machine } from "../../src/domain/Machine.ts"
import { allActions } from "../../src/domain/Plan.ts"
import { actionFingerprint, PLANNER_VERSION, planHash } from "../../src/domain/planHash.ts"
import { plan } from "../../src/domain/planner.ts"
import { replayOne } from "../../src/domain/replay.ts"
import { Settings } from "../../src/domain/Settings.ts"
import { simulate } from "../../src/domain/simulate.ts"
import { abandoning, RUNS, type Scenario, SOURCE_SECRET, scenario } from "../fixtures/arbitraries.ts"

const params = { numRuns: RUNS, verbose: 1 } as const

const annotate = (m: Machine, annotations: Record<string, string | undefined>): Machine => {
  const next: Record<string, string> = { ...(m.metadata.annotations ?? {}) }
  for (const [k, v] of Object.entries(annotations)) {
    if (v === undefined) delete next[k]
    else next[k] = v
  }
  return Machine.make({ ...m, metadata: { ...m.metadata, annotations: next } })
}

/** The scenario with the approval policy on, and without a pause (a pause holds everything anyway). */
const approvalOn = (s: Scenario): Scenario => ({
  ...s,
  machine: annotate(s.machine, { [PAUSED_ANNOTATION]: undefined }),
  settings: Settings.make({ ...s.settings, requireApproval: true })
})

const sortedFingerprints = (actions: ReadonlyArray<Action>) => actions.map(actionFingerprint).sort()

describe("governance laws (issue 13)", () => {
  it("plan hash: deterministic, blind to reasons, resourceVersions, others' metadata on a patched VM, order and what is held; changes with any action and the planner version", () => {
    let nonEmpty = 0
    fc.assert(
      fc.property(scenario, fc.integer(), (s, salt) => {
        const p = plan(s)
        const all = allActions(p)
        assert.strictEqual(p.hash, planHash(all))
        assert.strictEqual(plan(s).hash, p.hash)
        // Not what would be done: the reason (display only), the resourceVersion (moves with status updates), order.
        const noise = all
          .map((a) => ({
            ...a,
            reason: `${a.reason} ${salt}`,
            ...("resourceVersion" in a ? { resourceVersion: `${salt}` } : {}),
            // Others' labels and annotations on the VM a patch changes: the patch writes only ours.
            ...(a._tag === "PatchVirtualMachine"
              ? {
                  before: {
                    ...a.before,
                    labels: { ...a.before.labels, "example.com/tool": `${salt}` },
                    annotations: { ...a.before.annotations, "example.com/seen": `${salt}` }
                  }
                }
              : {})
          }))
          .reverse() as ReadonlyArray<Action>
        assert.strictEqual(planHash(noise), p.hash)
        assert.notStrictEqual(planHash(all, `${PLANNER_VERSION}+1`), p.hash)
        if (all.length === 0) return
        nonEmpty++
        // What would be done: one action fewer, or one aimed at another object, is another plan.
        assert.notStrictEqual(planHash(all.slice(1)), p.hash)
        const moved = { ...all[0]!, target: { ...all[0]!.target, name: `${all[0]!.target.name}-x` } } as Action
        assert.notStrictEqual(planHash([moved, ...all.slice(1)]), p.hash)
      }),
      params
    )
    assert.isAbove(nonEmpty, 0)
  })

  it("plan hash: two plans have one hash exactly when they would do the same (as sets of actions)", () => {
    fc.assert(
      fc.property(scenario, scenario, (a, b) => {
        const pa = plan(a)
        const pb = plan(b)
        const same =
          JSON.stringify(sortedFingerprints(allActions(pa))) === JSON.stringify(sortedFingerprints(allActions(pb)))
        assert.strictEqual(pa.hash === pb.hash, same)
      }),
      params
    )
  })

  it("approvals: with the policy on, no destructive action runs without a matching approval; the shown hash releases exactly them", () => {
    let held = 0
    fc.assert(
      fc.property(scenario, (s0) => {
        const s = approvalOn(s0)
        const p = plan(s)
        const destructive = allActions(p).filter(isDestructive)
        const given = s.machine.metadata.annotations?.[APPROVE_PLAN_ANNOTATION]
        if (given !== approvalHash(allActions(p))) assert.isFalse(p.actions.some(isDestructive))
        if (destructive.length === 0) return
        held++
        // Held for approval, with the hash to approve named in the diagnostic; non-destructive steps still run.
        assert.deepStrictEqual(
          p.held?.map((h) => h.action),
          destructive
        )
        const hash = approvalHash(allActions(p))
        assert.isTrue(p.diagnostics.some((d) => d.reason === "ApprovalRequired" && d.message.includes(hash)))
        assert.deepStrictEqual(
          p.actions,
          allActions(p).filter((a) => !isDestructive(a))
        )
        // Approved with that hash: the same plan (same hash), now all runnable.
        const approved = plan({ ...s, machine: annotate(s.machine, { [APPROVE_PLAN_ANNOTATION]: hash }) })
        assert.strictEqual(approved.hash, p.hash)
        assert.deepStrictEqual(sortedFingerprints(approved.actions), sortedFingerprints(allActions(p)))
        assert.isUndefined(approved.held)
      }),
      params
    )
    assert.isAbove(held, 0)
  })

  it("approvals: over several rounds of execution without an approval, nothing destructive is ever executed", () => {
    fc.assert(
      fc.property(scenario, (s0) => {
        const s = approvalOn(s0)
        let world = { machine: s.machine as Machine | undefined, observed: s.observed }
        for (let round = 0; round < 5 && world.machine !== undefined; round++) {
          const p = plan({ ...s, machine: world.machine, observed: world.observed })
          assert.isFalse(p.actions.some(isDestructive), `round ${round}`)
          if (p.actions.length === 0) break
          world = simulate(world, p.actions)
        }
      }),
      params
    )
  })

  it("pause: a paused Machine gets no write (deletion only when it allows it); what it wants is held, under the same hash", () => {
    let paused = 0
    fc.assert(
      fc.property(scenario, (s) => {
        const m = annotate(s.machine, { [PAUSED_ANNOTATION]: "true", [PAUSED_ALLOW_DELETION_ANNOTATION]: undefined })
        const p = plan({ ...s, machine: m })
        const unpaused = plan({ ...s, machine: annotate(m, { [PAUSED_ANNOTATION]: undefined }) })
        const allowed = isDeleting(m) && s.machine.metadata.annotations?.[PAUSED_ALLOW_DELETION_ANNOTATION] === "true"
        if (!allowed) assert.deepStrictEqual(p.actions, [])
        if (unpaused.actions.length > 0) paused++
        assert.strictEqual(p.hash, unpaused.hash)
        assert.deepStrictEqual(sortedFingerprints(allActions(p)), sortedFingerprints(allActions(unpaused)))
        // Deletion with the exception goes as if not paused.
        if (isDeleting(m)) {
          const through = plan({ ...s, machine: annotate(m, { [PAUSED_ALLOW_DELETION_ANNOTATION]: "true" }) })
          assert.deepStrictEqual(through.actions, unpaused.actions)
        }
      }),
      params
    )
    assert.isAbove(paused, 0)
  })

  it("replay: a recorded decision, written as a JSON line and read back, replays to exactly the recorded plan; no secret is in it", () => {
    let abandoned = 0
    let withCloudInit = 0
    fc.assert(
      fc.property(fc.oneof(scenario, abandoning), (s) => {
        const p = plan(s)
        if (p.actions.some((a) => a._tag === "RemoveFinalizer" && a.abandoned !== undefined)) abandoned++
        const line = traceLine({
          schema: TRACE_SCHEMA,
          machine: `${s.machine.metadata.namespace}/${s.machine.metadata.name}`,
          plannerVersion: PLANNER_VERSION,
          input: {
            machine: s.machine,
            observed: s.observed,
            settings: s.settings,
            ...(s.now === undefined ? {} : { now: s.now })
          },
          plan: p,
          timings: { observe: 1, plan: 0, execute: 2, total: 3 }
        })
        assert.notInclude(line, "s3cr3t-cl0ud-init-val")
        assert.notInclude(line, SOURCE_SECRET.trim())
        const parsed = parseTraceLine(line)
        assert.strictEqual(parsed._tag, "Trace")
        if (parsed._tag !== "Trace") return
        if (parsed.trace.input.observed.cloudInitRendered?.payload !== undefined) withCloudInit++
        const replayed = replayOne(parsed.trace)
        assert.deepStrictEqual(replayed.differences, [])
        assert.strictEqual(replayed.replayedHash, p.hash)
        // Exactly: the replayed plan is the recorded one, as a value.
        assert.deepStrictEqual(plan(parsed.trace.input), parsed.trace.plan)
      }),
      params
    )
    assert.isAbove(abandoned, 0)
    assert.isAbove(withCloudInit, 0)
  })
})
