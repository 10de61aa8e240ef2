/**
 * Executor of DeletePvc on the in-memory remote: deletes the claim with the observed resourceVersion as precondition;
 * a claim already gone is success; a claim replaced since (new resourceVersion) is not deleted.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { pvcManifest } from "../../../src/domain/manifests/Pvc.ts"
import { executeDeletePvc } from "../../../src/effects/executors/DeletePvc.ts"
import { desiredOf, webPvcRef } from "../../fixtures/desiredObjects.ts"
import { onVirtualTime } from "../../fixtures/virtualTime.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const del = (resourceVersion: string) =>
  ({ _tag: "DeletePvc", cluster: "remote-a", target: webPvcRef, resourceVersion, reason: "test" }) as const

const seeded = () => {
  const w = twoClusters()
  w.remote.seed([namespaceObject("team-a"), pvcManifest(desiredOf().pvcs[0]!)])
  return { w, rv: w.remote.objects({ kind: "PersistentVolumeClaim" })[0]!.metadata.resourceVersion! }
}

describe("executeDeletePvc", () => {
  it.effect("deletes the claim", () => {
    const { w, rv } = seeded()
    return Effect.gen(function* () {
      yield* executeDeletePvc(del(rv))
      assert.deepStrictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" }), [])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a claim that is already gone is success", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a")])
    return Effect.gen(function* () {
      yield* executeDeletePvc(del("7"))
      assert.deepStrictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" }), [])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a claim with another resourceVersion than observed is kept (Conflict)", () => {
    const { w } = seeded()
    return Effect.gen(function* () {
      const error = yield* Effect.flip(onVirtualTime(executeDeletePvc(del("1"))))
      assert.strictEqual(error._tag === "KubeApiError" && error.reason._tag, "Conflict")
      assert.strictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" }).length, 1)
    }).pipe(Effect.provide(w.layer))
  })
})
