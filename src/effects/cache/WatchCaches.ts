/**
 * The operator's watch caches, by cluster (`supervisor` or a KubevirtConfig name) and kind: which cache answers a
 * read (`cachedApi.ts`), and whether a cluster's caches are still filling (its Machines wait, ADR 0017). Effects layer.
 * The operator registers a cache when it starts the informer that fills it and drops a cluster's caches when its
 * KubevirtConfig goes.
 */
import type { KindOf } from "../../domain/reads.ts"
import {
  type LabelSelector,
  matchesSelector,
  type SharedFate,
  WatchCache,
  type WatchCacheOptions
} from "./WatchCache.ts"

const kindKey = (k: KindOf) => `${k.apiVersion}|${k.kind}`

/** Whether a query's selector asks for a subset of what the cache holds (it contains the cache's selector). */
const within = (cache: LabelSelector, query: LabelSelector) => matchesSelector(cache, query)

export interface RegisterOptions extends Omit<WatchCacheOptions, "staleAfterMillis" | "fate"> {
  /** The cluster's reconciles wait until this cache has listed once (the kinds every Machine reads). */
  readonly gatesReconciles?: boolean | undefined
}

/** One cluster's caches. */
export class ClusterCaches {
  readonly cluster: string
  private readonly staleAfterMillis: number
  private readonly caches = new Map<string, Array<{ readonly cache: WatchCache; readonly gates: boolean }>>()
  /** The outage of the caches that gate reconciles: from their first failure until every one has listed again. */
  private outage: { readonly since: number; readonly reason: string } | undefined
  /** The outage lasted long enough for reads to answer Unknown (see `takeRecovered`). */
  private recovered = false

  constructor(cluster: string, staleAfterMillis: number) {
    this.cluster = cluster
    this.staleAfterMillis = staleAfterMillis
  }

  private readonly fate: SharedFate = {
    failed: (reason, now) => {
      if (this.outage === undefined) this.outage = { since: now, reason }
    },
    relisted: (now) => {
      if (this.outage === undefined) return
      for (const list of this.caches.values())
        for (const c of list) if (c.gates && (c.cache.isBroken() || !c.cache.hasSynced())) return
      if (now - this.outage.since > this.staleAfterMillis) this.recovered = true
      this.outage = undefined
    },
    unknownReason: (now) =>
      this.outage === undefined || now - this.outage.since <= this.staleAfterMillis
        ? undefined
        : `cannot watch remote cluster '${this.cluster}': ${this.outage.reason}`
  }

  /** The caches' reads are Unknown now (an outage longer than the bound), with the reason. */
  unknownReason(now: number): string | undefined {
    return this.fate.unknownReason(now)
  }

  /** Whether an outage during which reads answered Unknown has ended, since the last call. */
  takeRecovered(): boolean {
    const r = this.recovered
    this.recovered = false
    return r
  }

  /**
   * A new cache for the kind (and namespace and selection), replacing one registered before for the same. A kind may
   * have several selections (ours, and with adoption on the Go operator's, ADR 0014).
   */
  register(options: RegisterOptions): WatchCache {
    const cache = new WatchCache({
      ...options,
      staleAfterMillis: this.staleAfterMillis,
      ...(options.gatesReconciles === true ? { fate: this.fate } : {})
    })
    const key = kindKey(options.kind)
    const selection = JSON.stringify(options.labelSelector)
    const others = (this.caches.get(key) ?? []).filter(
      (c) => c.cache.namespace !== options.namespace || JSON.stringify(c.cache.labelSelector) !== selection
    )
    this.caches.set(key, [...others, { cache, gates: options.gatesReconciles === true }])
    return cache
  }

  /** Forgets a cache (its informer stopped). */
  unregister(cache: WatchCache): void {
    const key = kindKey(cache.kind)
    const left = (this.caches.get(key) ?? []).filter((c) => c.cache !== cache)
    if (left.length === 0) this.caches.delete(key)
    else this.caches.set(key, left)
  }

  /**
   * The cache that answers a read of the object `ref` names, if any: one of its namespace first, else a cluster-wide
   * one; of several selections of the kind, the one that watches every object of it (it knows every name).
   */
  forObject(ref: KindOf & { readonly namespace?: string | undefined }): WatchCache | undefined {
    const candidates = this.caches.get(kindKey(ref))
    if (candidates === undefined) return undefined
    const inScope = (ns: string | undefined) => {
      const scoped = candidates.filter((c) => c.cache.namespace === ns)
      return (scoped.find((c) => c.cache.watchesEverything()) ?? scoped[0])?.cache
    }
    return (ref.namespace === undefined ? undefined : inScope(ref.namespace)) ?? inScope(undefined)
  }

  /**
   * The other caches that may hold the object `ref` names besides `primary` (another selection of the kind): a write
   * of ours is recorded in them too, so each selection sees it at once.
   */
  othersHolding(ref: KindOf & { readonly namespace?: string | undefined }, primary: WatchCache | undefined) {
    const candidates = this.caches.get(kindKey(ref)) ?? []
    return candidates
      .filter((c) => c.cache !== primary && (c.cache.namespace === undefined || c.cache.namespace === ref.namespace))
      .map((c) => c.cache)
  }

  /** The cache that can answer a list of `kind` in `namespace` with `selector`, if any. */
  forList(kind: KindOf, namespace: string | undefined, selector: LabelSelector): WatchCache | undefined {
    const candidates = this.caches.get(kindKey(kind)) ?? []
    return (
      candidates.find(
        (c) =>
          c.cache.namespace !== undefined && c.cache.namespace === namespace && within(c.cache.labelSelector, selector)
      )?.cache ??
      candidates.find((c) => c.cache.namespace === undefined && within(c.cache.labelSelector, selector))?.cache
    )
  }

  /** Some cache its Machines need has not listed yet (and has not been failing for longer than the bound). */
  isFilling(now: number): boolean {
    for (const list of this.caches.values()) for (const c of list) if (c.gates && c.cache.isFilling(now)) return true
    return false
  }

  /** Every cache that gates reconciles has listed once. */
  hasSynced(): boolean {
    for (const list of this.caches.values()) for (const c of list) if (c.gates && !c.cache.hasSynced()) return false
    return true
  }

  /** Every cache of the cluster. */
  all(): ReadonlyArray<WatchCache> {
    return [...this.caches.values()].flatMap((list) => list.map((c) => c.cache))
  }

  /** Objects held by kind (and namespace), for the heap-by-kind figures and metrics. */
  sizes(): ReadonlyArray<{ readonly kind: string; readonly namespace: string | undefined; readonly objects: number }> {
    return [...this.caches.values()].flatMap((list) =>
      list.map((c) => ({ kind: c.cache.kind.kind, namespace: c.cache.namespace, objects: c.cache.size() }))
    )
  }
}

/** Every cluster's caches. */
export class WatchCaches {
  readonly staleAfterMillis: number
  private readonly clusters = new Map<string, ClusterCaches>()

  constructor(options: { readonly staleAfterMillis: number }) {
    this.staleAfterMillis = options.staleAfterMillis
  }

  cluster(name: string): ClusterCaches {
    let c = this.clusters.get(name)
    if (c === undefined) {
      c = new ClusterCaches(name, this.staleAfterMillis)
      this.clusters.set(name, c)
    }
    return c
  }

  /** The cluster's caches, if it has any (a lookup that does not create them). */
  find(name: string): ClusterCaches | undefined {
    return this.clusters.get(name)
  }

  /** A KubevirtConfig went: its caches go with it. */
  forget(name: string): void {
    this.clusters.delete(name)
  }

  names(): ReadonlyArray<string> {
    return [...this.clusters.keys()]
  }
}
