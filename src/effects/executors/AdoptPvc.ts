/** Executor of AdoptPvc: our labels into the Go operator's object, nothing else (`adopt.ts`). Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { adopt } from "./adopt.ts"

export const executeAdoptPvc = Effect.fn("Executor.AdoptPvc")(function* (a: Extract<Action, { _tag: "AdoptPvc" }>) {
  yield* adopt(a)
})
