/**
 * The operator's cache of NetworkNamespaces and NetworkConfigurations (ADR 0013): it answers only once synced (or
 * when the kind is not served), gets and lists as the API would, answers fleet queries with each MAC's first holder
 * (claims included), drops what a relist no longer returns, frees a deleted one's MACs, and a claim of a MAC another
 * holds fails.
 */
import { assert, describe, it } from "@effect/vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { Kinds, refOf } from "../../src/domain/ObjectRef.ts"
import type { Query } from "../../src/domain/reads.ts"
import { NetworkCacheStore } from "../../src/effects/NetworkCache.ts"

const nc = (namespace: string, name: string, ...macs: Array<string>): KubeObject => ({
  ...Kinds.NetworkConfiguration,
  metadata: { name, namespace },
  spec: { networkInterfaces: macs.map((macAddress, i) => ({ name: `eth${i}`, macAddress })) }
})
const fleet = (...macs: Array<string>): Query => ({
  _tag: "List",
  kind: Kinds.NetworkConfiguration,
  allNamespaces: true,
  labelSelector: {},
  recordingMacs: macs
})
const holders = (store: NetworkCacheStore, ...macs: Array<string>) => {
  const a = store.answer(fleet(...macs))
  return a?._tag === "Found" ? a.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`) : a
}

describe("NetworkCacheStore", () => {
  it("answers nothing until synced; a kind that is not served holds nothing", () => {
    const store = new NetworkCacheStore()
    const get: Query = { _tag: "Get", ref: refOf("NetworkNamespace", "net", "a") }
    assert.isUndefined(store.answer(get))
    store.notServed("NetworkNamespace")
    assert.deepStrictEqual(store.answer(get), { _tag: "Found", objects: [] })
  })

  it("get and list by namespace, as the API would", () => {
    const store = new NetworkCacheStore()
    const nn = (ns: string, name: string): KubeObject => ({
      ...Kinds.NetworkNamespace,
      metadata: { name, namespace: ns }
    })
    store.upsert(nn("a", "one"))
    store.upsert(nn("b", "two"))
    store.synced("NetworkNamespace")
    assert.deepStrictEqual(store.answer({ _tag: "Get", ref: refOf("NetworkNamespace", "one", "a") }), {
      _tag: "Found",
      objects: [nn("a", "one")]
    })
    const listA = store.answer({ _tag: "List", kind: Kinds.NetworkNamespace, namespace: "a", labelSelector: {} })
    assert.deepStrictEqual(listA, { _tag: "Found", objects: [nn("a", "one")] })
  })

  it("a MAC belongs to its first holder; a claim of a held MAC fails; deletion frees it", () => {
    const store = new NetworkCacheStore()
    store.synced("NetworkConfiguration")
    store.upsert(nc("a", "first", "02:12:00:00:00:01"))
    store.upsert(nc("b", "second", "02:12:00:00:00:01", "02:12:00:00:00:02"))
    assert.deepStrictEqual(holders(store, "02:12:00:00:00:01", "02:12:00:00:00:02", "02:12:00:00:00:03"), [
      "a/first",
      "b/second"
    ])
    assert.deepStrictEqual(store.claim("c/third", ["02:12:00:00:00:02"]), {
      mac: "02:12:00:00:00:02",
      owner: "b/second"
    })
    assert.isUndefined(store.claim("c/third", ["02:12:00:00:00:03"]))
    assert.deepStrictEqual(holders(store, "02:12:00:00:00:03"), ["c/third"])
    assert.isUndefined(store.claim("b/second", ["02:12:00:00:00:02"]), "a holder may claim its own MAC again")
    store.remove(nc("a", "first"))
    assert.deepStrictEqual(holders(store, "02:12:00:00:00:01"), ["b/second"])
  })

  it("a claim lasts until the NetworkConfiguration records it, an unrelated update does not drop it", () => {
    const store = new NetworkCacheStore()
    store.synced("NetworkConfiguration")
    store.upsert(nc("a", "vm", "02:12:00:00:00:01"))
    assert.isUndefined(store.claim("a/vm", ["02:12:00:00:00:09"]))
    store.upsert(nc("a", "vm", "02:12:00:00:00:01"))
    assert.deepStrictEqual(holders(store, "02:12:00:00:00:09"), ["a/vm"])
    assert.isDefined(store.claim("z/other", ["02:12:00:00:00:09"]))
  })

  it("a relist drops what it no longer returns (deleted while no watch ran)", () => {
    const store = new NetworkCacheStore()
    store.upsert(nc("a", "gone", "02:12:00:00:00:01"))
    store.upsert(nc("a", "kept", "02:12:00:00:00:02"))
    store.synced("NetworkConfiguration")
    store.upsert(nc("a", "kept", "02:12:00:00:00:02"))
    store.synced("NetworkConfiguration")
    assert.deepStrictEqual(holders(store, "02:12:00:00:00:01", "02:12:00:00:00:02"), ["a/kept"])
  })
})
