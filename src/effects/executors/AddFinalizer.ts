/** Executor of AddFinalizer: append the finalizer to the fresh Machine unless present. Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import type { KubeObject } from "../../domain/KubeObject.ts"
import type { MergePatch } from "../KubeApi.ts"
import { patchMachine } from "./patchMachine.ts"

/** The merge patch that appends the finalizer to the fresh Machine, or undefined when it is there. */
export const finalizerChange =
  (a: Extract<Action, { _tag: "AddFinalizer" }>) =>
  (fresh: KubeObject): MergePatch | undefined => {
    const finalizers = fresh.metadata.finalizers ?? []
    return finalizers.includes(a.finalizer) ? undefined : { metadata: { finalizers: [...finalizers, a.finalizer] } }
  }

export const executeAddFinalizer = Effect.fn("Executor.AddFinalizer")(function* (
  a: Extract<Action, { _tag: "AddFinalizer" }>
) {
  yield* patchMachine(a.target, finalizerChange(a))
})
