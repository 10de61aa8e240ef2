/**
 * In-memory cluster semantics beyond the shared contract: generation, status subresources per kind (from
 * the real CRDs), no-op writes, selector transitions in watches, Gone, request counting, seeding, the
 * namespace controller, scope checks.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Stream } from "effect"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { ObjectRef, refOf } from "../../../src/domain/ObjectRef.ts"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"
import { ClusterState, layerInMemory, layerInMemoryFrom } from "../../../src/effects/kube/inMemoryApi.ts"

const ns = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })
const vm = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name, namespace: "team-a", labels: { app: "x" } },
  spec: { runStrategy: "Always", template: { spec: { domain: { cpu: { cores: 2 } } } } },
  ...extra
})
const vmRef = (name: string) => refOf("VirtualMachine", name, "team-a")
const cm = (name: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "team-a", labels }
})
const cmRef = (name: string) => ObjectRef.make({ apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name })

/** A cluster that already has namespace team-a, and layers over it. */
const withTeamA = (options?: Parameters<typeof InMemoryCluster.make>[0]) => {
  const cluster = InMemoryCluster.make(options)
  cluster.seed([ns("team-a")])
  return layerInMemoryFrom(cluster)
}

describe("InMemoryCluster", () => {
  it.effect("bumps generation on spec changes only", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const created = yield* api.create(vmRef("vm-a"), vm("vm-a"))
      assert.strictEqual(created.metadata.generation, 1)
      const relabeled = yield* api.patch(vmRef("vm-a"), { metadata: { labels: { extra: "1" } } })
      assert.strictEqual(relabeled.metadata.generation, 1)
      const resized = yield* api.patch(vmRef("vm-a"), {
        spec: { template: { spec: { domain: { cpu: { cores: 4 } } } } }
      })
      assert.strictEqual(resized.metadata.generation, 2)
      const withStatus = yield* api.updateStatus(
        vmRef("vm-a"),
        { printableStatus: "Running" },
        {
          resourceVersion: resized.metadata.resourceVersion!
        }
      )
      assert.strictEqual(withStatus.metadata.generation, 2)
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("drops .status on create for VirtualMachine but keeps it for VirtualMachineInstance (no subresource)", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const created = yield* api.create(vmRef("vm-a"), vm("vm-a", { status: { ready: true } }))
      assert.isUndefined(created.status)
      const vmiRef = refOf("VirtualMachineInstance", "vm-a", "team-a")
      const vmi = yield* api.create(vmiRef, {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: { name: "vm-a", namespace: "team-a" },
        status: { phase: "Running" }
      })
      assert.deepStrictEqual(vmi.status, { phase: "Running" })
      const error = yield* Effect.flip(api.updateStatus(vmiRef, { phase: "Failed" }, { resourceVersion: "1" }))
      assert.strictEqual(error.reason._tag, "NotFound")
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("a patch that changes nothing keeps the resourceVersion and emits no event", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const created = yield* api.create(vmRef("vm-a"), vm("vm-a"))
      const same = yield* api.patch(vmRef("vm-a"), { metadata: { labels: { app: "x" } } })
      assert.strictEqual(same.metadata.resourceVersion, created.metadata.resourceVersion)
      const events = yield* api
        .watch(
          { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" },
          { resourceVersion: created.metadata.resourceVersion }
        )
        .pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      yield* api.patch(vmRef("vm-a"), { metadata: { labels: { app: "y" } } })
      const seen = [...(yield* Fiber.join(events))]
      assert.deepStrictEqual(
        seen.map((e) => [e.type, e.object.metadata.labels?.app]),
        [["MODIFIED", "y"]]
      )
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("a watch with a selector sees objects entering as ADDED and leaving as DELETED", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const listed = yield* api.list({ apiVersion: "v1", kind: "ConfigMap" }, { namespace: "team-a" })
      const events = yield* api
        .watch(
          { apiVersion: "v1", kind: "ConfigMap" },
          { namespace: "team-a", labelSelector: { role: "db" }, resourceVersion: listed.resourceVersion }
        )
        .pipe(Stream.take(2), Stream.runCollect, Effect.forkChild)
      yield* api.create(cmRef("c"), cm("c", { role: "web" }))
      yield* api.patch(cmRef("c"), { metadata: { labels: { role: "db" } } })
      yield* api.patch(cmRef("c"), { metadata: { labels: { role: "cache" } } })
      const seen = [...(yield* Fiber.join(events))]
      assert.deepStrictEqual(
        seen.map((e) => [e.type, e.object.metadata.labels?.role]),
        [
          ["ADDED", "db"],
          ["DELETED", "cache"]
        ]
      )
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("a watch from a compacted resourceVersion fails with Gone; from the current one it works", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const cluster = yield* ClusterState
      const old = yield* api.create(cmRef("a"), cm("a", {}))
      yield* api.create(cmRef("b"), cm("b", {}))
      cluster.compact()
      const error = yield* Effect.flip(
        Stream.runDrain(
          api.watch({ apiVersion: "v1", kind: "ConfigMap" }, { resourceVersion: old.metadata.resourceVersion })
        )
      )
      assert.strictEqual(error.reason._tag, "Gone")
      assert.isFalse(error.isRetryable)
      assert.include(error.message, "cannot watch ConfigMap in all namespaces")
      const fiber = yield* api
        .watch({ apiVersion: "v1", kind: "ConfigMap" }, { resourceVersion: cluster.resourceVersion })
        .pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      yield* api.delete(cmRef("a"))
      assert.deepStrictEqual(
        [...(yield* Fiber.join(fiber))].map((e) => e.type),
        ["DELETED"]
      )
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("a bounded history makes old resourceVersions Gone", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const first = yield* api.create(cmRef("a"), cm("a", {}))
      for (const name of ["b", "c", "d", "e"]) yield* api.create(cmRef(name), cm(name, {}))
      const error = yield* Effect.flip(
        Stream.runDrain(
          api.watch({ apiVersion: "v1", kind: "ConfigMap" }, { resourceVersion: first.metadata.resourceVersion })
        )
      )
      assert.strictEqual(error.reason._tag, "Gone")
    }).pipe(Effect.provide(withTeamA({ historyLimit: 2 })))
  )

  it.effect("counts requests per verb and kind, so tests can assert zero writes", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const cluster = yield* ClusterState
      cluster.resetRequestCounts()
      yield* api.get(vmRef("vm-a"))
      yield* api.list({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" }, { namespace: "team-a" })
      assert.strictEqual(cluster.writeCount(), 0)
      yield* api.create(vmRef("vm-a"), vm("vm-a"))
      yield* Effect.flip(api.create(vmRef("vm-a"), vm("vm-a")))
      yield* api.delete(vmRef("vm-a"))
      assert.strictEqual(cluster.requestCount({ verb: "create", kind: "VirtualMachine" }), 2)
      assert.strictEqual(cluster.requestCount({ verb: "get" }), 1)
      assert.strictEqual(cluster.writeCount("VirtualMachine"), 3)
      assert.strictEqual(cluster.writeCount("PersistentVolumeClaim"), 0)
      assert.strictEqual(cluster.requestCounts().get("list VirtualMachine"), 1)
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("seeded objects keep their status and get server fields", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const cluster = yield* ClusterState
      cluster.seed([vm("vm-a", { status: { printableStatus: "Running" } })])
      const got = Option.getOrThrow(yield* api.get(vmRef("vm-a")))
      assert.deepStrictEqual(got.status, { printableStatus: "Running" })
      assert.isString(got.metadata.uid)
      assert.isString(got.metadata.resourceVersion)
      assert.deepStrictEqual(
        cluster.objects({ kind: "VirtualMachine" }).map((o) => o.metadata.name),
        ["vm-a"]
      )
      assert.isTrue(Option.isSome(cluster.object(vmRef("vm-a"))))
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("deleting a namespace deletes its objects; those with finalizers hold it until released", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      yield* api.create(cmRef("plain"), cm("plain", {}))
      yield* api.create(
        vmRef("held"),
        vm("held", { metadata: { name: "held", namespace: "team-a", finalizers: ["x/y"] } })
      )
      const deleting = yield* api.delete(refOf("Namespace", "team-a"))
      assert.strictEqual(deleting._tag, "Finalizing")
      assert.isTrue(Option.isNone(yield* api.get(cmRef("plain"))))
      const held = Option.getOrThrow(yield* api.get(vmRef("held")))
      assert.isString(held.metadata.deletionTimestamp)
      const namespace = Option.getOrThrow(yield* api.get(refOf("Namespace", "team-a")))
      assert.deepStrictEqual(namespace.status, { phase: "Terminating" })
      yield* api.patch(vmRef("held"), { metadata: { finalizers: [] } })
      assert.isTrue(Option.isNone(yield* api.get(vmRef("held"))))
      assert.isTrue(Option.isNone(yield* api.get(refOf("Namespace", "team-a"))))
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("checks scope: cluster-scoped kinds take no namespace, namespaced kinds need one", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const mc = yield* api.create(refOf("MachineClass", "small"), {
        apiVersion: "vitistack.io/v1alpha1",
        kind: "MachineClass",
        metadata: { name: "small" }
      })
      assert.isUndefined(mc.metadata.namespace)
      const scoped = yield* Effect.flip(
        api.get(ObjectRef.make({ ...refOf("MachineClass", "small"), namespace: "team-a" }))
      )
      assert.strictEqual(scoped.reason._tag, "Invalid")
      const unscoped = yield* Effect.flip(api.get(refOf("VirtualMachine", "vm-a")))
      assert.strictEqual(unscoped.reason._tag, "Invalid")
      const unknownKind = yield* Effect.flip(
        api.get(ObjectRef.make({ apiVersion: "example.com/v1", kind: "Widget", namespace: "team-a", name: "w" }))
      )
      assert.strictEqual(unknownKind.reason._tag, "NotFound")
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("rejects bodies that name another object, and apply without a field manager", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const wrongName = yield* Effect.flip(api.create(vmRef("vm-a"), vm("vm-b")))
      assert.strictEqual(wrongName.reason._tag, "Invalid")
      const wrongKind = yield* Effect.flip(api.create(cmRef("vm-a"), vm("vm-a")))
      assert.strictEqual(wrongKind.reason._tag, "Invalid")
      const noManager = yield* Effect.flip(api.apply(vmRef("vm-a"), vm("vm-a"), { fieldManager: "" }))
      assert.strictEqual(noManager.reason._tag, "Invalid")
      const badLabel = yield* Effect.flip(
        api.list({ apiVersion: "v1", kind: "ConfigMap" }, { labelSelector: { "a b": "c" } })
      )
      assert.strictEqual(badLabel.reason._tag, "Invalid")
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("creates ignore server-owned metadata copied from another object", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const created = yield* api.create(
        vmRef("vm-a"),
        vm("vm-a", {
          metadata: {
            name: "vm-a",
            namespace: "team-a",
            uid: "copied",
            resourceVersion: "999",
            deletionTimestamp: "2020-01-01T00:00:00Z"
          }
        })
      )
      assert.notStrictEqual(created.metadata.uid, "copied")
      assert.notStrictEqual(created.metadata.resourceVersion, "999")
      assert.isUndefined(created.metadata.deletionTimestamp)
    }).pipe(Effect.provide(withTeamA()))
  )

  it.effect("layerInMemory provides a fresh cluster and its state", () =>
    Effect.gen(function* () {
      const cluster = yield* ClusterState
      assert.deepStrictEqual(cluster.objects(), [])
      const error = yield* Effect.flip((yield* KubeApi).create(vmRef("vm-a"), vm("vm-a")))
      assert.strictEqual(error.reason._tag, "NotFound")
    }).pipe(Effect.provide(Layer.fresh(layerInMemory())))
  )
})
