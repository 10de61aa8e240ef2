/**
 * Executor of CreateVirtualMachine on the in-memory remote: creates the VM from its manifest; our existing VM is
 * success; a foreign VM of that name is NotOurs and is left alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { observeVm, vmManifest } from "../../../src/domain/manifests/VirtualMachine.ts"
import { executeCreateVirtualMachine } from "../../../src/effects/executors/CreateVirtualMachine.ts"
import { desiredOf, webVmRef } from "../../fixtures/desiredObjects.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const vm = desiredOf().vm
const create = {
  _tag: "CreateVirtualMachine",
  cluster: "remote-a",
  target: webVmRef,
  after: vm,
  reason: "test"
} as const

describe("executeCreateVirtualMachine", () => {
  it.effect("creates the VM whose owned fields are the desired ones", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a")])
    return Effect.gen(function* () {
      yield* executeCreateVirtualMachine(create)
      const [stored] = w.remote.objects({ kind: "VirtualMachine" })
      assert.deepStrictEqual(observeVm(stored!).spec, vm)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("our VM already there (a lost response, a concurrent reconcile) is success, unchanged", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a"), vmManifest(vm)])
    const before = JSON.stringify(w.remote.objects())
    return Effect.gen(function* () {
      yield* executeCreateVirtualMachine(create)
      assert.strictEqual(JSON.stringify(w.remote.objects()), before)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a VM of that name without our labels fails with NotOurs", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a"), { ...vmManifest(vm), metadata: { name: "web", namespace: "team-a" } }])
    return Effect.gen(function* () {
      const error = yield* Effect.flip(executeCreateVirtualMachine(create))
      assert.strictEqual(error._tag, "NotOurs")
      assert.isUndefined(w.remote.objects({ kind: "VirtualMachine" })[0]?.metadata.labels)
    }).pipe(Effect.provide(w.layer))
  })
})
