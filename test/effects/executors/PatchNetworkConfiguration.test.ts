/**
 * Executor of PatchNetworkConfiguration on the in-memory supervisor (ADR 0013): records the wanted interfaces on the
 * fresh object, keeping what an IP operator wrote into an entry and its status; a no-op when they are recorded; one
 * that is not ours is NotOurs and stays.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { executePatchNetworkConfiguration } from "../../../src/effects/executors/PatchNetworkConfiguration.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const labels = { "managed-by": "vitistack-kubevirt-operator", "source-machine": "vm-a" }
const after = {
  name: "vm-a",
  namespace: "team-a",
  labels,
  annotations: {},
  owner: { name: "vm-a", uid: "" },
  shortName: "vm-a",
  description: "d",
  networkNamespaceName: "net",
  interfaces: [
    { name: "vlan7", macAddress: "02:12:00:00:00:07" },
    { name: "lan", macAddress: "02:12:00:00:00:08" }
  ]
}
const patch = {
  _tag: "PatchNetworkConfiguration",
  target: refOf("NetworkConfiguration", "vm-a", "team-a"),
  before: "vlan7=02:12:00:00:00:07",
  after,
  reason: "test"
} as const
const nc = (l: Record<string, string>): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "NetworkConfiguration",
  metadata: { name: "vm-a", namespace: "team-a", labels: l },
  spec: {
    name: "vm-a",
    networkInterfaces: [{ name: "vlan7", macAddress: "02:12:00:00:00:07", ipv4Addresses: ["10.0.0.7"] }]
  },
  status: { networkInterfaces: [{ macAddress: "02:12:00:00:00:07", ipv4Addresses: ["10.0.0.7"] }] }
})

describe("executePatchNetworkConfiguration", () => {
  it.effect(
    "adds the missing interface, keeps the other entry's fields and the status; run twice changes nothing",
    () => {
      const w = twoClusters()
      w.supervisor.seed([namespaceObject("team-a"), nc(labels)])
      return Effect.gen(function* () {
        yield* executePatchNetworkConfiguration(patch)
        const [o] = w.supervisor.objects({ kind: "NetworkConfiguration" })
        assert.deepStrictEqual((o!.spec as any).networkInterfaces, [
          { name: "vlan7", macAddress: "02:12:00:00:00:07", ipv4Addresses: ["10.0.0.7"] },
          { name: "lan", macAddress: "02:12:00:00:00:08" }
        ])
        assert.deepStrictEqual((o!.status as any).networkInterfaces[0].ipv4Addresses, ["10.0.0.7"])
        const rv = o?.metadata.resourceVersion
        yield* executePatchNetworkConfiguration(patch)
        assert.strictEqual(w.supervisor.objects({ kind: "NetworkConfiguration" })[0]?.metadata.resourceVersion, rv)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect("one that is not ours: NotOurs, unchanged", () => {
    const w = twoClusters()
    w.supervisor.seed([namespaceObject("team-a"), nc({ app: "theirs" })])
    return Effect.gen(function* () {
      const error = yield* Effect.flip(executePatchNetworkConfiguration(patch))
      assert.strictEqual(error._tag, "NotOurs")
      assert.strictEqual(
        (w.supervisor.objects({ kind: "NetworkConfiguration" })[0]!.spec as any).networkInterfaces.length,
        1
      )
    }).pipe(Effect.provide(w.layer))
  })
})
