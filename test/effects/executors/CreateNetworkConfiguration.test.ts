/**
 * Executor of CreateNetworkConfiguration on the in-memory supervisor (ADR 0013): creates it with the owner reference
 * (the live Machine's uid when the plan had none); run twice it succeeds; a MAC another NetworkConfiguration holds in
 * the operator's cache fails the write (MacAddressTaken, retryable) and nothing is created.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { executeCreateNetworkConfiguration } from "../../../src/effects/executors/CreateNetworkConfiguration.ts"
import { NetworkCache, NetworkCacheStore } from "../../../src/effects/NetworkCache.ts"
import { machineObject, namespaceObject, twoClusters } from "../../fixtures/world.ts"

const after = {
  name: "vm-a",
  namespace: "team-a",
  labels: { "managed-by": "vitistack-kubevirt-operator", "source-machine": "vm-a" },
  annotations: {},
  owner: { name: "vm-a", uid: "" },
  shortName: "vm-a",
  description: "Network configuration for machine vm-a",
  networkNamespaceName: "net",
  interfaces: [{ name: "vlan7", macAddress: "02:12:00:00:00:07" }]
}
const create = {
  _tag: "CreateNetworkConfiguration",
  target: refOf("NetworkConfiguration", "vm-a", "team-a"),
  after,
  reason: "test"
} as const

describe("executeCreateNetworkConfiguration", () => {
  it.effect("creates it with Go's fields and a controller owner reference to the live Machine", () => {
    const w = twoClusters()
    w.supervisor.seed([
      namespaceObject("team-a"),
      { ...machineObject("vm-a", "team-a"), metadata: { name: "vm-a", namespace: "team-a", uid: "m-uid" } }
    ])
    return Effect.gen(function* () {
      yield* executeCreateNetworkConfiguration(create)
      yield* executeCreateNetworkConfiguration(create)
      const ncs = w.supervisor.objects({ kind: "NetworkConfiguration" })
      assert.strictEqual(ncs.length, 1)
      assert.deepStrictEqual(ncs[0]?.metadata.ownerReferences, [
        { apiVersion: "vitistack.io/v1alpha1", kind: "Machine", name: "vm-a", uid: "m-uid", controller: true }
      ])
      assert.deepStrictEqual((ncs[0]!.spec as any).networkInterfaces, [
        { name: "vlan7", macAddress: "02:12:00:00:00:07" }
      ])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a MAC another NetworkConfiguration holds in the cache: MacAddressTaken, nothing written", () => {
    const w = twoClusters()
    w.supervisor.seed([namespaceObject("team-a")])
    const cache = new NetworkCacheStore()
    cache.synced("NetworkConfiguration")
    assert.isUndefined(cache.claim("team-b/other", ["02:12:00:00:00:07"]))
    return Effect.gen(function* () {
      const error = yield* Effect.flip(executeCreateNetworkConfiguration(create))
      assert.strictEqual(error._tag, "MacAddressTaken")
      assert.isTrue(error.isRetryable)
      assert.include(error.message, "team-b/other")
      assert.deepStrictEqual(w.supervisor.objects({ kind: "NetworkConfiguration" }), [])
    }).pipe(Effect.provideService(NetworkCache, cache), Effect.provide(w.layer))
  })
})
