/**
 * Executor of PersistPlacement on the in-memory supervisor: records the placement annotation when it is absent; a
 * placement recorded meanwhile (another replica, a person) is never overwritten.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { PLACEMENT_ANNOTATION } from "../../../src/domain/labels.ts"
import { executePersistPlacement } from "../../../src/effects/executors/PersistPlacement.ts"
import { webMachineRef } from "../../fixtures/desiredObjects.ts"
import { machineObject, namespaceObject, twoClusters } from "../../fixtures/world.ts"

const persist = { _tag: "PersistPlacement", target: webMachineRef, placement: "remote-a", reason: "test" } as const
const annotationsOf = (w: ReturnType<typeof twoClusters>) =>
  w.supervisor.objects({ kind: "Machine" })[0]?.metadata.annotations

describe("executePersistPlacement", () => {
  it.effect("writes the placement annotation, keeping the other annotations", () => {
    const w = twoClusters()
    const m = machineObject("web", "team-a")
    w.supervisor.seed([namespaceObject("team-a"), { ...m, metadata: { ...m.metadata, annotations: { a: "b" } } }])
    return Effect.gen(function* () {
      yield* executePersistPlacement(persist)
      assert.deepStrictEqual(annotationsOf(w), { a: "b", [PLACEMENT_ANNOTATION]: "remote-a" })
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("an annotation already there (even another cluster) stays, and nothing is written", () => {
    const w = twoClusters()
    const m = machineObject("web", "team-a")
    w.supervisor.seed([
      namespaceObject("team-a"),
      { ...m, metadata: { ...m.metadata, annotations: { [PLACEMENT_ANNOTATION]: "remote-b" } } }
    ])
    return Effect.gen(function* () {
      const writes = w.supervisor.writeCount()
      yield* executePersistPlacement(persist)
      assert.deepStrictEqual(annotationsOf(w), { [PLACEMENT_ANNOTATION]: "remote-b" })
      assert.strictEqual(w.supervisor.writeCount(), writes)
    }).pipe(Effect.provide(w.layer))
  })
})
