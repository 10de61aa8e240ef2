/** The requeue policy after a reconcile (style G8): a table. */
import { assert, describe, it } from "@effect/vitest"
import { advisory, error, info, waiting } from "../../src/domain/Diagnostic.ts"
import type { ExecutionOutcome } from "../../src/domain/ExecutionOutcome.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { Plan } from "../../src/domain/Plan.ts"
import { CLASH_RECHECK_SECONDS, GOING_AWAY_RECHECK_SECONDS, outcomeFor } from "../../src/domain/reconcileOutcome.ts"

const planWith = (diagnostics: Plan["diagnostics"]) =>
  Plan.make({ machine: refOf("Machine", "m", "default"), actions: [], diagnostics })
const failed = (reason: string, retryable: boolean, action: "EnsureNamespace" | "CreatePvc" = "EnsureNamespace") =>
  ({ executed: 0, failed: { action, target: "x", reason, message: "m", retryable } }) satisfies ExecutionOutcome

describe("outcomeFor", () => {
  const cases = [
    { name: "Converged", plan: planWith([]), execution: { executed: 0 }, want: "Done" },
    { name: "ActionsRan", plan: planWith([]), execution: { executed: 3 }, want: "Requeue" },
    { name: "RetryableFailure", plan: planWith([]), execution: failed("ServerError", true), want: "Backoff" },
    // Design 3.3: a refused namespace create is retried with backoff (RBAC changes are not watched), not left 300 s.
    { name: "ForbiddenNamespaceCreate", plan: planWith([]), execution: failed("Forbidden", false), want: "Backoff" },
    {
      name: "TerminalFailure",
      plan: planWith([]),
      execution: failed("Invalid", false, "CreatePvc"),
      want: "AwaitChange"
    },
    {
      name: "BadInput",
      plan: planWith([error("MachineClassNotFound", "x", "spec.machineClass")]),
      execution: { executed: 0 },
      want: "AwaitChange"
    },
    {
      name: "WaitingOnRemote",
      plan: planWith([waiting("RemoteUnreachable", "x")]),
      execution: { executed: 0 },
      want: "Backoff"
    },
    {
      name: "AdvisoryOnly",
      plan: planWith([advisory("InstanceTypeAlias", "x")]),
      execution: { executed: 0 },
      want: "Done"
    }
  ] as const
  it.each(cases)("$name → $want", ({ plan, execution, want }) =>
    assert.strictEqual(outcomeFor(plan, execution)._tag, want)
  )

  // A deletion waiting for its own objects to go is woken by their deletion events; a short requeue bounds a missed
  // one (not the resync's minutes).
  const goingAway = [
    "WaitingForVirtualMachine",
    "WaitingForPvcs",
    "WaitingForDataVolumes",
    "WaitingForCloudInitSecret"
  ] as const
  it.each(goingAway)("%s → AwaitChange after GOING_AWAY_RECHECK_SECONDS", (reason) =>
    assert.deepStrictEqual(outcomeFor(planWith([info(reason, "x")]), { executed: 0 }), {
      _tag: "AwaitChange",
      reason,
      requeueAfterSeconds: GOING_AWAY_RECHECK_SECONDS
    })
  )

  // Only our own objects are watched: a foreign object's deletion wakes nobody, so a clash is looked at again with a
  // backoff capped well below the 5-minute safety requeue.
  const clashes = [
    {
      name: "NameClashInThePlan",
      plan: planWith([error("NameClash", "x", "metadata.name")]),
      execution: { executed: 0 },
      reason: "NameClash"
    },
    {
      name: "NotOursAtExecution",
      plan: planWith([]),
      execution: failed("NotOurs", false, "CreatePvc"),
      reason: "NotOurs"
    }
  ] as const
  it.each(clashes)("$name → Backoff capped at CLASH_RECHECK_SECONDS", ({ plan, execution, reason }) =>
    assert.deepStrictEqual(outcomeFor(plan, execution), {
      _tag: "Backoff",
      reason,
      maxDelaySeconds: CLASH_RECHECK_SECONDS
    })
  )
})
