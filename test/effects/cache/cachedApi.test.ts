/**
 * Reads through the watch caches (ADR 0017): observe's queries answered from a synced cache send no request; a
 * reconcile right after a create sees what was created even when the watch has not delivered it; a cache whose watch
 * has failed for too long makes observe's facts Unknown, never Absent; a remote's storage lists are reused for a while.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_MACHINE_LABEL } from "../../../src/domain/labels.ts"
import { Machine } from "../../../src/domain/Machine.ts"
import { Kinds, refOf } from "../../../src/domain/ObjectRef.ts"
import { cachedApi } from "../../../src/effects/cache/cachedApi.ts"
import { slimFor } from "../../../src/effects/cache/slim.ts"
import { ClusterCaches } from "../../../src/effects/cache/WatchCaches.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../../src/effects/kube/inMemoryApi.ts"
import { observeRemote } from "../../../src/effects/observe.ts"
import { machineObject, namespaceObject } from "../../fixtures/world.ts"

const ours = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }

/** A remote with the caches the operator keeps, filled by one list each (as its informers' first lists). */
const cachedRemote = () =>
  Effect.gen(function* () {
    const cluster = InMemoryCluster.make()
    cluster.seed([namespaceObject("team-a")])
    const api = makeInMemoryApi(cluster)
    const caches = new ClusterCaches("remote-a", 30_000)
    const kinds = [
      { kind: Kinds.VirtualMachine, labelSelector: ours, foreignNames: true },
      { kind: Kinds.VirtualMachineInstance, labelSelector: ours },
      { kind: Kinds.PersistentVolumeClaim, labelSelector: ours, foreignNames: true },
      { kind: Kinds.Namespace, labelSelector: {} }
    ]
    const registered = kinds.map((k) =>
      caches.register({
        ...k,
        complete: true,
        slim: slimFor(k.kind),
        indexLabel: SOURCE_MACHINE_LABEL,
        gatesReconciles: true
      })
    )
    const fill = Effect.forEach(registered, (c, i) =>
      Effect.map(api.list(kinds[i]!.kind, {}), (l) => {
        c.beginList()
        c.replace(l.items, 0)
      })
    )
    yield* fill
    cluster.resetRequestCounts()
    return { cluster, caches, registered, cached: cachedApi(api, caches), fill }
  })

const machine = Machine.make({ metadata: { name: "web", namespace: "team-a" }, spec: { provider: "kubevirt" } })

describe("cachedApi", () => {
  it.effect("observe's reads of a Machine on a synced cluster send no request", () =>
    Effect.gen(function* () {
      const { cluster, cached } = yield* cachedRemote()
      const state = yield* observeRemote(cached, "remote-a", machine)
      assert.strictEqual(state.namespace._tag, "Present")
      assert.strictEqual(state.vm._tag, "Absent")
      assert.strictEqual(state.pvcs._tag, "Present")
      assert.strictEqual(cluster.requestCount(), 0)
    })
  )

  it.effect("a reconcile right after a create sees the created VM, though the watch has delivered nothing", () =>
    Effect.gen(function* () {
      const { cluster, cached } = yield* cachedRemote()
      const body: KubeObject = {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachine",
        metadata: { name: "web", namespace: "team-a", labels: { ...ours, "source-machine": "web" } },
        spec: { runStrategy: "Always", template: { spec: {} } }
      }
      yield* cached.create(refOf("VirtualMachine", "web", "team-a"), body)
      const state = yield* observeRemote(cached, "remote-a", machine)
      assert.strictEqual(state.vm._tag, "Present")
      assert.strictEqual(cluster.requestCount({ verb: "get" }), 0)
    })
  )

  it.effect("someone else's VM of that name is read live, so the planner sees the clash before creating anything", () =>
    Effect.gen(function* () {
      const { cluster, cached, fill } = yield* cachedRemote()
      cluster.seed([
        {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachine",
          metadata: { name: "web", namespace: "team-a", labels: { app: "theirs" } },
          spec: {}
        }
      ])
      yield* fill
      const state = yield* observeRemote(cached, "remote-a", machine)
      assert.strictEqual(state.vm._tag, "Present")
      assert.deepStrictEqual(state.vm._tag === "Present" ? state.vm.value.labels : undefined, { app: "theirs" })
    })
  )

  it.effect("a watch failing for longer than the bound makes the facts Unknown, never Absent, and sends nothing", () =>
    Effect.gen(function* () {
      const { cluster, cached, registered } = yield* cachedRemote()
      registered[0]!.failed("cannot watch VirtualMachine in all namespaces: connect ECONNREFUSED", 0)
      yield* TestClock.adjust("31 seconds")
      const state = yield* observeRemote(cached, "remote-a", machine)
      for (const fact of [state.namespace, state.vm, state.vmi, state.pvcs]) {
        assert.strictEqual(fact._tag, "Unknown")
        assert.include(fact._tag === "Unknown" ? fact.reason : "", "ECONNREFUSED")
      }
      assert.strictEqual(cluster.requestCount(), 0)
    })
  )

  it.effect("a remote's StorageClass and StorageProfile lists are reused for 30 s", () =>
    Effect.gen(function* () {
      const cluster = InMemoryCluster.make()
      const cached = cachedApi(makeInMemoryApi(cluster), new ClusterCaches("remote-a", 30_000), {
        listMemo: { kinds: [Kinds.StorageClass], millis: 30_000 }
      })
      for (let i = 0; i < 3; i++) yield* cached.list(Kinds.StorageClass)
      assert.strictEqual(cluster.requestCount({ verb: "list", kind: "StorageClass" }), 1)
      yield* TestClock.adjust("31 seconds")
      yield* cached.list(Kinds.StorageClass)
      assert.strictEqual(cluster.requestCount({ verb: "list", kind: "StorageClass" }), 2)
    })
  )

  it.effect("a Machine read through the supervisor's cache is the cached one; our status write is seen at once", () =>
    Effect.gen(function* () {
      const cluster = InMemoryCluster.make()
      cluster.seed([namespaceObject("team-a"), machineObject("web", "team-a")])
      const api = makeInMemoryApi(cluster)
      const caches = new ClusterCaches("supervisor", 30_000)
      const machines = caches.register({ kind: Kinds.Machine, labelSelector: {}, complete: true })
      machines.replace((yield* api.list(Kinds.Machine)).items, 0)
      const cached = cachedApi(api, caches)
      cluster.resetRequestCounts()
      const ref = refOf("Machine", "web", "team-a")
      const read = Option.getOrThrow(yield* cached.get(ref))
      yield* cached.updateStatus(ref, { phase: "Creating" }, { resourceVersion: read.metadata.resourceVersion ?? "" })
      const again = Option.getOrThrow(yield* cached.get(ref))
      assert.deepStrictEqual(again.status, { phase: "Creating" })
      assert.strictEqual(cluster.requestCount({ verb: "get" }), 0)
    })
  )

  it.effect(
    "with adoption's selection of the Go operator's VMs, an adoption and a deletion are seen by both selections at once",
    () =>
      Effect.gen(function* () {
        const go = { "vitistack.io/managed-by": "kubevirt-operator", "vitistack.io/source-machine": "web" }
        const cluster = InMemoryCluster.make()
        cluster.seed([
          namespaceObject("team-a"),
          {
            apiVersion: "kubevirt.io/v1",
            kind: "VirtualMachine",
            metadata: { name: "web", namespace: "team-a", labels: go }
          }
        ])
        const api = makeInMemoryApi(cluster)
        const caches = new ClusterCaches("remote-a", 30_000)
        const mine = caches.register({
          kind: Kinds.VirtualMachine,
          labelSelector: ours,
          complete: true,
          foreignNames: true
        })
        const theirs = caches.register({
          kind: Kinds.VirtualMachine,
          labelSelector: { "vitistack.io/managed-by": "kubevirt-operator" },
          complete: true,
          indexLabel: "vitistack.io/source-machine"
        })
        const all = (yield* api.list(Kinds.VirtualMachine)).items
        mine.replace(all, 0)
        theirs.replace(all, 0)
        const cached = cachedApi(api, caches)
        const ref = refOf("VirtualMachine", "web", "team-a")
        const goList = () =>
          Effect.map(cached.list(Kinds.VirtualMachine, { namespace: "team-a", labelSelector: go }), (l) =>
            l.items.map((o) => Object.keys(o.metadata.labels ?? {}).length)
          )
        cluster.resetRequestCounts()
        assert.deepStrictEqual(yield* goList(), [2])
        yield* cached.patch(ref, { metadata: { labels: { ...ours, [SOURCE_MACHINE_LABEL]: "web" } } })
        assert.deepStrictEqual(yield* goList(), [4], "the Go selection holds the adopted VM as written")
        const read = Option.getOrThrow(yield* cached.get(ref))
        assert.strictEqual(read.metadata.labels?.[MANAGED_BY_LABEL], MANAGED_BY_VALUE)
        yield* cached.delete(ref)
        assert.deepStrictEqual(yield* goList(), [], "deleted: gone from the Go selection too")
        assert.isTrue(Option.isNone(yield* cached.get(ref)))
        // The reads by name are live (the VM was someone else's name until the watch delivers the adoption); the
        // lists of the Go operator's selection never are.
        assert.strictEqual(cluster.requestCount({ verb: "list" }), 0)
        assert.strictEqual(cluster.requestCount({ verb: "get" }), 2)
      })
  )
})
