/** The requeue policy after a reconcile (style G8): a table. */
import { assert, describe, it } from "@effect/vitest"
import { advisory, error, waiting } from "../../src/domain/Diagnostic.ts"
import type { ExecutionOutcome } from "../../src/domain/ExecutionOutcome.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { Plan } from "../../src/domain/Plan.ts"
import { outcomeFor } from "../../src/domain/reconcileOutcome.ts"

const planWith = (diagnostics: Plan["diagnostics"]) =>
  Plan.make({ machine: refOf("Machine", "m", "default"), actions: [], diagnostics })
const failed = (retryable: boolean): ExecutionOutcome => ({
  executed: 0,
  failed: {
    action: "EnsureNamespace",
    target: "x",
    reason: retryable ? "ServerError" : "Forbidden",
    message: "m",
    retryable
  }
})

describe("outcomeFor", () => {
  const cases = [
    { name: "Converged", plan: planWith([]), execution: { executed: 0 }, want: "Done" },
    { name: "ActionsRan", plan: planWith([]), execution: { executed: 3 }, want: "Requeue" },
    { name: "RetryableFailure", plan: planWith([]), execution: failed(true), want: "Backoff" },
    { name: "TerminalFailure", plan: planWith([]), execution: failed(false), want: "AwaitChange" },
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
})
