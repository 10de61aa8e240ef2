/** Executor of PatchMachineAnnotation: set one annotation on the fresh Machine unless it already has the value. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { patchMachine } from "./patchMachine.ts"

export const executePatchMachineAnnotation = Effect.fn("Executor.PatchMachineAnnotation")(function* (
  a: Extract<Action, { _tag: "PatchMachineAnnotation" }>
) {
  yield* patchMachine(a.target, (fresh) =>
    fresh.metadata.annotations?.[a.key] === a.value ? undefined : { metadata: { annotations: { [a.key]: a.value } } }
  )
})
