/** Executor of RemoveFinalizer: drop the finalizer from the fresh Machine, keeping any others. Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { patchMachine } from "./patchMachine.ts"

export const executeRemoveFinalizer = Effect.fn("Executor.RemoveFinalizer")(function* (
  a: Extract<Action, { _tag: "RemoveFinalizer" }>
) {
  yield* patchMachine(a.target, (fresh) => {
    const finalizers = fresh.metadata.finalizers ?? []
    return finalizers.includes(a.finalizer)
      ? { metadata: { finalizers: finalizers.filter((f) => f !== a.finalizer) } }
      : undefined
  })
})
