/**
 * Executor of PersistPlacement: set the placement annotation on the fresh Machine only where it is absent, so a
 * placement recorded concurrently (or by a person) is never overwritten. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import type { KubeObject } from "../../domain/KubeObject.ts"
import { PLACEMENT_ANNOTATION } from "../../domain/labels.ts"
import type { MergePatch } from "../KubeApi.ts"
import { patchMachine } from "./patchMachine.ts"

/** The merge patch that records the placement on the fresh Machine, or undefined when one is recorded. */
export const placementChange =
  (a: Extract<Action, { _tag: "PersistPlacement" }>) =>
  (fresh: KubeObject): MergePatch | undefined =>
    (fresh.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") !== ""
      ? undefined
      : { metadata: { annotations: { [PLACEMENT_ANNOTATION]: a.placement } } }

export const executePersistPlacement = Effect.fn("Executor.PersistPlacement")(function* (
  a: Extract<Action, { _tag: "PersistPlacement" }>
) {
  yield* patchMachine(a.target, placementChange(a))
})
