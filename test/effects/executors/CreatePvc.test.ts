/** Executor of CreatePvc on the in-memory remote: creates the claim; our existing claim is success; a foreign one is NotOurs. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { executeCreatePvc } from "../../../src/effects/executors/CreatePvc.ts"
import { desiredOf, webPvcRef } from "../../fixtures/desiredObjects.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const pvc = desiredOf().pvcs[0]!
const create = { _tag: "CreatePvc", cluster: "remote-a", target: webPvcRef, after: pvc, reason: "test" } as const

describe("executeCreatePvc", () => {
  it.effect("creates the claim with its size, modes and our labels", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a")])
    return Effect.gen(function* () {
      yield* executeCreatePvc(create)
      const [claim] = w.remote.objects({ kind: "PersistentVolumeClaim" })
      assert.strictEqual(claim?.metadata.name, "web")
      assert.deepStrictEqual(claim?.metadata.labels, pvc.labels)
      assert.deepStrictEqual(claim?.spec, {
        accessModes: ["ReadWriteMany"],
        volumeMode: "Block",
        resources: { requests: { storage: "10Gi" } }
      })
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("run twice: the second create meets our claim and succeeds without changing it", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a")])
    return Effect.gen(function* () {
      yield* executeCreatePvc(create)
      const once = JSON.stringify(w.remote.objects())
      yield* executeCreatePvc(create)
      assert.strictEqual(JSON.stringify(w.remote.objects()), once)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a claim of that name without our labels fails with NotOurs and is left alone", () => {
    const w = twoClusters()
    const foreign = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "web", namespace: "team-a" },
      spec: { resources: { requests: { storage: "1Gi" } } }
    }
    w.remote.seed([namespaceObject("team-a"), foreign])
    return Effect.gen(function* () {
      const error = yield* Effect.flip(executeCreatePvc(create))
      assert.strictEqual(error._tag, "NotOurs")
      assert.isFalse(error.isRetryable)
      assert.deepStrictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" })[0]?.spec, foreign.spec)
    }).pipe(Effect.provide(w.layer))
  })
})
