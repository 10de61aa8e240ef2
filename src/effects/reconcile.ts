/**
 * One reconcile of one Machine key: read → observe → plan → execute → derive status → write it only if it changed,
 * with events for what was done and what failed. Effects layer. The operator loop and tests call this; the `plan`
 * command calls the same observe and plan without executing. Never fails: API trouble becomes the outcome.
 */
import { Effect, Option, Result, Schema } from "effect"
import { isRemote } from "../domain/actionInfo.ts"
import { actionsEvent } from "../domain/actionsEvent.ts"
import { isBlocking } from "../domain/Diagnostic.ts"
import { TRACE_SCHEMA } from "../domain/decisionTrace.ts"
import { Machine } from "../domain/Machine.ts"
import { refKey, refOf } from "../domain/ObjectRef.ts"
import type { Plan } from "../domain/Plan.ts"
import { PLANNER_VERSION } from "../domain/planHash.ts"
import { isOurs } from "../domain/planner.ts"
import {
  clusterNotChecked,
  done,
  outcomeFor,
  type ReconcileOutcome,
  supervisorFailed,
  undecodableMachine
} from "../domain/reconcileOutcome.ts"
import { redactUrlsIn } from "../domain/redactUrl.ts"
import type { Settings } from "../domain/Settings.ts"
import { deriveStatus, sameStatus } from "../domain/status.ts"
import { withCloudInitContent } from "./CloudInitContent.ts"
import { Supervisor } from "./Clusters.ts"
import { DecisionRecorder } from "./DecisionRecorder.ts"
import { decide } from "./decide.ts"
import { EventRecorder } from "./EventRecorder.ts"
import { type ExecutionResult, execute, outcomeOf } from "./interpret.ts"
import { observe } from "./observe.ts"
import { reportAbandoned } from "./reportAbandoned.ts"
import { apiRetry, retryApi } from "./retry.ts"

export interface ReconcileReport {
  readonly outcome: ReconcileOutcome
  readonly plan?: Plan | undefined
  readonly result?: ExecutionResult | undefined
  readonly statusWritten: boolean
  /** Every action ran and the status was left to the confirming reconcile (`ReconcileOptions.deferStatus`). */
  readonly statusDeferred?: boolean | undefined
}

export interface ReconcileOptions {
  /**
   * When every planned action ran, leave the status to the reconcile that confirms them (queued at once, ahead of the
   * backlog, by the operator): it derives the same status from what the actions made, so the Machine costs one status
   * write instead of two ("creating remote objects", then "waiting for VirtualMachine to run"). The operator passes it
   * only when the key's previous reconcile did not defer, so a status is never held back twice in a row (ADR 0017).
   */
  readonly deferStatus?: boolean | undefined
}

const decodeMachine = Schema.decodeUnknownResult(Machine)

export const parseKey = (key: string): { readonly namespace: string; readonly name: string } => {
  const i = key.indexOf("/")
  return { namespace: key.slice(0, i), name: key.slice(i + 1) }
}

export const reconcile = Effect.fn("reconcile")(function* (
  key: string,
  settings: Settings,
  /** KubevirtConfig names from the caller's synced watch cache, so steady-state reconciles do not list them. */
  knownConfigs?: () => ReadonlyArray<string> | undefined,
  options: ReconcileOptions = {}
) {
  const supervisor = yield* Supervisor
  const events = yield* EventRecorder
  const recorder = yield* DecisionRecorder
  const clock = () => Effect.clockWith((c) => c.currentTimeMillis)
  const started = yield* clock()
  const { namespace, name } = parseKey(key)
  const ref = refOf("Machine", name, namespace)
  const read = yield* Effect.result(retryApi(apiRetry)(supervisor.get(ref)))
  if (Result.isFailure(read))
    return { outcome: supervisorFailed(read.failure.reason._tag), statusWritten: false } satisfies ReconcileReport
  if (Option.isNone(read.success)) return { outcome: done, statusWritten: false } satisfies ReconcileReport
  const decoded = decodeMachine(read.success.value)
  if (Result.isFailure(decoded)) {
    // The decoder's message may quote the Machine, image URLs included (ADR 0018).
    yield* Effect.logError(`Machine ${key} cannot be decoded: ${redactUrlsIn(decoded.failure.message)}`)
    return { outcome: undecodableMachine, statusWritten: false } satisfies ReconcileReport
  }
  const machine = decoded.success
  // Out of scope: no finalizer, no status, no event (design 3.1). A Machine with our finalizer stays ours whatever
  // its provider says now, until its remote objects are gone (issue "Hardening", item 6).
  if (!isOurs(machine)) return { outcome: done, statusWritten: false } satisfies ReconcileReport

  const observedAt = yield* clock()
  const observedBare = yield* observe(machine, settings, knownConfigs?.())
  // Before its cluster's first health check nothing is decided or written about the Machine (no status that says "not
  // checked yet" only to be rewritten a second later); the check requeues it (ADR 0012).
  if (observedBare.clusterHealth?.phase === "Unknown")
    return { outcome: clusterNotChecked, statusWritten: false } satisfies ReconcileReport
  const planStarted = yield* clock()
  const now = new Date(observedAt).toISOString()
  const { plan, observed } = yield* decide(machine, observedBare, settings, now)
  const executeStarted = yield* clock()
  const result = yield* execute(plan).pipe(withCloudInitContent(machine, observed))
  const executeEnded = yield* clock()
  const execution = outcomeOf(result)
  const target = { name, namespace, uid: machine.metadata.uid }
  // Events, status and traces show image URLs in display form (ADR 0018): the rendered actions and the outcome do.
  const applied = actionsEvent(result.executed)
  if (applied !== undefined) yield* events.record(target, "Normal", applied.reason, applied.message)
  if (result.failed !== undefined)
    yield* events.record(target, "Warning", `${result.failed.action._tag}Failed`, execution.failed?.message ?? "")
  yield* reportAbandoned(target, result.executed)
  const traced = (report: ReconcileReport) =>
    recorder.enabled
      ? Effect.flatMap(clock(), (ended) =>
          recorder.record({
            schema: TRACE_SCHEMA,
            machine: key,
            plannerVersion: PLANNER_VERSION,
            input: { machine, observed, settings, now },
            plan,
            result: {
              executed: result.executed.map((a) => ({ action: a._tag, target: refKey(a.target) })),
              ...(result.failed === undefined
                ? {}
                : {
                    failed: {
                      action: result.failed.action._tag,
                      target: refKey(result.failed.action.target),
                      reason: execution.failed?.reason ?? "",
                      message: execution.failed?.message ?? ""
                    }
                  }),
              skipped: result.skipped.length
            },
            outcome: `${report.outcome._tag}${"reason" in report.outcome ? `: ${report.outcome.reason}` : ""}`,
            statusWritten: report.statusWritten,
            timings: {
              observe: planStarted - observedAt,
              plan: executeStarted - planStarted,
              execute: executeEnded - executeStarted,
              total: ended - started
            }
          })
        ).pipe(Effect.as(report))
      : Effect.succeed(report)

  if (options.deferStatus === true && result.failed === undefined && result.executed.length > 0)
    return {
      outcome: outcomeFor(plan, execution),
      plan,
      result,
      statusWritten: false,
      statusDeferred: true
    } satisfies ReconcileReport

  // Status is derived against the object as it now is. Our own actions on the Machine (finalizer, placement) changed
  // its resourceVersion, so it is read again; otherwise the first read stands (one GET less per reconcile, which is
  // most of them at steady state), and a change by someone else in between makes the status write a Conflict,
  // retried with backoff.
  let statusWritten = false
  const touched = [...result.executed, ...(result.failed === undefined ? [] : [result.failed.action])].some(
    (a) => !isRemote(a)
  )
  const fresh = touched ? yield* Effect.result(retryApi(apiRetry)(supervisor.get(ref))) : read
  if (Result.isSuccess(fresh) && Option.isSome(fresh.success)) {
    const current = decodeMachine(fresh.success.value)
    if (Result.isSuccess(current)) {
      const now = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
      const status = deriveStatus({
        machine: current.success,
        observed,
        plan,
        outcome: execution,
        now,
        ipSource: settings.ipSource
      })
      if (!sameStatus(current.success.status, status)) {
        const write = yield* Effect.result(
          supervisor.updateStatus(ref, status, { resourceVersion: fresh.success.value.metadata.resourceVersion ?? "" })
        )
        if (Result.isFailure(write))
          return yield* traced({
            outcome: supervisorFailed(write.failure.reason._tag),
            plan,
            result,
            statusWritten
          })
        statusWritten = true
      }
    }
  }
  // Bad input is announced when it appears (the status changed), not again on every resync: a converged or
  // stuck-on-input Machine costs no writes.
  if (statusWritten)
    for (const d of plan.diagnostics.filter(isBlocking))
      yield* events.record(target, "Warning", d.reason, d.field === undefined ? d.message : `${d.field}: ${d.message}`)
  return yield* traced({ outcome: outcomeFor(plan, execution), plan, result, statusWritten })
})
