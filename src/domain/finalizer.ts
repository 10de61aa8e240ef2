/**
 * The finalizer step (G5): a live Machine gets the finalizer, so its deletion waits for the cleanup; a deleted one
 * loses it only when every earlier cleanup half let the fold through (its remote objects are gone, were never created,
 * or are orphaned on purpose). Domain layer: pure.
 */
import type { Action } from "./Action.ts"
import { FINALIZER } from "./labels.ts"
import { hasFinalizer, type Machine, machineRef } from "./Machine.ts"
import { type CleanupTarget, nothing, type StepResult, type SupervisorStep } from "./step.ts"

const removeFinalizer = (m: Machine, reason: string): Action => ({
  _tag: "RemoveFinalizer",
  target: machineRef(m),
  finalizer: FINALIZER,
  reason
})

const whyGone: { readonly [T in CleanupTarget["_tag"]]: string } = {
  Orphaned: "deletion policy Orphan: remote objects kept",
  NeverPlaced: "never placed: nothing exists remotely",
  Placed: "every remote object of this Machine is gone; the namespace is kept"
}

export const finalizerStep: SupervisorStep = {
  scope: "supervisor",
  name: "finalizer",
  converge: ({ machine }): StepResult =>
    hasFinalizer(machine, FINALIZER)
      ? nothing
      : {
          actions: [
            {
              _tag: "AddFinalizer",
              target: machineRef(machine),
              finalizer: FINALIZER,
              reason: "so deletion can clean up remote objects"
            }
          ],
          diagnostics: []
        },
  // Reached only when no earlier cleanup half halted: what this Machine owns remotely is gone (or kept on purpose).
  cleanup: ({ machine, target }) => ({ actions: [removeFinalizer(machine, whyGone[target._tag])], diagnostics: [] })
}
