/**
 * Executor of PersistPlacement: set the placement annotation on the fresh Machine only where it is absent, so a
 * placement recorded concurrently (or by a person) is never overwritten. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { PLACEMENT_ANNOTATION } from "../../domain/labels.ts"
import { patchMachine } from "./patchMachine.ts"

export const executePersistPlacement = Effect.fn("Executor.PersistPlacement")(function* (
  a: Extract<Action, { _tag: "PersistPlacement" }>
) {
  yield* patchMachine(a.target, (fresh) =>
    (fresh.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") !== ""
      ? undefined
      : { metadata: { annotations: { [PLACEMENT_ANNOTATION]: a.placement } } }
  )
})
