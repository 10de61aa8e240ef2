/**
 * Events are aggregated (one Event, a growing count) and recorded with create/patch only (no reads). The operator's
 * recorder (`layerAsync`) never makes the caller wait: a new event goes out at once from a writer fiber, the same one
 * again within the window is written once with its count, and a full pending set drops events (counted). A URL in a
 * message is written in its display form, credentials masked (ADR 0018), whoever recorded it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
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

  it.effect("a URL in a message is written with its credentials masked, in the message and the Event's name", () => {
    const cluster = InMemoryCluster.make()
    cluster.seed([namespaceObject("team-a")])
    const layer = Layer.provide(EventRecorder.layer, Supervisor.layer(makeInMemoryApi(cluster)))
    return Effect.gen(function* () {
      const events = yield* EventRecorder
      const target = { name: "vm-a", namespace: "team-a", uid: "u1" }
      const said = (sig: string) => `cannot create DataVolume: Invalid value: "https://h.example/i.iso?sig=${sig}"`
      yield* events.record(target, "Warning", "CreateDataVolumeFailed", said("Zqsig1"))
      // Another signature of the same URL is the same Event (its name is derived from the masked message).
      yield* events.record(target, "Warning", "CreateDataVolumeFailed", said("Zqsig2"))
      const stored = cluster.objects({ kind: "Event" })
      assert.deepStrictEqual(
        stored.map((e) => [e.message, e.count]),
        [[said("[redacted]"), 2]]
      )
      assert.notInclude(JSON.stringify(stored), "Zqsig")
    }).pipe(Effect.provide(layer))
  })
})

describe("EventRecorder.layerAsync", () => {
  const world = (options: Parameters<typeof EventRecorder.layerAsync>[0] = {}, slow = false) => {
    const cluster = InMemoryCluster.make()
    cluster.seed([namespaceObject("team-a")])
    const api = makeInMemoryApi(cluster)
    const supervisor = slow
      ? {
          ...api,
          create: (...args: Parameters<typeof api.create>) =>
            Effect.andThen(Effect.sleep("1 hour"), api.create(...args))
        }
      : api
    return { cluster, layer: Layer.provide(EventRecorder.layerAsync(options), Supervisor.layer(supervisor)) }
  }
  const target = { name: "vm-a", namespace: "team-a", uid: "u1" }

  it.effect(
    "a new event is written without the caller waiting; the same again within the window is one write with its count",
    () => {
      const { cluster, layer } = world({ window: "1 second" })
      return Effect.gen(function* () {
        const events = yield* EventRecorder
        yield* events.record(target, "Normal", "CreateVirtualMachine", "created")
        yield* TestClock.adjust("10 millis")
        assert.deepStrictEqual(
          cluster.objects({ kind: "Event" }).map((e) => [e.reason, e.count]),
          [["CreateVirtualMachine", 1]]
        )
        for (let i = 0; i < 5; i++) yield* events.record(target, "Warning", "CreatePvcFailed", "cannot create: 500")
        yield* TestClock.adjust("10 millis")
        for (let i = 0; i < 4; i++) yield* events.record(target, "Warning", "CreatePvcFailed", "cannot create: 500")
        yield* TestClock.adjust("2 seconds")
        const failed = cluster.objects({ kind: "Event" }).find((e) => e.reason === "CreatePvcFailed")
        assert.strictEqual(failed?.count, 9)
        assert.strictEqual(cluster.requestCount({ verb: "create", kind: "Event" }), 2)
        assert.isAtMost(cluster.requestCount({ verb: "patch", kind: "Event" }), 1)
      }).pipe(Effect.provide(layer))
    }
  )

  it.effect(
    "when the writer cannot keep up, events beyond the pending set are dropped and counted, never waited for",
    () => {
      let dropped = 0
      const { layer } = world({ capacity: 3, onDropped: () => dropped++ }, true)
      return Effect.gen(function* () {
        const events = yield* EventRecorder
        for (let i = 0; i < 10; i++) yield* events.record(target, "Normal", "CreatePvc", `created claim ${i}`)
        yield* TestClock.adjust("10 millis")
        // The first ones were taken by the (stuck) writer; the pending set then filled up.
        assert.isAbove(dropped, 0)
        assert.isAtMost(dropped, 10)
      }).pipe(Effect.provide(layer))
    }
  )
})
