/** Executor of AddFinalizer on the in-memory supervisor: appends ours, keeps others, and a second run writes nothing. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FINALIZER } from "../../../src/domain/labels.ts"
import { executeAddFinalizer } from "../../../src/effects/executors/AddFinalizer.ts"
import { webMachineRef } from "../../fixtures/desiredObjects.ts"
import { machineObject, namespaceObject, twoClusters } from "../../fixtures/world.ts"

const add = { _tag: "AddFinalizer", target: webMachineRef, finalizer: FINALIZER, reason: "test" } as const

describe("executeAddFinalizer", () => {
  it.effect("appends our finalizer after the others; a second run is a no-op without a write", () => {
    const w = twoClusters()
    const m = machineObject("web", "team-a")
    w.supervisor.seed([namespaceObject("team-a"), { ...m, metadata: { ...m.metadata, finalizers: ["other/one"] } }])
    return Effect.gen(function* () {
      yield* executeAddFinalizer(add)
      const finalizers = () => w.supervisor.objects({ kind: "Machine" })[0]?.metadata.finalizers
      assert.deepStrictEqual(finalizers(), ["other/one", FINALIZER])
      const writes = w.supervisor.writeCount()
      yield* executeAddFinalizer(add)
      assert.deepStrictEqual(finalizers(), ["other/one", FINALIZER])
      assert.strictEqual(w.supervisor.writeCount(), writes)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a Machine that is gone is done", () => {
    const w = twoClusters()
    return Effect.gen(function* () {
      yield* executeAddFinalizer(add)
      assert.deepStrictEqual(w.supervisor.objects({ kind: "Machine" }), [])
    }).pipe(Effect.provide(w.layer))
  })
})
