/**
 * Executor of DeleteVirtualMachine on the in-memory remote: deletes our VM with the observed resourceVersion as
 * precondition; a VM already gone is success; one replaced since is kept.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { vmManifest } from "../../../src/domain/manifests/VirtualMachine.ts"
import { executeDeleteVirtualMachine } from "../../../src/effects/executors/DeleteVirtualMachine.ts"
import { desiredOf, webVmRef } from "../../fixtures/desiredObjects.ts"
import { onVirtualTime } from "../../fixtures/virtualTime.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const del = (resourceVersion: string) =>
  ({ _tag: "DeleteVirtualMachine", cluster: "remote-a", target: webVmRef, resourceVersion, reason: "test" }) as const

const seeded = () => {
  const w = twoClusters()
  w.remote.seed([namespaceObject("team-a"), vmManifest(desiredOf().vm)])
  return { w, rv: w.remote.objects({ kind: "VirtualMachine" })[0]!.metadata.resourceVersion! }
}

describe("executeDeleteVirtualMachine", () => {
  it.effect("deletes the VM", () => {
    const { w, rv } = seeded()
    return Effect.gen(function* () {
      yield* executeDeleteVirtualMachine(del(rv))
      assert.deepStrictEqual(w.remote.objects({ kind: "VirtualMachine" }), [])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a VM that is already gone is success", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a")])
    return Effect.gen(function* () {
      yield* executeDeleteVirtualMachine(del("3"))
      assert.deepStrictEqual(w.remote.objects({ kind: "VirtualMachine" }), [])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a VM with another resourceVersion than observed is kept (Conflict)", () => {
    const { w } = seeded()
    return Effect.gen(function* () {
      const error = yield* Effect.flip(onVirtualTime(executeDeleteVirtualMachine(del("1"))))
      assert.strictEqual(error._tag === "KubeApiError" && error.reason._tag, "Conflict")
      assert.strictEqual(w.remote.objects({ kind: "VirtualMachine" }).length, 1)
    }).pipe(Effect.provide(w.layer))
  })
})
