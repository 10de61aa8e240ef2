/** Executor of AddFinalizer: append the finalizer to the fresh Machine unless present. Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { patchMachine } from "./patchMachine.ts"

export const executeAddFinalizer = Effect.fn("Executor.AddFinalizer")(function* (
  a: Extract<Action, { _tag: "AddFinalizer" }>
) {
  yield* patchMachine(a.target, (fresh) => {
    const finalizers = fresh.metadata.finalizers ?? []
    return finalizers.includes(a.finalizer) ? undefined : { metadata: { finalizers: [...finalizers, a.finalizer] } }
  })
})
