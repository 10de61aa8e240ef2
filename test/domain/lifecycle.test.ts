/** The lifecycle 2×2 (G5): finalizer × deletion, and what the planner does in each cell. */
import { assert, describe, it } from "@effect/vitest"
import { lifecycle } from "../../src/domain/lifecycle.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

describe("lifecycle", () => {
  const cases = [
    { name: "NoFinalizerLive", machine: aMachine(), first: "AddFinalizer" },
    {
      name: "HasFinalizerLive",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a"),
      first: "EnsureNamespace"
    },
    {
      name: "HasFinalizerDeleting",
      machine: aMachine().withFinalizer().placedOn("remote-a").deleting(),
      first: "RemoveFinalizer"
    },
    { name: "NoFinalizerDeleting", machine: aMachine().deleting(), first: undefined }
  ] as const
  it.each(cases)("$name: the first action is $first", ({ name, machine, first }) => {
    const m = machine.build()
    assert.strictEqual(lifecycle(m), name)
    const observed = aCluster().withObjects().build(m)
    assert.strictEqual(plan({ machine: m, observed, settings: defaultSettings }).actions[0]?._tag, first)
  })
})
