/** Executor of AdoptDataVolume: our labels into the Go operator's object, nothing else (`adopt.ts`). Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { adopt } from "./adopt.ts"

export const executeAdoptDataVolume = Effect.fn("Executor.AdoptDataVolume")(function* (
  a: Extract<Action, { _tag: "AdoptDataVolume" }>
) {
  yield* adopt(a)
})
