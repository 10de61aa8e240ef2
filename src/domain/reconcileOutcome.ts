/**
 * What the runtime does after a reconcile, as a pure policy (style G8, kube-rs `error_policy`). Domain layer.
 * - Requeue: actions ran; look again at once to confirm (and to take the next step of a deletion).
 * - Backoff: a retryable failure, or waiting on something that should come right (an unreachable remote, a VM being
 *   deleted), or something no watch reports (a Forbidden write, a name clash with a foreign object): per-key
 *   exponential backoff (for a clash capped at CLASH_RECHECK_SECONDS).
 * - AwaitChange: a failure or bad input that retrying cannot fix; a watch event (or the periodic resync) brings the
 *   Machine back, and a long requeue stays as a safety net. Also an object of its own going away: its deletion event
 *   brings it back, and a short requeue bounds a missed one.
 * - Done: converged.
 * `outcomeFor` decides after a plan ran; the named outcomes below cover a reconcile that could not plan.
 */
import { isBlocking, isWaiting } from "./Diagnostic.ts"
import type { ActionFailure, ExecutionOutcome } from "./ExecutionOutcome.ts"
import type { Plan } from "./Plan.ts"

export type ReconcileOutcome =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Requeue" }
  | {
      readonly _tag: "Backoff"
      readonly reason: string
      /** A cap on this key's backoff below the queue's own (a clash is looked at again at least this often). */
      readonly maxDelaySeconds?: number
    }
  | { readonly _tag: "AwaitChange"; readonly reason: string; readonly requeueAfterSeconds: number }

/** Safety-net requeue for terminal failures. */
export const AWAIT_CHANGE_SECONDS = 300

/** Nothing to do: the Machine is gone or out of scope. */
export const done: ReconcileOutcome = { _tag: "Done" }

/**
 * How often a Machine whose cluster has not been checked yet is looked at again (ADR 0017, decision 14). The check's
 * first answer queues the cluster's Machines at once; this is the safety net for one whose cluster turns out to be
 * another, or none (the KubevirtConfigs had not been listed).
 */
export const CLUSTER_RECHECK_SECONDS = 2

/**
 * Its cluster has not been checked yet: nothing is decided or written (ADR 0012). Not a failure, so no backoff grows
 * and the queue's rate limit is not spent; the check's answer wakes it.
 */
export const clusterNotChecked: ReconcileOutcome = {
  _tag: "AwaitChange",
  reason: "ClusterNotChecked",
  requeueAfterSeconds: CLUSTER_RECHECK_SECONDS
}

/** Reading the Machine, or writing its status, failed on the supervisor: back off and look again. */
export const supervisorFailed = (reason: string): ReconcileOutcome => ({ _tag: "Backoff", reason })

/** The stored Machine does not decode: retrying cannot fix it, a change to it can. */
export const undecodableMachine: ReconcileOutcome = {
  _tag: "AwaitChange",
  reason: "InvalidMachine",
  requeueAfterSeconds: AWAIT_CHANGE_SECONDS
}

/**
 * A failed action that is looked at again with backoff rather than left to a change the operator would see:
 * retryable reasons; Forbidden, since an RBAC change on the remote is not watched (design 3.3: a namespace create
 * that is refused is retried with backoff); and a name taken by someone else's object, which nothing we watch
 * reports gone (NotOurs, see CLASH_RECHECK_SECONDS).
 */
export const failureBacksOff = (failed: ActionFailure): boolean =>
  failed.retryable || failed.reason === "Forbidden" || failed.reason === "NotOurs"

/**
 * The longest wait between two looks at a Machine whose name is taken on the remote by an object that is not ours
 * (NameClash, NotOurs): only our own objects are watched, so the foreign one's deletion wakes nobody; the clash is
 * looked at again with backoff capped here, and clears within this long once the object is gone.
 */
export const CLASH_RECHECK_SECONDS = 30

/**
 * The longest wait between two looks at a Machine while an object of its own is going away (its VM, claims,
 * DataVolumes or cloud-init Secret, deleted and held by finalizers): the object's deletion event wakes it, and this
 * bounds what a missed event costs (the resync otherwise, minutes).
 */
export const GOING_AWAY_RECHECK_SECONDS = 30

/** Info reasons that say an object of the Machine's own is being deleted and the plan waits for it to go. */
const GOING_AWAY: ReadonlySet<string> = new Set([
  "WaitingForVirtualMachine",
  "WaitingForPvcs",
  "WaitingForDataVolumes",
  "WaitingForCloudInitSecret"
])

/** Waiting reasons that only a person ends (`governance.ts`). */
const HELD_BY_PERSON: ReadonlySet<string> = new Set(["Paused", "ApprovalRequired"])

export const outcomeFor = (plan: Plan, execution: ExecutionOutcome | undefined): ReconcileOutcome => {
  const failed = execution?.failed
  if (failed !== undefined)
    return failed.reason === "NotOurs"
      ? { _tag: "Backoff", reason: failed.reason, maxDelaySeconds: CLASH_RECHECK_SECONDS }
      : failureBacksOff(failed)
        ? { _tag: "Backoff", reason: failed.reason }
        : { _tag: "AwaitChange", reason: failed.reason, requeueAfterSeconds: AWAIT_CHANGE_SECONDS }
  if ((execution?.executed ?? 0) > 0) return { _tag: "Requeue" }
  const error = plan.diagnostics.find(isBlocking)
  if (error !== undefined)
    return plan.diagnostics.some((d) => isBlocking(d) && d.reason === "NameClash")
      ? { _tag: "Backoff", reason: "NameClash", maxDelaySeconds: CLASH_RECHECK_SECONDS }
      : { _tag: "AwaitChange", reason: error.reason, requeueAfterSeconds: AWAIT_CHANGE_SECONDS }
  // Held by a person (a pause, an approval): only a change of the Machine (or of what it observes) can release it, and
  // every such change wakes it; the long requeue stays as a safety net. Anything else it waits for comes first.
  const waiting = plan.diagnostics.find((d) => isWaiting(d) && !HELD_BY_PERSON.has(d.reason))
  if (waiting !== undefined)
    return plan.recheckAfterSeconds === undefined
      ? { _tag: "Backoff", reason: waiting.reason }
      : { _tag: "Backoff", reason: waiting.reason, maxDelaySeconds: plan.recheckAfterSeconds }
  const held = plan.diagnostics.find((d) => isWaiting(d) && HELD_BY_PERSON.has(d.reason))
  if (held !== undefined) return { _tag: "AwaitChange", reason: held.reason, requeueAfterSeconds: AWAIT_CHANGE_SECONDS }
  const goingAway = plan.diagnostics.find((d) => GOING_AWAY.has(d.reason))
  if (goingAway !== undefined)
    return { _tag: "AwaitChange", reason: goingAway.reason, requeueAfterSeconds: GOING_AWAY_RECHECK_SECONDS }
  return { _tag: "Done" }
}
