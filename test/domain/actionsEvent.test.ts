// actionsEvent: the one Event of a round. One kind of action: its tag; several: Applied; the lines in order; the
// finalizer left out, and a round of only that records nothing.
import { describe, expect, it } from "vitest"
import type { Action } from "../../src/domain/Action.ts"
import { actionsEvent } from "../../src/domain/actionsEvent.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { renderAction } from "../../src/domain/render.ts"

const machine = refOf("Machine", "vm-a", "team-a")
const finalizer: Action = { _tag: "AddFinalizer", target: machine, finalizer: "f", reason: "ours" }
const placement = (to: string): Action => ({
  _tag: "PersistPlacement",
  target: machine,
  placement: to,
  reason: "chosen"
})

describe("actionsEvent", () => {
  it("one kind: its tag; several kinds: Applied; the plan lines in the order they ran; no finalizer", () => {
    expect(actionsEvent([finalizer])).toBeUndefined()
    expect(actionsEvent([])).toBeUndefined()
    const one = actionsEvent([finalizer, placement("remote-a")])
    expect(one).toEqual({ reason: "PersistPlacement", message: renderAction(placement("remote-a")).trim() })
    const ann: Action = { _tag: "PatchMachineAnnotation", target: machine, key: "k", value: "v", reason: "tools" }
    const mixed = actionsEvent([placement("remote-a"), finalizer, ann])
    expect(mixed?.reason).toBe("Applied")
    expect(mixed?.message).toBe(`${renderAction(placement("remote-a")).trim()}; ${renderAction(ann).trim()}`)
  })
})
