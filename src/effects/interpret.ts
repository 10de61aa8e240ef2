/**
 * The interpreter: runs a Plan's actions in order, one idempotent executor per action, and reports what happened as
 * a value. Effects layer. The executor table is typed by the Action union, so a new action does not compile without
 * its executor. Retries happen inside executors (retryable reasons only, bounded); the first failure stops the run
 * and the rest is reported as skipped: the next reconcile replans from fresh state.
 */
import { Effect } from "effect"
import type { Action, ActionTag } from "../domain/Action.ts"
import type { ExecutionOutcome } from "../domain/ExecutionOutcome.ts"
import { refKey } from "../domain/ObjectRef.ts"
import type { Plan } from "../domain/Plan.ts"
import { redactUrlsIn } from "../domain/redactUrl.ts"
import type { Remotes, Supervisor } from "./Clusters.ts"
import { type ExecutionError, isRetryable, reasonOf } from "./ExecutionError.ts"
import { executeAddFinalizer, finalizerChange } from "./executors/AddFinalizer.ts"
import { executeAdoptDataVolume } from "./executors/AdoptDataVolume.ts"
import { executeAdoptPvc } from "./executors/AdoptPvc.ts"
import { executeAdoptVirtualMachine } from "./executors/AdoptVirtualMachine.ts"
import { executeCreateDataVolume } from "./executors/CreateDataVolume.ts"
import { executeCreateNetworkAttachmentDefinition } from "./executors/CreateNetworkAttachmentDefinition.ts"
import { executeCreateNetworkConfiguration } from "./executors/CreateNetworkConfiguration.ts"
import { executeCreatePvc } from "./executors/CreatePvc.ts"
import { executeCreateSecret } from "./executors/CreateSecret.ts"
import { executeCreateVirtualMachine } from "./executors/CreateVirtualMachine.ts"
import { executeDeleteDataVolume } from "./executors/DeleteDataVolume.ts"
import { executeDeleteNetworkAttachmentDefinition } from "./executors/DeleteNetworkAttachmentDefinition.ts"
import { executeDeletePvc } from "./executors/DeletePvc.ts"
import { executeDeleteSecret } from "./executors/DeleteSecret.ts"
import { executeDeleteVirtualMachine } from "./executors/DeleteVirtualMachine.ts"
import { executeEnsureNamespace } from "./executors/EnsureNamespace.ts"
import { executeExpandPvc } from "./executors/ExpandPvc.ts"
import { executePatchMachineAnnotation } from "./executors/PatchMachineAnnotation.ts"
import { executePatchNetworkConfiguration } from "./executors/PatchNetworkConfiguration.ts"
import { executePatchSecret } from "./executors/PatchSecret.ts"
import { executePatchVirtualMachine } from "./executors/PatchVirtualMachine.ts"
import { executePersistPlacement, placementChange } from "./executors/PersistPlacement.ts"
import { combinedChange, patchMachine } from "./executors/patchMachine.ts"
import { executeRemoveFinalizer } from "./executors/RemoveFinalizer.ts"

type Executor<T extends ActionTag> = (
  a: Extract<Action, { _tag: T }>
) => Effect.Effect<void, ExecutionError, Supervisor | Remotes>

/** One executor per action tag: exhaustive by construction. */
export const executors: { readonly [T in ActionTag]: Executor<T> } = {
  EnsureNamespace: executeEnsureNamespace,
  CreatePvc: executeCreatePvc,
  ExpandPvc: executeExpandPvc,
  DeletePvc: executeDeletePvc,
  CreateVirtualMachine: executeCreateVirtualMachine,
  PatchVirtualMachine: executePatchVirtualMachine,
  DeleteVirtualMachine: executeDeleteVirtualMachine,
  AddFinalizer: executeAddFinalizer,
  RemoveFinalizer: executeRemoveFinalizer,
  PersistPlacement: executePersistPlacement,
  CreateDataVolume: executeCreateDataVolume,
  DeleteDataVolume: executeDeleteDataVolume,
  CreateSecret: executeCreateSecret,
  PatchSecret: executePatchSecret,
  DeleteSecret: executeDeleteSecret,
  PatchMachineAnnotation: executePatchMachineAnnotation,
  AdoptVirtualMachine: executeAdoptVirtualMachine,
  AdoptPvc: executeAdoptPvc,
  AdoptDataVolume: executeAdoptDataVolume,
  CreateNetworkAttachmentDefinition: executeCreateNetworkAttachmentDefinition,
  DeleteNetworkAttachmentDefinition: executeDeleteNetworkAttachmentDefinition,
  CreateNetworkConfiguration: executeCreateNetworkConfiguration,
  PatchNetworkConfiguration: executePatchNetworkConfiguration
}

export const executeAction = (a: Action): Effect.Effect<void, ExecutionError, Supervisor | Remotes> =>
  (executors[a._tag] as Executor<typeof a._tag>)(a as never).pipe(
    Effect.annotateLogs({ action: a._tag, target: refKey(a.target) })
  )

export interface ExecutionResult {
  readonly executed: ReadonlyArray<Action>
  readonly failed: { readonly action: Action; readonly error: ExecutionError } | undefined
  readonly skipped: ReadonlyArray<Action>
}

/**
 * AddFinalizer followed by PersistPlacement on the same Machine: one merge patch with both (ADR 0017), one write
 * instead of two. The order of effects is kept (both land before any remote action), and a failure is reported as
 * the AddFinalizer's, with PersistPlacement skipped, as when the first of two patches failed.
 */
const finalizerWithPlacement = (a: Action, b: Action | undefined) =>
  a._tag === "AddFinalizer" && b?._tag === "PersistPlacement" && refKey(a.target) === refKey(b.target)
    ? Effect.fn("Executor.AddFinalizer+PersistPlacement")(function* () {
        yield* patchMachine(a.target, combinedChange(finalizerChange(a), placementChange(b)))
      })().pipe(Effect.annotateLogs({ action: "AddFinalizer+PersistPlacement", target: refKey(a.target) }))
    : undefined

/** Runs the plan's actions in order; stops at the first failure. Never fails itself: the result says what happened. */
export const execute = Effect.fn("execute")(function* (plan: Plan) {
  const executed: Array<Action> = []
  for (let i = 0; i < plan.actions.length; i++) {
    const action = plan.actions[i]!
    const both = finalizerWithPlacement(action, plan.actions[i + 1])
    const exit = yield* Effect.exit(both ?? executeAction(action))
    if (exit._tag === "Failure") {
      const error = exit.cause.reasons.find((r) => r._tag === "Fail")
      if (error === undefined) return yield* Effect.failCause(exit.cause as never)
      return {
        executed,
        failed: { action, error: error.error },
        skipped: plan.actions.slice(i + 1)
      } satisfies ExecutionResult
    }
    executed.push(action)
    if (both !== undefined) executed.push(plan.actions[++i]!)
  }
  return { executed, failed: undefined, skipped: [] } satisfies ExecutionResult
})

/**
 * The part of a result status derivation needs. The error's message with URLs in display form (ADR 0018): an API
 * server's validation error quotes the object it refused, a DataVolume's URL included.
 */
export const outcomeOf = (r: ExecutionResult): ExecutionOutcome => ({
  executed: r.executed.length,
  ...(r.failed === undefined
    ? {}
    : {
        failed: {
          action: r.failed.action._tag,
          target: refKey(r.failed.action.target),
          reason: reasonOf(r.failed.error),
          message: redactUrlsIn(r.failed.error.message),
          retryable: isRetryable(r.failed.error)
        }
      })
})
