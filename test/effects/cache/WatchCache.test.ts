/**
 * The watch cache's safety rules (ADR 0017): not listed yet is a live read, never "absent"; our writes are seen at once
 * and until the watch has caught up with them; a deletion of ours is not undone by the watch's late events; a name
 * someone else's object holds, or one whose write met AlreadyExists/Conflict, is read live; a watch failing for longer
 * than the bound is Unknown (one reason for a cluster's gating caches, until all have listed again); a relist delivers
 * only changes.
 */
import { assert, describe, it } from "@effect/vitest"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, ownerLabels, SOURCE_MACHINE_LABEL } from "../../../src/domain/labels.ts"
import { Kinds } from "../../../src/domain/ObjectRef.ts"
import { WatchCache, type WatchCacheOptions } from "../../../src/effects/cache/WatchCache.ts"
import { ClusterCaches } from "../../../src/effects/cache/WatchCaches.ts"

const ours = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }

const vm = (name: string, rv: number, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: {
    name,
    namespace: "team-a",
    uid: `uid-${name}`,
    resourceVersion: String(rv),
    labels: ownerLabels(name),
    ...extra
  }
})

const cache = (options: Partial<WatchCacheOptions> = {}) =>
  new WatchCache({
    kind: Kinds.VirtualMachine,
    labelSelector: ours,
    complete: true,
    staleAfterMillis: 30_000,
    ...options
  })

const hit = (r: ReturnType<WatchCache["get"]>) =>
  r._tag === "Hit" ? (r.value?.metadata.resourceVersion ?? "absent") : r._tag

describe("WatchCache", () => {
  it("holds each object as JSON: every read is a copy of its own, so no reader changes what the cache holds", () => {
    const c = cache({ indexLabel: SOURCE_MACHINE_LABEL })
    c.replace([vm("a", 5)], 0)
    const first = c.get("team-a", "a", 0) as { value: KubeObject }
    ;(first.value.metadata.labels as Record<string, string>)[SOURCE_MACHINE_LABEL] = "changed"
    const again = c.get("team-a", "a", 0) as { value: KubeObject }
    assert.notStrictEqual(again.value, first.value)
    assert.deepStrictEqual(again.value, vm("a", 5))
    // The index still finds it by the label's value as written when it was stored.
    const listed = c.list("team-a", { ...ours, [SOURCE_MACHINE_LABEL]: "a" }, 0) as { value: ReadonlyArray<KubeObject> }
    assert.deepStrictEqual(
      listed.value.map((o) => o.metadata.name),
      ["a"]
    )
    assert.typeOf([...c.stored()][0]?.text, "string")
  })

  it("before its first list a read is asked live, never answered absent", () => {
    const c = cache()
    assert.strictEqual(c.get("team-a", "a", 0)._tag, "Live")
    assert.strictEqual(c.list("team-a", ours, 0)._tag, "Live")
    c.replace([vm("a", 5)], 0)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "5")
    assert.strictEqual(hit(c.get("team-a", "b", 0)), "absent")
  })

  it("what we wrote is read at once, and stays until the watch delivers it or something newer", () => {
    const c = cache()
    c.replace([], 0)
    c.wrote(vm("a", 10), 0)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "10", "a reconcile right after the create sees the VM")
    assert.deepStrictEqual(
      (c.list("team-a", ours, 0) as { value: ReadonlyArray<KubeObject> }).value.map((o) => o.metadata.name),
      ["a"]
    )
    c.apply("MODIFIED", vm("a", 9))
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "10", "an older event does not hide our write")
    c.apply("MODIFIED", vm("a", 12))
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "12")
  })

  it("a write whose object the watch has already seen go is not brought back by the write's late answer", () => {
    // A delete of an object with a finalizer answers the object as deleting; the finalizer can be released, and the
    // watch deliver both events, before that answer is read. The answer must not stand for the object afterwards.
    const c = cache()
    c.replace([vm("a", 5)], 0)
    c.apply("MODIFIED", vm("a", 6, { deletionTimestamp: "2026-12-03T08:00:00Z" }))
    c.apply("DELETED", vm("a", 7, { deletionTimestamp: "2026-12-03T08:00:00Z" }))
    c.wrote(vm("a", 6, { deletionTimestamp: "2026-12-03T08:00:00Z" }), 0)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "absent")
    assert.deepStrictEqual((c.list("team-a", ours, 0) as { value: ReadonlyArray<KubeObject> }).value, [])
    // A write the watch has not reached yet is still seen at once.
    c.wrote(vm("b", 8), 0)
    assert.strictEqual(hit(c.get("team-a", "b", 0)), "8")
  })

  it("a relist that started after our write makes the overlay redundant", () => {
    const c = cache()
    c.replace([], 0)
    c.wrote(vm("a", 10), 0)
    c.beginList()
    c.replace([vm("a", 11)], 0)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "11")
  })

  it("our deletion is seen at once; the watch's late events of that object do not bring it back; a new one does", () => {
    const c = cache()
    c.replace([vm("a", 5)], 0)
    c.deleted("team-a", "a", 0)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "absent")
    c.apply("MODIFIED", vm("a", 6))
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "absent", "a status update from before the delete")
    c.apply("ADDED", vm("a", 20, { uid: "uid-new" }))
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "20", "another object of that name")
  })

  it("a name held by someone else's object is read live, before anything is created, and no longer once it is gone", () => {
    const c = cache({ foreignNames: true })
    const theirs = vm("a", 3, { labels: { app: "theirs" } })
    const changes = c.replace([theirs, vm("b", 4)], 0)
    assert.deepStrictEqual(
      changes.map((x) => [x.type, x.object.metadata.name]),
      [
        ["ADDED", "a"],
        ["ADDED", "b"]
      ]
    )
    assert.strictEqual(c.get("team-a", "a", 0)._tag, "Live")
    assert.strictEqual(c.isForeign("team-a", "a"), true)
    assert.deepStrictEqual(
      (c.list("team-a", ours, 0) as { value: ReadonlyArray<KubeObject> }).value.map((o) => o.metadata.name),
      ["b"],
      "lists by our labels do not see it"
    )
    c.apply("DELETED", theirs)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "absent")
  })

  it("a create that met AlreadyExists, or a write that met Conflict, makes the key a live read until a live read settles it", () => {
    const c = cache()
    c.replace([], 0)
    c.distrust("team-a", "a")
    assert.strictEqual(c.get("team-a", "a", 0)._tag, "Live")
    c.readLiveResult("team-a", "a", vm("a", 7, { labels: { app: "theirs" } }), 0)
    assert.strictEqual(c.get("team-a", "a", 0)._tag, "Live", "someone else's: still read live (a name clash)")
    c.readLiveResult("team-a", "a", undefined, 0)
    assert.strictEqual(hit(c.get("team-a", "a", 0)), "absent")
    c.distrust("team-a", "b")
    c.readLiveResult("team-a", "b", vm("b", 8), 0)
    assert.strictEqual(hit(c.get("team-a", "b", 0)), "8", "ours: the live answer is kept until the watch catches up")
  })

  it("a watch failing for longer than the bound is Unknown (never absent), and answers again after a list", () => {
    const c = cache({ staleAfterMillis: 30_000 })
    c.replace([vm("a", 5)], 0)
    c.failed("connect ECONNREFUSED", 1_000)
    assert.strictEqual(hit(c.get("team-a", "a", 20_000)), "5", "within the bound: still served")
    const late = c.get("team-a", "b", 31_001)
    assert.strictEqual(late._tag, "Unknown")
    assert.include((late as { reason: string }).reason, "ECONNREFUSED")
    c.failed("Unauthorized", 40_000)
    assert.include((c.get("team-a", "b", 41_000) as { reason: string }).reason, "ECONNREFUSED", "one reason per outage")
    c.replace([vm("a", 6)], 50_000)
    assert.strictEqual(hit(c.get("team-a", "a", 50_000)), "6")
  })

  it("a relist delivers what changed and what vanished, not what stayed the same", () => {
    const c = cache()
    c.replace([vm("a", 1), vm("b", 2)], 0)
    const changes = c.replace([vm("a", 1), vm("c", 3)], 0)
    assert.deepStrictEqual(
      changes.map((x) => [x.type, x.object.metadata.name]),
      [
        ["ADDED", "c"],
        ["DELETED", "b"]
      ]
    )
  })

  it("lists by namespace and by the index label, with the overlay", () => {
    const c = cache({ indexLabel: SOURCE_MACHINE_LABEL })
    c.replace([vm("a", 1), vm("b", 2), { ...vm("c", 3), metadata: { ...vm("c", 3).metadata, namespace: "team-b" } }], 0)
    c.wrote(vm("d", 4), 0)
    const names = (selector: Record<string, string>, ns?: string) =>
      (c.list(ns, selector, 0) as { value: ReadonlyArray<KubeObject> }).value.map((o) => o.metadata.name).sort()
    assert.deepStrictEqual(names(ownerLabels("b"), "team-a"), ["b"])
    assert.deepStrictEqual(names(ownerLabels("d"), "team-a"), ["d"])
    assert.deepStrictEqual(names(ours, "team-a"), ["a", "b", "d"])
    assert.deepStrictEqual(names(ours), ["a", "b", "c", "d"])
  })

  it("a partial cache (only what Machines name is kept) answers a miss live", () => {
    const c = cache({ complete: false, keep: (o) => o.metadata.name === "kept", labelSelector: {} })
    c.replace([vm("kept", 1), vm("other", 2)], 0)
    assert.strictEqual(hit(c.get("team-a", "kept", 0)), "1")
    assert.strictEqual(c.get("team-a", "other", 0)._tag, "Live")
    assert.strictEqual(c.list("team-a", {}, 0)._tag, "Live")
  })
})

describe("ClusterCaches: the caches every Machine reads share one fate", () => {
  it("one failing for longer than the bound makes them all Unknown with its reason, until every one has listed again", () => {
    const cluster = new ClusterCaches("remote-a", 30_000)
    const vms = cluster.register({
      kind: Kinds.VirtualMachine,
      labelSelector: ours,
      complete: true,
      gatesReconciles: true
    })
    const pvcs = cluster.register({
      kind: Kinds.PersistentVolumeClaim,
      labelSelector: ours,
      complete: true,
      gatesReconciles: true
    })
    assert.isTrue(cluster.isFilling(0))
    assert.strictEqual(vms.get("team-a", "a", 0)._tag, "Unknown", "not listed yet: the Machines wait, nothing is read")
    vms.replace([vm("a", 1)], 0)
    pvcs.replace([], 0)
    assert.isFalse(cluster.isFilling(0))
    assert.isTrue(cluster.hasSynced())
    vms.failed("cannot watch VirtualMachines: Forbidden", 1_000)
    assert.strictEqual(pvcs.get("team-a", "a", 10_000)._tag, "Hit")
    const unknown = pvcs.get("team-a", "a", 40_000)
    assert.strictEqual(unknown._tag, "Unknown")
    assert.include((unknown as { reason: string }).reason, "Forbidden")
    pvcs.failed("other", 41_000)
    vms.replace([vm("a", 2)], 42_000)
    assert.strictEqual(vms.get("team-a", "a", 42_000)._tag, "Unknown", "the claims have not listed again yet")
    assert.isFalse(cluster.takeRecovered())
    pvcs.replace([], 43_000)
    assert.strictEqual(vms.get("team-a", "a", 43_000)._tag, "Hit")
    assert.isTrue(cluster.takeRecovered(), "the outage lasted long enough to be seen: its Machines look again")
    assert.isFalse(cluster.takeRecovered())
  })

  it("finds the cache of a namespace before a cluster-wide one, and a list only where the selector allows", () => {
    const cluster = new ClusterCaches("supervisor", 30_000)
    const wide = cluster.register({ kind: Kinds.Secret, labelSelector: {}, complete: false })
    const inA = cluster.register({ kind: Kinds.Secret, namespace: "team-a", labelSelector: {}, complete: false })
    assert.strictEqual(cluster.forObject({ ...Kinds.Secret, namespace: "team-a" }), inA)
    assert.strictEqual(cluster.forObject({ ...Kinds.Secret, namespace: "team-b" }), wide)
    const labelled = new ClusterCaches("remote-a", 30_000)
    labelled.register({ kind: Kinds.VirtualMachine, labelSelector: ours, complete: true })
    assert.isUndefined(labelled.forList(Kinds.VirtualMachine, "team-a", {}), "a list of every VM is not ours to answer")
    assert.isDefined(labelled.forList(Kinds.VirtualMachine, "team-a", ownerLabels("a")))
  })

  it("two selections of a kind (ours, the Go operator's): both kept; a read by name goes to the one that knows every name", () => {
    const cluster = new ClusterCaches("remote-a", 30_000)
    const mine = cluster.register({
      kind: Kinds.VirtualMachine,
      labelSelector: ours,
      complete: true,
      foreignNames: true
    })
    const go = { "vitistack.io/managed-by": "kubevirt-operator" }
    const theirs = cluster.register({ kind: Kinds.VirtualMachine, labelSelector: go, complete: true })
    assert.strictEqual(cluster.forObject({ ...Kinds.VirtualMachine, namespace: "team-a" }), mine)
    assert.strictEqual(cluster.forList(Kinds.VirtualMachine, "team-a", ownerLabels("a")), mine)
    assert.strictEqual(
      cluster.forList(Kinds.VirtualMachine, "team-a", { ...go, "vitistack.io/source-machine": "a" }),
      theirs
    )
    assert.deepStrictEqual(cluster.othersHolding({ ...Kinds.VirtualMachine, namespace: "team-a" }, mine), [theirs])
    // Registering one selection again replaces only that one.
    const again = cluster.register({ kind: Kinds.VirtualMachine, labelSelector: go, complete: true })
    assert.deepStrictEqual(cluster.all(), [mine, again])
  })

  it("a write recorded in another selection: kept while it selects the object, absent once it left the selection", () => {
    const go = { "vitistack.io/managed-by": "kubevirt-operator" }
    const theirs = cache({ labelSelector: go })
    const goVm = vm("a", 1, { labels: { ...go, "vitistack.io/source-machine": "a" } })
    theirs.replace([goVm], 0)
    // Adopted: our labels added, theirs kept.
    const adopted = vm("a", 2, { labels: { ...goVm.metadata.labels, ...ours } })
    theirs.wroteElsewhere(adopted, 1)
    assert.strictEqual(hit(theirs.get("team-a", "a", 1)), "2")
    theirs.wroteElsewhere(vm("a", 3), 2)
    assert.strictEqual(hit(theirs.get("team-a", "a", 2)), "absent")
    // Never a key read live: a list of the namespace is still answered from memory.
    assert.strictEqual(theirs.list("team-a", go, 2)._tag, "Hit")
    // A write of an object it never held and does not select changes nothing.
    theirs.wroteElsewhere(vm("b", 4), 3)
    assert.strictEqual(hit(theirs.get("team-a", "b", 3)), "absent")
    assert.strictEqual(theirs.list("team-a", go, 3)._tag, "Hit")
  })
})
