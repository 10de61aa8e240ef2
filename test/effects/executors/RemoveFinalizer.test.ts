/**
 * Executor of RemoveFinalizer on the in-memory supervisor: drops ours and keeps the others; a deleted Machine whose
 * last finalizer it was goes away.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FINALIZER } from "../../../src/domain/labels.ts"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { Supervisor } from "../../../src/effects/Clusters.ts"
import { executeRemoveFinalizer } from "../../../src/effects/executors/RemoveFinalizer.ts"
import { webMachineRef } from "../../fixtures/desiredObjects.ts"
import { machineObject, namespaceObject, twoClusters } from "../../fixtures/world.ts"

const remove = { _tag: "RemoveFinalizer", target: webMachineRef, finalizer: FINALIZER, reason: "test" } as const

describe("executeRemoveFinalizer", () => {
  it.effect("drops our finalizer and keeps the others", () => {
    const w = twoClusters()
    const m = machineObject("web", "team-a")
    w.supervisor.seed([
      namespaceObject("team-a"),
      { ...m, metadata: { ...m.metadata, finalizers: ["other/one", FINALIZER] } }
    ])
    return Effect.gen(function* () {
      yield* executeRemoveFinalizer(remove)
      assert.deepStrictEqual(w.supervisor.objects({ kind: "Machine" })[0]?.metadata.finalizers, ["other/one"])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a deleted Machine held only by our finalizer is gone afterwards", () => {
    const w = twoClusters()
    const m = machineObject("web", "team-a")
    w.supervisor.seed([namespaceObject("team-a"), { ...m, metadata: { ...m.metadata, finalizers: [FINALIZER] } }])
    return Effect.gen(function* () {
      yield* (yield* Supervisor).delete(refOf("Machine", "web", "team-a"))
      yield* executeRemoveFinalizer(remove)
      assert.deepStrictEqual(w.supervisor.objects({ kind: "Machine" }), [])
    }).pipe(Effect.provide(w.layer))
  })
})
