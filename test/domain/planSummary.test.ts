/**
 * The Planned condition (`planSummary.ts`): the reason names the first pending or blocked step, the message starts
 * with the plan hash and the counts, and is bounded.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Action } from "../../src/domain/Action.ts"
import { error, waiting } from "../../src/domain/Diagnostic.ts"
import { RECONCILE_AT_ANNOTATION } from "../../src/domain/governance.ts"
import { FINALIZER } from "../../src/domain/labels.ts"
import { Plan } from "../../src/domain/Plan.ts"
import { MAX_PLAN_MESSAGE, plannedState } from "../../src/domain/planSummary.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { webMachineRef, webPvcRef } from "../fixtures/desiredObjects.ts"

const m = aMachine().build()
const del: Action = { _tag: "DeletePvc", cluster: "remote-a", target: webPvcRef, resourceVersion: "1", reason: "x" }
const fin: Action = { _tag: "AddFinalizer", target: webMachineRef, finalizer: FINALIZER, reason: "x" }
const p = (fields: Partial<Plan>) =>
  Plan.make({ machine: webMachineRef, actions: [], diagnostics: [], hash: "0123456789abcdef", ...fields })

describe("plannedState", () => {
  const cases = [
    {
      name: "NothingToDo",
      plan: p({}),
      outcome: undefined,
      want: ["True", "UpToDate", "plan 0123456789abcdef: no changes; nothing to do"]
    },
    {
      name: "Pending",
      plan: p({ actions: [fin, del] }),
      outcome: undefined,
      want: [
        "True",
        "AddFinalizer",
        "plan 0123456789abcdef: 0 to add, 1 to change, 1 to destroy; next: AddFinalizer Machine team-a/web and 1 more"
      ]
    },
    {
      name: "Applied",
      plan: p({ actions: [fin] }),
      outcome: { executed: 1 },
      want: [
        "True",
        "Applied",
        "plan 0123456789abcdef: 0 to add, 1 to change, 0 to destroy; applied AddFinalizer Machine team-a/web"
      ]
    },
    {
      name: "Failed",
      plan: p({ actions: [del] }),
      outcome: {
        executed: 0,
        failed: {
          action: "DeletePvc" as const,
          target: "team-a/web",
          reason: "Forbidden",
          message: "no",
          retryable: false
        }
      },
      want: [
        "False",
        "PvcDeleteFailed",
        "plan 0123456789abcdef: 0 to add, 0 to change, 1 to destroy; DeletePvc team-a/web failed: no"
      ]
    },
    {
      name: "AwaitingApproval",
      plan: p({ held: [{ action: del, gate: "Approval" }], diagnostics: [waiting("ApprovalRequired", "approve me")] }),
      outcome: { executed: 0 },
      want: [
        "False",
        "AwaitingApproval",
        "plan 0123456789abcdef: 0 to add, 0 to change, 1 to destroy (1 held); approve me"
      ]
    },
    {
      name: "Paused",
      plan: p({ held: [{ action: fin, gate: "Paused" }], diagnostics: [waiting("Paused", "paused")] }),
      outcome: { executed: 0 },
      want: ["False", "Paused", "plan 0123456789abcdef: 0 to add, 1 to change, 0 to destroy (1 held); paused"]
    },
    {
      name: "Waiting",
      plan: p({ diagnostics: [waiting("ImportInProgress", "importing boot image 43%")] }),
      outcome: undefined,
      want: ["False", "ImportInProgress", "plan 0123456789abcdef: no changes; importing boot image 43%"]
    },
    {
      name: "Blocked",
      plan: p({ diagnostics: [error("MachineClassNotFound", "MachineClass 'x' does not exist")] }),
      outcome: undefined,
      want: ["False", "MachineClassNotFound", "plan 0123456789abcdef: no changes; MachineClass 'x' does not exist"]
    }
  ] as const
  it.each(cases)("$name", ({ plan, outcome, want }) => {
    const s = plannedState(m, plan, outcome)
    assert.deepStrictEqual([s.status, s.reason, s.message], [...want] as Array<string>)
  })

  it("bounded: a long message is cut, never the hash at its start", () => {
    const s = plannedState(m, p({ diagnostics: [waiting("ImportFailed", "x".repeat(2000))] }))
    assert.strictEqual(s.message.length, MAX_PLAN_MESSAGE)
    assert.match(s.message, /^plan 0123456789abcdef: /)
  })

  it("bounded: a long message keeps the reconcile-at acknowledgement whole at its end, and a long value is cut", () => {
    const asked = aMachine().annotated(RECONCILE_AT_ANNOTATION, "2026-12-01T10:00:00Z").build()
    const s = plannedState(asked, p({ diagnostics: [waiting("ImportFailed", "x".repeat(2000))] }))
    assert.strictEqual(s.message.length, MAX_PLAN_MESSAGE)
    assert.match(s.message, /^plan 0123456789abcdef: /)
    assert.match(s.message, /…; vitistack\.io\/reconcile-at 2026-12-01T10:00:00Z handled$/)
    const long = aMachine().annotated(RECONCILE_AT_ANNOTATION, "9".repeat(5000)).build()
    const l = plannedState(long, p({}))
    assert.isAtMost(l.message.length, MAX_PLAN_MESSAGE)
    assert.match(l.message, /; vitistack\.io\/reconcile-at 9{64}… handled$/)
  })

  it("names the reconcile-at request it handled", () => {
    const asked = aMachine().annotated(RECONCILE_AT_ANNOTATION, "2026-12-01T10:00:00Z").build()
    assert.match(plannedState(asked, p({})).message, /; vitistack\.io\/reconcile-at 2026-12-01T10:00:00Z handled$/)
  })
})
