/**
 * The cache of one watched collection (a kind, optionally one namespace, a label selector): the objects its informer
 * listed and watched, slimmed to what the operator reads, plus an overlay of the operator's own write results until
 * the watch delivers them. Effects layer. `cachedApi.ts` answers reads from it; `runtime/informer.ts` fills it.
 * Safety rules (ADR 0017):
 * - a cache whose first list has not arrived is never taken for "absent": a kind every Machine reads is Unknown (the
 *   cluster's Machines wait for the list), another kind is asked live (`Live`);
 * - a cache whose watch has been broken for longer than `staleAfter` answers Unknown, never Absent;
 * - what the operator wrote is seen at once (the overlay), so a reconcile right after a create never creates again;
 * - keys to read live: a name the label-selected cache cannot see (a foreign object, found through AlreadyExists or
 *   a live read) and a key whose write met a Conflict (the cache is behind); a live read of such a key settles it.
 * Synchronous and single-threaded (JavaScript): each method is atomic.
 */
import type { KubeObject } from "../../domain/KubeObject.ts"
import type { KindOf } from "../../domain/reads.ts"
import { StoredObject } from "./StoredObject.ts"

export type LabelSelector = Readonly<Record<string, string>>

export interface WatchCacheOptions {
  readonly kind: KindOf
  /** Only this namespace (an informer per namespace); omitted: every namespace, or a cluster-scoped kind. */
  readonly namespace?: string | undefined
  /** What the informer selects; objects outside it are never in the cache. */
  readonly labelSelector: LabelSelector
  /**
   * Every object of the selection is kept (a miss means absent). False: only some are (`keep`), so a miss is asked
   * live: the supervisor's Secrets and ConfigMaps, of which only those Machines name are kept.
   */
  readonly complete: boolean
  /** Which objects are kept (partial caches). Default: all. */
  readonly keep?: ((o: KubeObject) => boolean) | undefined
  /** The fields kept of each object (ADR 0017: the informer's transform). Default: as listed. */
  readonly slim?: ((o: KubeObject) => KubeObject) | undefined
  /**
   * The informer watches every object of the kind (in the namespace), not only the selected ones: of the others only
   * the names are kept, so a read of a name someone else's object holds is asked live (and shows the name clash)
   * before anything is created, as without a cache. For the kinds read by name where a foreign object is a clash.
   */
  readonly foreignNames?: boolean | undefined
  /** A label whose value indexes the objects (with the namespace), so a list by it does not scan the namespace. */
  readonly indexLabel?: string | undefined
  /** How long a broken watch's objects are still served; after it, Unknown. */
  readonly staleAfterMillis: number
  /**
   * A cluster's caches of the kinds every Machine reads share one fate: while one of them has been failing for too
   * long, they all answer Unknown with the first failure's reason, until every one of them has listed again. So a
   * Machine's status names one cause for the whole outage and changes once when it ends (`WatchCaches.ts`).
   */
  readonly fate?: SharedFate | undefined
}

/** See `WatchCacheOptions.fate`. */
export interface SharedFate {
  readonly failed: (reason: string, now: number) => void
  readonly relisted: (now: number) => void
  readonly unknownReason: (now: number) => string | undefined
}

/** The answer of the cache to a read. */
export type CacheRead<A> =
  | { readonly _tag: "Hit"; readonly value: A }
  /** Not answerable from the cache (not synced yet, a partial cache's miss, a key to read live): ask the API. */
  | { readonly _tag: "Live" }
  /** The watch has been broken for too long: the fact is Unknown. */
  | { readonly _tag: "Unknown"; readonly reason: string }

/** A change a relist found: what the informer delivers instead of every listed object. */
export interface CacheChange {
  readonly type: "ADDED" | "DELETED"
  readonly object: KubeObject
  /** The object as cached before, if it was. */
  readonly previous: KubeObject | undefined
}

type Overlay =
  | { readonly _tag: "Written"; readonly object: KubeObject; readonly seq: number; readonly at: number }
  | { readonly _tag: "Deleted"; readonly uid: string | undefined; readonly seq: number; readonly at: number }

/** An overlay entry the watch never confirmed is dropped after this long (a guard; the watch confirms in seconds). */
const OVERLAY_TTL_MILLIS = 10 * 60_000

const keyOf = (namespace: string | undefined, name: string) => (namespace === undefined ? name : `${namespace}/${name}`)
const objectKey = (o: KubeObject) => keyOf(o.metadata.namespace, o.metadata.name)

export const matchesSelector = (selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined) => {
  for (const k in selector) if (labels?.[k] !== selector[k]) return false
  return true
}

/**
 * resourceVersions compared as the etcd revisions they are on every real apiserver (and in the in-memory one);
 * `undefined` when either is not a number (then only equality is known).
 */
export const compareResourceVersions = (a: string | undefined, b: string | undefined): number | undefined => {
  if (a === undefined || b === undefined) return undefined
  if (a === b) return 0
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : 1
}

/** The newer of a watched object and a written one: the write until the watch has caught up with it. */
const newerOrSame = (watched: string | undefined, written: KubeObject) => {
  const c = compareResourceVersions(watched, written.metadata.resourceVersion)
  return c !== undefined && c >= 0
}
const watchCaughtUp = (watched: KubeObject, written: KubeObject) =>
  newerOrSame(watched.metadata.resourceVersion, written)

/**
 * `resourceVersion` aside, the same JSON: a watch event that shows a read nothing new (the echo of our own write, a
 * change of a field the cache does not keep). Objects of one cache are slimmed alike, so their keys come in one order;
 * another order only costs a wake-up.
 */
export const sameForReads = (a: KubeObject, b: KubeObject): boolean => {
  if (a === b) return true
  const { resourceVersion: _ra, ...ma } = a.metadata
  const { resourceVersion: _rb, ...mb } = b.metadata
  return JSON.stringify({ ...a, metadata: ma }) === JSON.stringify({ ...b, metadata: mb })
}

export class WatchCache {
  readonly kind: KindOf
  readonly namespace: string | undefined
  readonly labelSelector: LabelSelector
  readonly complete: boolean
  private readonly options: WatchCacheOptions
  /** The watched objects, each as one JSON string (`StoredObject.ts`); the overlay holds objects. */
  private readonly objects = new Map<string, StoredObject>()
  /** Keys by namespace (and index label value), for lists. */
  private readonly index = new Map<string, Set<string>>()
  private readonly overlay = new Map<string, Overlay>()
  /** Keys read live until a live read settles them. */
  private readonly readLive = new Set<string>()
  /** Names held by objects outside the selector (with `foreignNames`). */
  private readonly foreign = new Set<string>()
  private writeSeq = 0
  /**
   * The newest resourceVersion the watch has delivered (any object): every event of the selection up to it has been
   * applied, since a watch delivers in resourceVersion order.
   */
  private watchedUpTo: string | undefined
  private listStartedAt = 0
  private synced = false
  private brokenSince: number | undefined
  private brokenReason = ""

  constructor(options: WatchCacheOptions) {
    this.options = options
    this.kind = options.kind
    this.namespace = options.namespace
    this.labelSelector = options.labelSelector
    this.complete = options.complete
  }

  // ------------------------------------------------------------------ state

  /** The first list has arrived (and it was not later broken for too long). */
  hasSynced(): boolean {
    return this.synced
  }

  /**
   * Still filling: the first list has not arrived, and the informer has not been failing for longer than the bound.
   * Reconciles of Machines on the cluster wait meanwhile (ADR 0017).
   */
  isFilling(now: number): boolean {
    return !this.synced && (this.brokenSince === undefined || now - this.brokenSince <= this.options.staleAfterMillis)
  }

  /** Why the cache cannot answer now, or undefined when it can (or when a live read should). */
  private unknownReason(now: number): string | undefined {
    if (this.options.fate !== undefined) return this.options.fate.unknownReason(now)
    return this.ownUnknownReason(now)
  }

  /** This cache's own outage, as the reason its reads are Unknown (undefined: none, or not for long enough). */
  ownUnknownReason(now: number): string | undefined {
    if (this.brokenSince === undefined || now - this.brokenSince <= this.options.staleAfterMillis) return undefined
    // No time in the message: a status that quotes it stays the same while the outage lasts (no write per look).
    return `the watch of ${this.kind.kind}s${this.namespace === undefined ? "" : ` in ${this.namespace}`} is failing: ${this.brokenReason}`
  }

  /** Failing now (since the last failure, no list has succeeded). */
  isBroken(): boolean {
    return this.brokenSince !== undefined
  }

  /** The informer's list or watch failed (a 410 Gone relist is not a failure). */
  failed(reason: string, now: number): void {
    this.options.fate?.failed(reason, now)
    if (this.brokenSince !== undefined) return
    // The first failure's reason stands for the outage, so what a status quotes does not change while it lasts.
    this.brokenSince = now
    this.brokenReason = reason
  }

  /** The informer is about to list: every write recorded so far is in what it will list. */
  beginList(): void {
    this.listStartedAt = this.writeSeq
  }

  /**
   * The informer listed: the cache becomes exactly the list. Returns the changes to deliver (added or changed objects
   * as ADDED, vanished ones as DELETED): a relist does not wake what did not change, and reports what was deleted
   * while the watch was down.
   */
  replace(items: ReadonlyArray<KubeObject>, now: number): ReadonlyArray<CacheChange> {
    const changes: Array<CacheChange> = []
    const seen = new Set<string>()
    const foreign = new Set<string>()
    for (const raw of items) {
      if (this.options.keep !== undefined && !this.options.keep(raw)) continue
      if (!this.selects(raw)) {
        const key = objectKey(raw)
        foreign.add(key)
        if (!this.foreign.has(key)) changes.push({ type: "ADDED", object: raw, previous: undefined })
        continue
      }
      const o = this.slim(raw)
      const key = objectKey(o)
      seen.add(key)
      const before = this.objects.get(key)
      if (before === undefined || before.resourceVersion !== o.metadata.resourceVersion)
        changes.push({ type: "ADDED", object: o, previous: before?.object() })
      this.put(key, o)
    }
    for (const [key, stored] of this.objects)
      if (!seen.has(key)) {
        this.drop(key)
        const o = stored.object()
        changes.push({ type: "DELETED", object: o, previous: o })
      }
    for (const key of this.foreign)
      if (!foreign.has(key)) {
        const slash = key.indexOf("/")
        changes.push({
          type: "DELETED",
          object: {
            apiVersion: this.kind.apiVersion,
            kind: this.kind.kind,
            metadata: slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) }
          },
          previous: undefined
        })
      }
    this.foreign.clear()
    for (const key of foreign) this.foreign.add(key)
    // Writes made before the list was sent are in it.
    for (const [key, entry] of this.overlay) if (entry.seq <= this.listStartedAt) this.overlay.delete(key)
    this.synced = true
    this.brokenSince = undefined
    this.options.fate?.relisted(now)
    return changes
  }

  /** A watch event. Returns the object as cached (slim), or undefined when the cache does not keep it. */
  apply(type: "ADDED" | "MODIFIED" | "DELETED", raw: KubeObject): KubeObject | undefined {
    const key = objectKey(raw)
    const rv = raw.metadata.resourceVersion
    if ((compareResourceVersions(rv, this.watchedUpTo) ?? 1) > 0) this.watchedUpTo = rv
    if (type === "DELETED") {
      this.foreign.delete(key)
      const entry = this.overlay.get(key)
      if (entry?._tag === "Deleted" || (entry?._tag === "Written" && watchCaughtUp(raw, entry.object)))
        this.overlay.delete(key)
      this.drop(key)
      return this.slim(raw)
    }
    if (this.options.keep !== undefined && !this.options.keep(raw)) {
      this.drop(key)
      return undefined
    }
    if (!this.selects(raw)) {
      // Someone else's object (or ours no longer): only its name is kept.
      this.drop(key)
      this.foreign.add(key)
      return undefined
    }
    this.foreign.delete(key)
    const o = this.slim(raw)
    const entry = this.overlay.get(key)
    if (entry?._tag === "Written" && watchCaughtUp(o, entry.object)) this.overlay.delete(key)
    // A new object of that name (another uid) ends our deletion's tombstone; the deleted one's late events do not.
    if (entry?._tag === "Deleted" && entry.uid !== undefined && o.metadata.uid !== entry.uid) this.overlay.delete(key)
    this.put(key, o)
    return o
  }

  /**
   * The result of our own write of the key while the watch has not caught up with it: what a read answered before a
   * watch event, rather than the watched object (`peek`). Expiry aside: only for `sameForReads`.
   */
  written(namespace: string | undefined, name: string): KubeObject | undefined {
    const entry = this.overlay.get(keyOf(namespace, name))
    return entry?._tag === "Written" ? entry.object : undefined
  }

  /** The cached object of a key (as watched, without the overlay): what a watch event replaces. */
  peek(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(namespace, name))?.object()
  }

  /** Objects currently held (watched ones, not the overlay). */
  size(): number {
    return this.objects.size
  }

  /** The objects held (watched ones), each a fresh copy. */
  *values(): IterableIterator<KubeObject> {
    for (const stored of this.objects.values()) yield stored.object()
  }

  /** The objects as held (watched ones): for measuring what the cache costs. */
  stored(): IterableIterator<StoredObject> {
    return this.objects.values()
  }

  // ------------------------------------------------------------------ the operator's own requests

  /** An object a write of ours returned: seen by reads at once, until the watch delivers it (or a newer one). */
  wrote(raw: KubeObject, now: number): void {
    const key = objectKey(raw)
    if (!matchesSelector(this.labelSelector, raw.metadata.labels)) {
      // Outside what the cache sees: read it live from now on.
      this.readLive.add(key)
      this.overlay.delete(key)
      return
    }
    const o = this.slim(raw)
    const watched = this.objects.get(key)
    if (watched !== undefined && newerOrSame(watched.resourceVersion, o)) return
    // The watch is past this write and holds no such object: the object went after it (deleted, its finalizers
    // released before this answer was read). Kept, it would stand for the deleted object until the overlay expired.
    if (watched === undefined && (this.options.keep?.(raw) ?? true) && newerOrSame(this.watchedUpTo, o)) return
    this.overlay.set(key, { _tag: "Written", object: o, seq: ++this.writeSeq, at: now })
  }

  /**
   * A write of ours to an object whose own cache is another selection of the kind (`ClusterCaches.othersHolding`):
   * kept in the overlay if this selection holds it, absent for reads if it left the selection; never a key to read
   * live (the object's own cache decides about that).
   */
  wroteElsewhere(raw: KubeObject, now: number): void {
    if (matchesSelector(this.labelSelector, raw.metadata.labels)) this.wrote(raw, now)
    else this.deleted(raw.metadata.namespace, raw.metadata.name, now)
  }

  /** A delete of ours answered Deleted (or NotFound): the object is absent for reads until the watch says so. */
  deleted(namespace: string | undefined, name: string, now: number): void {
    const key = keyOf(namespace, name)
    if (!this.objects.has(key) && !this.overlay.has(key)) return
    const uid = this.objects.get(key)?.uid
    this.overlay.set(key, { _tag: "Deleted", uid, seq: ++this.writeSeq, at: now })
  }

  /** A write met AlreadyExists or Conflict: the cache does not know this key as it is; read it live. */
  distrust(namespace: string | undefined, name: string): void {
    this.readLive.add(keyOf(namespace, name))
  }

  /** A live read's answer: it settles a key read live, and is fresher than what the cache holds. */
  readLiveResult(namespace: string | undefined, name: string, o: KubeObject | undefined, now: number): void {
    const key = keyOf(namespace, name)
    if (o === undefined) {
      this.readLive.delete(key)
      if (this.objects.has(key) || this.overlay.get(key)?._tag === "Written") this.deleted(namespace, name, now)
      return
    }
    if (!matchesSelector(this.labelSelector, o.metadata.labels)) {
      // A foreign object the label-selected cache cannot see: keep reading it live, so a name clash shows as today.
      this.readLive.add(key)
      return
    }
    this.readLive.delete(key)
    if (this.complete || this.options.keep === undefined || this.options.keep(o)) {
      if (this.complete) this.wrote(o, now)
      else this.put(key, this.slim(o))
    }
  }

  // ------------------------------------------------------------------ reads

  /** One object by name. */
  get(namespace: string | undefined, name: string, now: number): CacheRead<KubeObject | undefined> {
    const key = keyOf(namespace, name)
    if (this.readLive.has(key) || this.foreign.has(key)) return { _tag: "Live" }
    const unknown = this.unknownReason(now)
    if (unknown !== undefined) return { _tag: "Unknown", reason: unknown }
    if (!this.synced) return this.notListedYet()
    const entry = this.current(key, now)
    if (entry !== undefined) return { _tag: "Hit", value: entry === "deleted" ? undefined : entry }
    const o = this.objects.get(key)?.object()
    if (o === undefined && !this.complete) return { _tag: "Live" }
    return { _tag: "Hit", value: o }
  }

  /** The objects in `namespace` (all, when undefined) matching `selector` (which includes the cache's own). */
  list(namespace: string | undefined, selector: LabelSelector, now: number): CacheRead<ReadonlyArray<KubeObject>> {
    const unknown = this.unknownReason(now)
    if (unknown !== undefined) return { _tag: "Unknown", reason: unknown }
    if (!this.synced) return this.notListedYet()
    if (!this.complete) return { _tag: "Live" }
    const inScope = (key: string) => namespace === undefined || key.startsWith(`${namespace}/`)
    for (const key of this.readLive) if (inScope(key)) return { _tag: "Live" }
    const indexLabel = this.options.indexLabel
    const bucket =
      indexLabel !== undefined && selector[indexLabel] !== undefined && namespace !== undefined
        ? this.index.get(`${namespace}\u0000${selector[indexLabel]}`)
        : namespace !== undefined
          ? this.index.get(namespace)
          : undefined
    const keys = new Set<string>(namespace === undefined ? this.objects.keys() : (bucket ?? []))
    for (const key of this.overlay.keys()) if (inScope(key)) keys.add(key)
    const items: Array<KubeObject> = []
    for (const key of keys) {
      const entry = this.current(key, now)
      const o = entry === undefined ? this.objects.get(key)?.object() : entry === "deleted" ? undefined : entry
      if (o !== undefined && matchesSelector(selector, o.metadata.labels)) items.push(o)
    }
    return { _tag: "Hit", value: items }
  }

  // ------------------------------------------------------------------ internals

  /**
   * A read before the first list: a kind every Machine reads is Unknown (its cluster's Machines wait for the list
   * without a write, and nothing is asked of the API meanwhile); another kind is asked live.
   */
  private notListedYet(): CacheRead<never> {
    return this.options.fate === undefined
      ? { _tag: "Live" }
      : { _tag: "Unknown", reason: `its ${this.kind.kind}s have not been listed yet` }
  }

  /** Whether the object is of the selection (always, unless the informer watches the whole kind). */
  private selects(o: KubeObject): boolean {
    return this.options.foreignNames !== true || matchesSelector(this.labelSelector, o.metadata.labels)
  }

  /** The informer lists and watches the whole kind (to know the names others' objects hold), not the selection. */
  watchesEverything(): boolean {
    return this.options.foreignNames === true || Object.keys(this.labelSelector).length === 0
  }

  /** Whether an object is someone else's name holder the cache only knows by name. */
  isForeign(namespace: string | undefined, name: string): boolean {
    return this.foreign.has(keyOf(namespace, name))
  }

  private slim(o: KubeObject): KubeObject {
    return this.options.slim === undefined ? o : this.options.slim(o)
  }

  /** The overlay's view of a key: the written object, "deleted", or undefined (no overlay, or an expired one). */
  private current(key: string, now: number): KubeObject | "deleted" | undefined {
    const entry = this.overlay.get(key)
    if (entry === undefined) return undefined
    if (now - entry.at > OVERLAY_TTL_MILLIS) {
      this.overlay.delete(key)
      return undefined
    }
    return entry._tag === "Deleted" ? "deleted" : entry.object
  }

  private indexKeys(key: string, stored: StoredObject): ReadonlyArray<string> {
    const slash = key.indexOf("/")
    if (slash < 0) return []
    const ns = key.slice(0, slash)
    return stored.indexValue === undefined ? [ns] : [ns, `${ns}\u0000${stored.indexValue}`]
  }

  private put(key: string, o: KubeObject): void {
    const before = this.objects.get(key)
    if (before !== undefined) this.unindex(key, before)
    const stored = new StoredObject(o, this.options.indexLabel)
    this.objects.set(key, stored)
    for (const k of this.indexKeys(key, stored)) {
      let set = this.index.get(k)
      if (set === undefined) {
        set = new Set()
        this.index.set(k, set)
      }
      set.add(key)
    }
  }

  private drop(key: string): void {
    const before = this.objects.get(key)
    if (before === undefined) return
    this.unindex(key, before)
    this.objects.delete(key)
  }

  private unindex(key: string, stored: StoredObject): void {
    for (const k of this.indexKeys(key, stored)) {
      const set = this.index.get(k)
      set?.delete(key)
      if (set?.size === 0) this.index.delete(k)
    }
  }
}
