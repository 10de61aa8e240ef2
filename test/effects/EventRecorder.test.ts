/** Events are aggregated (one Event, a growing count) and recorded with create/patch only (no reads). */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Supervisor } from "../../src/effects/Clusters.ts"
import { EventRecorder } from "../../src/effects/EventRecorder.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { namespaceObject } from "../fixtures/world.ts"

describe("EventRecorder", () => {
  it.effect("the same reason and message bump one Event's count; a different message is another Event", () => {
    const cluster = InMemoryCluster.make()
    cluster.seed([namespaceObject("team-a")])
    const layer = Layer.provide(EventRecorder.layer, Supervisor.layer(makeInMemoryApi(cluster)))
    return Effect.gen(function* () {
      const events = yield* EventRecorder
      const target = { name: "vm-a", namespace: "team-a", uid: "u1" }
      for (let i = 0; i < 3; i++)
        yield* events.record(target, "Warning", "EnsureNamespaceFailed", "cannot create Namespace team-a: forbidden")
      yield* events.record(target, "Normal", "CreateVirtualMachine", "created")
      const stored = cluster.objects({ kind: "Event" })
      assert.deepStrictEqual(stored.map((e) => [e.reason, e.count]).sort(), [
        ["CreateVirtualMachine", 1],
        ["EnsureNamespaceFailed", 3]
      ])
      assert.strictEqual(cluster.requestCount({ verb: "get", kind: "Event" }), 0)
      assert.deepStrictEqual((stored[0]!.involvedObject as { kind: string }).kind, "Machine")
    }).pipe(Effect.provide(layer))
  })
})
