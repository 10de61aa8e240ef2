/**
 * Executor of ExpandPvc on the in-memory remote: grows the request with the observed resourceVersion as precondition;
 * a claim changed since (stale resourceVersion) fails with Conflict and keeps its size.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { pvcManifest } from "../../../src/domain/manifests/Pvc.ts"
import { executeExpandPvc } from "../../../src/effects/executors/ExpandPvc.ts"
import { desiredOf, webPvcRef } from "../../fixtures/desiredObjects.ts"
import { onVirtualTime } from "../../fixtures/virtualTime.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const storageOf = (o: KubeObject | undefined) =>
  (o?.spec as { resources: { requests: { storage: string } } } | undefined)?.resources.requests.storage

const seeded = () => {
  const w = twoClusters()
  w.remote.seed([namespaceObject("team-a"), pvcManifest(desiredOf().pvcs[0]!)])
  const rv = w.remote.objects({ kind: "PersistentVolumeClaim" })[0]!.metadata.resourceVersion!
  return { w, rv }
}

const expand = (resourceVersion: string) =>
  ({
    _tag: "ExpandPvc",
    cluster: "remote-a",
    target: webPvcRef,
    before: "10Gi",
    after: "20Gi",
    resourceVersion,
    reason: "test"
  }) as const

describe("executeExpandPvc", () => {
  it.effect("grows the claim's requested storage", () => {
    const { w, rv } = seeded()
    return Effect.gen(function* () {
      yield* executeExpandPvc(expand(rv))
      assert.strictEqual(storageOf(w.remote.objects({ kind: "PersistentVolumeClaim" })[0]), "20Gi")
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a stale resourceVersion is a Conflict (after bounded retries) and changes nothing", () => {
    const { w } = seeded()
    return Effect.gen(function* () {
      const error = yield* Effect.flip(onVirtualTime(executeExpandPvc(expand("1"))))
      assert.strictEqual(error._tag === "KubeApiError" && error.reason._tag, "Conflict")
      assert.strictEqual(storageOf(w.remote.objects({ kind: "PersistentVolumeClaim" })[0]), "10Gi")
    }).pipe(Effect.provide(w.layer))
  })
})
