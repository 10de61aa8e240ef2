/**
 * The operator's watch cache of the supervisor's NetworkNamespaces and NetworkConfigurations (ADR 0013), with the
 * fleet's MAC index. Effects layer. The operator fills it from two informers (`runtime/vitistackWatches.ts`) and
 * provides it to reconciles: `observe` answers the vitistack reads from it (no request per reconcile), and the
 * NetworkConfiguration executors claim their MACs in it before writing. Without it (the `plan` command, tests), both
 * read the API instead and nothing is claimed.
 *
 * Why MACs stay unique: a MAC belongs to the NetworkConfiguration that recorded (or claimed) it first, in the order
 * the watch delivered them. Planning picks a derivation nobody holds; the executor claims it (JavaScript runs one
 * claim at a time, so two claims cannot both succeed) before it writes, and a MAC claimed by another Machine in
 * between fails the write, so the next plan picks the next derivation. A claim lasts until the NetworkConfiguration
 * records the MAC, or is deleted.
 */
import { Context } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { asArray, asRecord, asString } from "../domain/manifests/jsonPath.ts"
import { Kinds, refKey } from "../domain/ObjectRef.ts"
import { type Answer, listSelects, type Query } from "../domain/reads.ts"

/** A cached kind is pending (not listed yet), synced, or not served by the supervisor (no CRD). */
type KindState = "pending" | "synced" | "notServed"

interface CachedKind {
  state: KindState
  /** By `namespace/name`. */
  readonly objects: Map<string, KubeObject>
  /** Keys seen since the last completed list, to drop objects a relist no longer returns. */
  readonly seen: Set<string>
}

const keyOf = (o: { readonly metadata: { readonly namespace?: string | undefined; readonly name: string } }) =>
  refKey({ namespace: o.metadata.namespace, name: o.metadata.name })

const emptyKind = (): CachedKind => ({ state: "pending", objects: new Map(), seen: new Set() })

/** The MACs an object records, lower case. */
const macsOf = (o: KubeObject): ReadonlySet<string> =>
  new Set(
    asArray(asRecord(o.spec).networkInterfaces)
      .map((i) => asString(asRecord(i).macAddress)?.toLowerCase())
      .filter((m): m is string => m !== undefined && m !== "")
  )

/** A MAC held by another NetworkConfiguration. */
export interface MacConflict {
  readonly mac: string
  readonly owner: string
}

export class NetworkCacheStore {
  private readonly namespaces = emptyKind()
  private readonly configurations = emptyKind()
  /** MAC → the NetworkConfiguration keys holding it, first holder first. */
  private readonly holders = new Map<string, Array<string>>()
  /** NetworkConfiguration key → the MACs it holds (recorded or claimed). */
  private readonly held = new Map<string, Set<string>>()
  /** NetworkConfiguration key → MACs claimed and not yet seen recorded. */
  private readonly claims = new Map<string, Set<string>>()

  private kind(kind: string): CachedKind | undefined {
    return kind === Kinds.NetworkNamespace.kind
      ? this.namespaces
      : kind === Kinds.NetworkConfiguration.kind
        ? this.configurations
        : undefined
  }

  /** Sets what `key` holds, keeping the order of first holders for MACs it already held. */
  private hold(key: string, macs: ReadonlySet<string>): void {
    const before = this.held.get(key) ?? new Set<string>()
    for (const mac of before)
      if (!macs.has(mac)) {
        const rest = (this.holders.get(mac) ?? []).filter((k) => k !== key)
        if (rest.length === 0) this.holders.delete(mac)
        else this.holders.set(mac, rest)
      }
    for (const mac of macs)
      if (!before.has(mac)) {
        const list = this.holders.get(mac) ?? []
        this.holders.set(mac, [...list, key])
      }
    if (macs.size === 0) this.held.delete(key)
    else this.held.set(key, new Set(macs))
  }

  /** An object was listed, added or modified. */
  upsert(o: KubeObject): void {
    const k = this.kind(o.kind)
    if (k === undefined) return
    const key = keyOf(o)
    k.objects.set(key, o)
    k.seen.add(key)
    if (k !== this.configurations) return
    const recorded = macsOf(o)
    const pending = [...(this.claims.get(key) ?? [])].filter((m) => !recorded.has(m))
    if (pending.length === 0) this.claims.delete(key)
    else this.claims.set(key, new Set(pending))
    this.hold(key, new Set([...recorded, ...pending]))
  }

  /** An object was deleted: a NetworkConfiguration's MACs are free again. */
  remove(o: KubeObject): void {
    const k = this.kind(o.kind)
    if (k === undefined) return
    const key = keyOf(o)
    k.objects.delete(key)
    k.seen.delete(key)
    if (k !== this.configurations) return
    this.claims.delete(key)
    this.hold(key, new Set())
  }

  /** A list completed: objects it did not return (deleted while no watch ran) are dropped. */
  synced(kind: string): void {
    const k = this.kind(kind)
    if (k === undefined) return
    for (const [key, o] of [...k.objects]) if (!k.seen.has(key)) this.remove(o)
    k.seen.clear()
    k.state = "synced"
  }

  /** The supervisor does not serve the kind (its CRD is not installed): it holds no objects. */
  notServed(kind: string): void {
    const k = this.kind(kind)
    if (k === undefined) return
    for (const o of [...k.objects.values()]) this.remove(o)
    k.state = "notServed"
  }

  /** The NetworkConfiguration that holds `mac`: the first to record or claim it. */
  ownerOf(mac: string): string | undefined {
    return this.holders.get(mac)?.[0]
  }

  /**
   * Claims `macs` for NetworkConfiguration `key` (`namespace/name`); when another one holds one of them nothing is
   * claimed and the first conflict is returned.
   */
  claim(key: string, macs: ReadonlyArray<string>): MacConflict | undefined {
    const wanted = macs.map((m) => m.toLowerCase())
    for (const mac of wanted) {
      const owner = this.ownerOf(mac)
      if (owner !== undefined && owner !== key) return { mac, owner }
    }
    const claimed = new Set([...(this.claims.get(key) ?? []), ...wanted.filter((m) => !this.held.get(key)?.has(m))])
    if (claimed.size > 0) this.claims.set(key, claimed)
    this.hold(key, new Set([...(this.held.get(key) ?? []), ...wanted]))
    return undefined
  }

  /**
   * The answer to a supervisor query about a cached kind when the cache can give it (synced, or not served);
   * undefined otherwise (the caller reads the API). A fleet query (`recordingMacs`) is answered from the index: per
   * MAC, its holder, as a NetworkConfiguration recording it (claims included).
   */
  answer(q: Query): Answer | undefined {
    const k = this.kind(q._tag === "Get" ? q.ref.kind : q.kind.kind)
    if (k === undefined || k.state === "pending") return undefined
    if (k.state === "notServed") return { _tag: "Found", objects: [] }
    if (q._tag === "Get") {
      const o = k.objects.get(refKey(q.ref))
      return { _tag: "Found", objects: o === undefined ? [] : [o] }
    }
    if (q.recordingMacs === undefined)
      return { _tag: "Found", objects: [...k.objects.values()].filter((o) => listSelects(q, o)) }
    const objects = q.recordingMacs.flatMap((mac): Array<KubeObject> => {
      const owner = this.ownerOf(mac.toLowerCase())
      if (owner === undefined) return []
      const slash = owner.indexOf("/")
      return [
        {
          ...Kinds.NetworkConfiguration,
          metadata: { namespace: owner.slice(0, slash), name: owner.slice(slash + 1) },
          spec: { networkInterfaces: [{ macAddress: mac }] }
        }
      ]
    })
    return { _tag: "Found", objects: objects.filter((o) => listSelects(q, o)) }
  }
}

/** The operator's cache; undefined (the default): none, reads go to the API and executors claim nothing. */
export const NetworkCache = Context.Reference<NetworkCacheStore | undefined>("kubevirt-operator/effects/NetworkCache", {
  defaultValue: () => undefined
})
