/** Executor of AdoptVirtualMachine: our labels into the Go operator's object, nothing else (`adopt.ts`). Effects layer. */
import { Effect } from "effect"
import type { Action } from "../../domain/Action.ts"
import { adopt } from "./adopt.ts"

export const executeAdoptVirtualMachine = Effect.fn("Executor.AdoptVirtualMachine")(function* (
  a: Extract<Action, { _tag: "AdoptVirtualMachine" }>
) {
  yield* adopt(a)
})
