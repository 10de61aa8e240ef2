/**
 * What people can do to a plan before it runs, all by annotation on the Machine (ADR 0015). Domain layer: pure; the
 * planner applies `govern` to every plan it makes, after its safety rules, so `plan` shows exactly what would run
 * and what is held.
 * - Pause: `vitistack.io/paused: "true"` holds every action (nothing is written for the Machine but its status,
 *   which says Paused); deletion waits too, unless `vitistack.io/paused-allow-deletion: "true"` lets the cleanup
 *   (and the finalizer's release) through. Removing the annotation resumes.
 * - Approvals (opt-in: `REQUIRE_APPROVAL`, or `vitistack.io/require-approval: "true"` on the KubevirtConfig or on the
 *   supervisor Namespace): the destructive steps (`actionInfo.ts`: deleting a claim or a DataVolume, a VM patch that
 *   needs a restart) wait for `vitistack.io/approve-plan: <hash>`, where the hash is the plan hash of those steps.
 *   Other steps proceed. A different set of destructive steps has a different hash, so an approval never carries over
 *   to a new plan; an unreadable policy counts as "required".
 * - Reconcile now: `vitistack.io/reconcile-at: <timestamp>` changes the Machine, and any change wakes it
 *   (runtime/Operator.ts also resets its backoff); the Planned condition names the request it handled.
 */
import type { Action } from "./Action.ts"
import type { ApprovalPolicy } from "./ApprovalPolicy.ts"
import { actionTarget, isDestructive } from "./actionInfo.ts"
import { waiting } from "./Diagnostic.ts"
import { isDeleting, type Machine } from "./Machine.ts"
import type { ObservedState } from "./ObservedState.ts"
import { allActions, Plan } from "./Plan.ts"
import { planHash } from "./planHash.ts"
import type { Settings } from "./Settings.ts"

export const PAUSED_ANNOTATION = "vitistack.io/paused"
export const PAUSED_ALLOW_DELETION_ANNOTATION = "vitistack.io/paused-allow-deletion"
export const APPROVE_PLAN_ANNOTATION = "vitistack.io/approve-plan"
/** On a KubevirtConfig or a supervisor Namespace: its Machines' destructive steps wait for approval. */
export const REQUIRE_APPROVAL_ANNOTATION = "vitistack.io/require-approval"
export const RECONCILE_AT_ANNOTATION = "vitistack.io/reconcile-at"

export const isPaused = (m: Machine): boolean => m.metadata.annotations?.[PAUSED_ANNOTATION] === "true"

/** Paused, and this is not a deletion the Machine lets through. */
const holdsAll = (m: Machine): boolean =>
  isPaused(m) && !(isDeleting(m) && m.metadata.annotations?.[PAUSED_ALLOW_DELETION_ANNOTATION] === "true")

/** Whether an annotation value turns the policy on. */
export const requiresApproval = (annotations: Readonly<Record<string, string>> | undefined): boolean =>
  annotations?.[REQUIRE_APPROVAL_ANNOTATION] === "true"

/**
 * The policy the annotations give: on the KubevirtConfig the Machine is placed on, or on its namespace on the
 * supervisor (either turns it on).
 */
export const approvalPolicyFrom = (
  cluster: string | undefined,
  configAnnotations: Readonly<Record<string, string>> | undefined,
  namespace: string,
  namespaceAnnotations: Readonly<Record<string, string>> | undefined
): ApprovalPolicy =>
  cluster !== undefined && requiresApproval(configAnnotations)
    ? { required: true, source: `KubevirtConfig '${cluster}' (${REQUIRE_APPROVAL_ANNOTATION})` }
    : requiresApproval(namespaceAnnotations)
      ? { required: true, source: `Namespace '${namespace}' (${REQUIRE_APPROVAL_ANNOTATION})` }
      : { required: false, source: "none" }

/** Whether the plan has a destructive step whose policy was not observed yet (observe it, then plan again). */
export const needsApprovalPolicy = (settings: Settings, observed: ObservedState, p: Plan): boolean =>
  settings.requireApproval !== true && observed.approval === undefined && allActions(p).some(isDestructive)

/**
 * The policy that applies: the operator-wide setting, else what was observed for the Machine (its KubevirtConfig's
 * and its namespace's annotations); a policy that could not be read requires approval (nothing destructive runs on a
 * guess); not observed: not required (an offline plan without such documents).
 */
export const approvalPolicy = (settings: Settings, observed: ObservedState): ApprovalPolicy => {
  if (settings.requireApproval === true) return { required: true, source: "REQUIRE_APPROVAL" }
  const fact = observed.approval
  if (fact === undefined || fact._tag === "Absent") return { required: false, source: "none" }
  if (fact._tag === "Unknown")
    return { required: true, source: `the approval policy, which cannot be read (${fact.reason})` }
  return fact.value
}

/** The hash a person approves: the plan hash of the plan's destructive steps. */
export const approvalHash = (actions: ReadonlyArray<Action>): string => planHash(actions.filter(isDestructive))

const describe = (held: ReadonlyArray<Action>): string =>
  held.length === 0
    ? "nothing"
    : `${held[0]!._tag} ${actionTarget(held[0]!)}${held.length > 1 ? ` and ${held.length - 1} more` : ""}`

/**
 * Applies pause and approvals to a plan the planner made (its `actions` are everything it wants) and stamps the plan
 * hash over all of them.
 *
 * Guarantees: a paused Machine (without the deletion exception) has no action; with the policy on, no destructive
 * action is in `actions` unless the Machine's `vitistack.io/approve-plan` equals `approvalHash` of them; nothing is
 * dropped (what does not run is in `held`); the hash does not depend on what is held.
 */
export const govern = (machine: Machine, observed: ObservedState, settings: Settings, planned: Plan): Plan => {
  const wanted = planned.actions
  const hash = planHash(wanted)
  if (holdsAll(machine)) {
    const deletion = isDeleting(machine)
      ? `; deletion waits too (annotate ${PAUSED_ALLOW_DELETION_ANNOTATION}: "true" to let it through)`
      : ""
    return Plan.make({
      ...planned,
      actions: [],
      ...(wanted.length === 0 ? {} : { held: wanted.map((action) => ({ action, gate: "Paused" as const })) }),
      diagnostics: [
        waiting(
          "Paused",
          `paused by ${PAUSED_ANNOTATION}: "true": ${wanted.length === 0 ? "nothing to hold" : `${wanted.length} action(s) held (first: ${wanted[0]!._tag} ${actionTarget(wanted[0]!)})`} (plan ${hash}); remove the annotation to resume${deletion}`,
          `metadata.annotations[${PAUSED_ANNOTATION}]`
        ),
        ...planned.diagnostics
      ],
      hash
    })
  }
  const destructive = wanted.filter(isDestructive)
  const policy = destructive.length === 0 ? undefined : approvalPolicy(settings, observed)
  if (policy === undefined || !policy.required) return Plan.make({ ...planned, hash })
  const approve = approvalHash(wanted)
  const given = machine.metadata.annotations?.[APPROVE_PLAN_ANNOTATION]
  if (given === approve) return Plan.make({ ...planned, hash })
  // What the Machine holds is echoed bounded: an approval is 16 hex digits, anything longer is not one.
  const shown = given !== undefined && given.length > 32 ? `${given.slice(0, 32)}…` : given
  const stale = shown === undefined || shown === "" ? "" : ` (it holds '${shown}', which approves another plan)`
  return Plan.make({
    ...planned,
    actions: wanted.filter((a) => !isDestructive(a)),
    held: destructive.map((action) => ({ action, gate: "Approval" as const })),
    diagnostics: [
      waiting(
        "ApprovalRequired",
        // The hash to approve first, so a bounded message (the Planned condition's) always keeps it.
        `annotate the Machine with ${APPROVE_PLAN_ANNOTATION}: "${approve}" to approve: ${describe(destructive)} wait(s) for approval${stale}; approval required by ${policy.source}`,
        `metadata.annotations[${APPROVE_PLAN_ANNOTATION}]`
      ),
      ...planned.diagnostics
    ],
    hash
  })
}
