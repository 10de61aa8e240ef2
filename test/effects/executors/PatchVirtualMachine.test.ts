/**
 * Executor of PatchVirtualMachine on the in-memory remote: converges the owned fields with the observed
 * resourceVersion as precondition; labels of others survive; a stale plan fails with Conflict and changes nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { observeVm, vmManifest } from "../../../src/domain/manifests/VirtualMachine.ts"
import { executePatchVirtualMachine } from "../../../src/effects/executors/PatchVirtualMachine.ts"
import { desiredOf, webVmRef } from "../../fixtures/desiredObjects.ts"
import { onVirtualTime } from "../../fixtures/virtualTime.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const before = desiredOf().vm
const after = { ...before, cpu: { ...before.cpu, cores: 4 }, memory: "8Gi" }

const seeded = () => {
  const w = twoClusters()
  const live = vmManifest(before)
  w.remote.seed([
    namespaceObject("team-a"),
    { ...live, metadata: { ...live.metadata, labels: { ...live.metadata.labels, team: "blue" } } }
  ])
  return { w, rv: w.remote.objects({ kind: "VirtualMachine" })[0]!.metadata.resourceVersion! }
}

const patch = (resourceVersion: string) =>
  ({
    _tag: "PatchVirtualMachine",
    cluster: "remote-a",
    target: webVmRef,
    before,
    after,
    resourceVersion,
    restartRequired: true,
    reason: "test"
  }) as const

describe("executePatchVirtualMachine", () => {
  it.effect("the VM's owned fields become `after`; a label of someone else's stays", () => {
    const { w, rv } = seeded()
    return Effect.gen(function* () {
      yield* executePatchVirtualMachine(patch(rv))
      const [stored] = w.remote.objects({ kind: "VirtualMachine" })
      const observed = observeVm(stored!)
      assert.deepStrictEqual(observed.spec.cpu, after.cpu)
      assert.strictEqual(observed.spec.memory, "8Gi")
      assert.strictEqual(stored?.metadata.labels?.team, "blue")
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a VM changed since it was observed is not overwritten (Conflict)", () => {
    const { w } = seeded()
    const snapshot = JSON.stringify(w.remote.objects({ kind: "VirtualMachine" }))
    return Effect.gen(function* () {
      const error = yield* Effect.flip(onVirtualTime(executePatchVirtualMachine(patch("1"))))
      assert.strictEqual(error._tag === "KubeApiError" && error.reason._tag, "Conflict")
      assert.strictEqual(JSON.stringify(w.remote.objects({ kind: "VirtualMachine" })), snapshot)
    }).pipe(Effect.provide(w.layer))
  })
})
