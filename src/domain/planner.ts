/**
 * The planner: a Machine plus the observed state in, an ordered list of typed actions and diagnostics out.
 * Domain layer: pure and total; no I/O, no clock, no randomness; decides from state, never from events (G4).
 * This file holds only the fold over the capability steps (`step.ts`; one module per concern) and the safety rules;
 * what each concern plans lives in its step.
 *
 * Guarantees
 * - Total: returns a Plan for every decodable input; bad input becomes diagnostics, never an exception.
 * - Deterministic: the same input (up to the order of observed lists) gives the same plan.
 * - Ordered: AddFinalizer and PersistPlacement come before any remote write; the namespace before PVCs before the
 *   VM; on deletion the VM before its PVCs, and RemoveFinalizer only once every remote child is gone.
 * - Safe: never deletes or modifies a namespace; never writes to an object without this Machine's labels; never
 *   creates or deletes anything on the strength of an Unknown fact; a plan with an Error diagnostic has no remote
 *   write.
 * Assumptions: `observed` is one consistent snapshot of the supervisor and the placed cluster.
 * Idempotence: applying the plan and planning again gives an empty plan (creation converges in one round; deletion
 * proceeds VM → PVCs → finalizer, one step per round). Cleanup tolerates converge never having run.
 */

import type { Action } from "./Action.ts"
import { withAbandonAfter } from "./abandon.ts"
import { isRemote } from "./actionInfo.ts"
import { adoptionStep } from "./adoption.ts"
import { bootMediaStep } from "./bootMedia.ts"
import { cloudInitStep } from "./cloudInit.ts"
import { advisory, type Diagnostic, error, info, isBlocking } from "./Diagnostic.ts"
import { deletionPolicyOf, invalidPolicyMessage } from "./deletionPolicy.ts"
import { desiredFor } from "./desired.ts"
import { disksStep } from "./disks.ts"
import { finalizerStep } from "./finalizer.ts"
import { govern } from "./governance.ts"
import { DELETION_POLICY_ANNOTATION, FINALIZER } from "./labels.ts"
import { lifecycle } from "./lifecycle.ts"
import { hasFinalizer, type Machine, machineRef } from "./Machine.ts"
import { namespaceStep } from "./namespace.ts"
import { liveMacs, networkConfigurationStep } from "./networkConfiguration.ts"
import { networksStep } from "./networks.ts"
import { Plan } from "./Plan.ts"
import { cleanupTarget, place, placedRemote, placementStep } from "./placement.ts"
import { planHash } from "./planHash.ts"
import { planProviderChanged } from "./providerChange.ts"
import type { PlanInput, Prerequisite, RemoteCleanupInput, RemoteConvergeInput, Step, StepResult } from "./step.ts"
import { virtualMachineStep } from "./virtualMachine.ts"
import { vitistackNetworkStep } from "./vitistackNetwork.ts"

export type { PlanInput } from "./step.ts"

/**
 * The steps in converge order. Cleanup runs them in reverse: the VM goes before the disks it mounts, and the
 * finalizer last. Supervisor steps come first; remote steps run only once placement is decided and the Machine is
 * valid.
 */
export const STEPS: ReadonlyArray<Step> = [
  finalizerStep,
  placementStep,
  namespaceStep,
  adoptionStep,
  networkConfigurationStep,
  cloudInitStep,
  disksStep,
  bootMediaStep,
  networksStep,
  vitistackNetworkStep,
  virtualMachineStep
]

const CLEANUP_STEPS: ReadonlyArray<Step> = [...STEPS].reverse()

/** In scope: `spec.provider` is `kubevirt` or empty (design 3.1). Others get no finalizer and no write. */
export const inScope = (m: Machine): boolean =>
  m.spec.provider === undefined || m.spec.provider === "" || m.spec.provider === "kubevirt"

/**
 * Ours: in scope, or carrying our finalizer whatever `spec.provider` says now. A finalizer means remote objects may
 * exist, so the Machine is ours until they are gone (`providerChange.ts`); others get no write at all.
 */
export const isOurs = (m: Machine): boolean => inScope(m) || hasFinalizer(m, FINALIZER)

/** The actions and diagnostics of the steps so far. */
class Acc {
  readonly actions: Array<Action> = []
  readonly diagnostics: Array<Diagnostic>
  constructor(diagnostics: ReadonlyArray<Diagnostic> = []) {
    this.diagnostics = [...diagnostics]
  }
  /** Adds a step's result; true when the fold must stop. */
  add(r: StepResult): boolean {
    for (const a of r.actions) this.actions.push(a)
    for (const d of r.diagnostics) this.diagnostics.push(d)
    return r.halt === true
  }
}

/** Supervisor writes that are part of placing a Machine, held back like remote writes when it has an Error. */
const PLACING = new Set<Action["_tag"]>(["PersistPlacement", "CreateNetworkConfiguration", "PatchNetworkConfiguration"])

/**
 * Safety: a Machine the planner cannot satisfy (an Error diagnostic, from any step) gets no remote write, no
 * placement and no NetworkConfiguration; only the finalizer, so a later fix can still be cleaned up (ADR 0001 §6).
 */
const safe = (actions: ReadonlyArray<Action>, diagnostics: ReadonlyArray<Diagnostic>): ReadonlyArray<Action> =>
  diagnostics.some(isBlocking) ? actions.filter((a) => !isRemote(a) && !PLACING.has(a._tag)) : actions

const finish = (m: Machine, acc: Acc, cluster: string | undefined): Plan =>
  Plan.make({
    machine: machineRef(m),
    ...(cluster === undefined ? {} : { cluster }),
    actions: safe(acc.actions, acc.diagnostics),
    diagnostics: acc.diagnostics
  })

/**
 * A plan with findings that only a view over several Machines can make (the offline `plan`: two Machines whose PVCs
 * would have one name), under the same safety rule as the planner's own diagnostics.
 */
export const withDiagnostics = (p: Plan, diagnostics: ReadonlyArray<Diagnostic>): Plan => {
  if (diagnostics.length === 0) return p
  const all = [...p.diagnostics, ...diagnostics]
  const actions = safe(p.actions, all)
  const kept = new Set(safe(p.held?.map((h) => h.action) ?? [], all))
  const held = p.held?.filter((h) => kept.has(h.action)) ?? []
  const { held: _, ...rest } = p
  return Plan.make({
    ...rest,
    actions,
    diagnostics: all,
    ...(held.length === 0 ? {} : { held }),
    hash: planHash([...actions, ...held.map((h) => h.action)])
  })
}

const converge = (input: PlanInput): Plan => {
  const { machine: m, observed, settings } = input
  const placement = place(m, observed.kubevirtConfigs, observed.vmSearch, settings, observed.tenancy)
  const cluster = placement._tag === "Placed" ? placement.cluster : undefined
  const remoteFacts =
    observed.remote._tag === "Present" && observed.remote.value.cluster === cluster ? observed.remote.value : undefined
  const desired = desiredFor(m, observed.machineClass, settings, {
    cloudInitSources: observed.cloudInitSources,
    cloudInitRendered: observed.cloudInitRendered,
    isoSize: observed.isoSize,
    vitistack: observed.vitistack,
    cluster,
    liveMacs: liveMacs(remoteFacts)
  })
  const policy = deletionPolicyOf(m)
  const acc = new Acc([
    ...desired.diagnostics,
    ...(policy._tag === "Invalid"
      ? [
          advisory(
            "DeletionPolicyNotUnderstood",
            invalidPolicyMessage(policy),
            `metadata.annotations[${DELETION_POLICY_ANNOTATION}]`
          )
        ]
      : [])
  ])
  const prerequisites: Array<Prerequisite> = []
  let remote: Omit<RemoteConvergeInput, "prerequisites"> | undefined
  for (const step of STEPS) {
    if (step.scope === "supervisor") {
      if (acc.add(step.converge({ ...input, desired, placement }))) break
      continue
    }
    if (remote === undefined) {
      // Remote steps need a valid Machine (its diagnostics are in already) and the placed cluster's facts.
      if (cluster === undefined || desired._tag !== "Ok") break
      const facts = placedRemote(observed, cluster, false, m.metadata.namespace)
      if (facts._tag === "Unusable") {
        acc.add(facts.result)
        break
      }
      remote = { ...input, cluster, remote: facts.remote, desired: desired.desired }
    }
    const r = step.converge({ ...remote, prerequisites })
    if (r.provides !== undefined) prerequisites.push(...r.provides)
    if (acc.add(r)) break
  }
  return finish(m, acc, cluster)
}

const cleanup = (input: PlanInput): Plan => {
  const { machine: m, observed } = input
  const target = cleanupTarget(m)
  const cluster = target._tag === "Placed" ? target.cluster : undefined
  const policy = deletionPolicyOf(m)
  // A policy that cannot be read is not guessed at: nothing remote is deleted, and the finalizer stays.
  if (policy._tag === "Invalid" && cluster !== undefined)
    return finish(
      m,
      new Acc([
        error(
          "InvalidDeletionPolicy",
          invalidPolicyMessage(policy),
          `metadata.annotations[${DELETION_POLICY_ANNOTATION}]`
        )
      ]),
      cluster
    )
  const acc = new Acc()
  let remote: RemoteCleanupInput | undefined
  for (const step of CLEANUP_STEPS) {
    if (step.scope === "supervisor") {
      if (acc.add(step.cleanup({ ...input, target }))) break
      continue
    }
    // Orphaned or never placed: nothing remote is ours to clean up.
    if (cluster === undefined) continue
    if (remote === undefined) {
      const facts = placedRemote(observed, cluster, true, m.metadata.namespace)
      if (facts._tag === "Unusable") {
        acc.add(facts.result)
        break
      }
      remote = { ...input, cluster, remote: facts.remote }
    }
    if (acc.add(step.cleanup(remote))) break
  }
  const planned = finish(m, acc, cluster)
  return policy._tag === "AbandonAfter" && cluster !== undefined
    ? withAbandonAfter(m, observed, cluster, policy, input.now, planned)
    : planned
}

/**
 * Plans one reconcile of one Machine. See the module comment for the guarantees. What a person holds back (a pause,
 * a destructive step waiting for approval) is moved from `actions` to `held`; `hash` is over both (`governance.ts`).
 *
 * @example
 * const p = plan({ machine, observed: emptyObserved(["remote-a"]), settings: defaultSettings })
 * p.actions.map((a) => a._tag) // ["AddFinalizer", "PersistPlacement", "EnsureNamespace", "CreatePvc", "CreateVirtualMachine"]
 */
export const plan = (input: PlanInput): Plan => {
  const decided = decide(input)
  return isOurs(input.machine)
    ? govern(input.machine, input.observed, input.settings, decided)
    : Plan.make({ ...decided, hash: planHash(decided.actions) })
}

/** The plan before pause and approvals (`governance.ts`): everything the Machine's state asks for. */
const decide = (input: PlanInput): Plan => {
  const m = input.machine
  if (!isOurs(m))
    return Plan.make({
      machine: machineRef(m),
      actions: [],
      diagnostics: [info("OutOfScope", `spec.provider '${m.spec.provider}' is not kubevirt; ignored`)]
    })
  switch (lifecycle(m)) {
    case "NoFinalizerLive":
    case "HasFinalizerLive":
      // Another provider on a Machine we took on: nothing is converged; deletion still cleans up (below).
      return inScope(m) ? converge(input) : planProviderChanged(m)
    case "HasFinalizerDeleting":
      return cleanup(input)
    case "NoFinalizerDeleting":
      return Plan.make({ machine: machineRef(m), actions: [], diagnostics: [] })
  }
}
