/**
 * Reads from the watch caches: a KubeApi decorator that answers `get` and `list` from a cluster's caches
 * (`WatchCaches.ts`) where a cache holds the kind, and asks the wrapped client otherwise; every write's result goes
 * into the cache's overlay. Effects layer. The operator gives reconciles these clients, so observe's queries
 * (`domain/reads.ts`), the Machine read, the MachineClass and cloud-init sources and the executors' own reads are
 * answered from memory with no second code path; `plan --kubeconfig` uses plain clients and reads the API.
 * A cache whose watch has been broken for too long fails the read with reason Unavailable (not retryable): observe
 * turns that into an Unknown fact, never Absent (ADR 0017).
 */
import { Clock, Effect, Option } from "effect"
import type { KubeObject } from "../../domain/KubeObject.ts"
import type { KindOf } from "../../domain/reads.ts"
import type { KubeApiService, ListResult } from "../KubeApi.ts"
import { describeCollection, describeObject, kubeApiError, Unavailable } from "../KubeApiError.ts"
import type { CacheRead } from "./WatchCache.ts"
import type { ClusterCaches } from "./WatchCaches.ts"

export type CacheReadResult = "hit" | "live" | "unknown"

export interface CachedApiOptions {
  /** Told each read's outcome (for `kubevirt_operator_cache_reads_total`). */
  readonly onRead?: ((kind: string, result: CacheReadResult) => void) | undefined
  /**
   * Kinds no cache holds whose lists are kept for `millis` after a live list answered (the storage facts: a
   * StorageClass or StorageProfile list per claim created would be two requests per new Machine in a bulk create, for
   * objects that change a few times a year). Failures are not kept.
   */
  readonly listMemo?: { readonly kinds: ReadonlyArray<KindOf>; readonly millis: number } | undefined
}

const resultOf = (r: CacheRead<unknown>): CacheReadResult =>
  r._tag === "Hit" ? "hit" : r._tag === "Live" ? "live" : "unknown"

/** `api` with reads answered from `caches` where they can be, and writes recorded in them. */
export const cachedApi = (
  api: KubeApiService,
  caches: ClusterCaches,
  options: CachedApiOptions = {}
): KubeApiService => {
  const now = Clock.currentTimeMillis
  const told = (kind: string, r: CacheRead<unknown>) => options.onRead?.(kind, resultOf(r))

  const get: KubeApiService["get"] = (ref) =>
    Effect.flatMap(now, (t) => {
      const cache = caches.forObject(ref)
      if (cache === undefined) return api.get(ref)
      const read = cache.get(ref.namespace, ref.name, t)
      told(ref.kind, read)
      switch (read._tag) {
        case "Hit":
          return Effect.succeed(Option.fromUndefinedOr(read.value))
        case "Unknown":
          return Effect.fail(kubeApiError("get", describeObject(ref), new Unavailable({ message: read.reason })))
        case "Live":
          return api
            .get(ref)
            .pipe(
              Effect.tap((found) =>
                Effect.map(now, (t2) => cache.readLiveResult(ref.namespace, ref.name, Option.getOrUndefined(found), t2))
              )
            )
      }
    })

  const memo = new Map<string, { readonly at: number; readonly result: ListResult }>()
  const memoized = options.listMemo
  const liveList: KubeApiService["list"] = (kind, listOptions = {}) => {
    if (memoized === undefined || !memoized.kinds.some((k) => k.apiVersion === kind.apiVersion && k.kind === kind.kind))
      return api.list(kind, listOptions)
    const key = JSON.stringify([
      kind.apiVersion,
      kind.kind,
      listOptions.namespace ?? "",
      listOptions.labelSelector ?? {}
    ])
    return Effect.flatMap(now, (t) => {
      const kept = memo.get(key)
      if (kept !== undefined && t - kept.at < memoized.millis) return Effect.succeed(kept.result)
      return Effect.tap(api.list(kind, listOptions), (result) => Effect.sync(() => memo.set(key, { at: t, result })))
    })
  }

  const list: KubeApiService["list"] = (kind, options = {}) =>
    Effect.flatMap(now, (t) => {
      const cache = caches.forList(kind, options.namespace, options.labelSelector ?? {})
      if (cache === undefined) return liveList(kind, options)
      const read = cache.list(options.namespace, options.labelSelector ?? {}, t)
      told(kind.kind, read)
      switch (read._tag) {
        case "Hit":
          return Effect.succeed({ items: read.value, resourceVersion: "" })
        case "Unknown":
          return Effect.fail(
            kubeApiError(
              "list",
              describeCollection(kind.kind, options.namespace),
              new Unavailable({ message: read.reason })
            )
          )
        case "Live":
          return api.list(kind, options)
      }
    })

  type Ref = Parameters<KubeApiService["get"]>[0]
  /** The cache of the object a write names, if any. */
  const cacheOf = (ref: Ref) => caches.forObject(ref)
  /** A write's result, seen at once by the object's cache and by every other selection of its kind. */
  const wrote = (ref: Ref, o: KubeObject, t: number) => {
    const own = cacheOf(ref)
    own?.wrote(o, t)
    for (const other of caches.othersHolding(ref, own)) other.wroteElsewhere(o, t)
  }
  /** A delete's result (or a NotFound), likewise. */
  const deleted = (ref: Ref, t: number) => {
    const own = cacheOf(ref)
    own?.deleted(ref.namespace, ref.name, t)
    for (const other of caches.othersHolding(ref, own)) other.deleted(ref.namespace, ref.name, t)
  }

  return {
    get,
    list,
    create: (ref, body) =>
      api.create(ref, body).pipe(
        Effect.tap((o) => Effect.map(now, (t) => wrote(ref, o, t))),
        // Someone else's object may hold the name where the label-selected cache cannot see it: read it live.
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (e.reason._tag === "AlreadyExists") cacheOf(ref)?.distrust(ref.namespace, ref.name)
          })
        )
      ),
    patch: (ref, patch, patchOptions) =>
      api.patch(ref, patch, patchOptions).pipe(
        Effect.tap((o) => Effect.map(now, (t) => wrote(ref, o, t))),
        Effect.tapError((e) =>
          Effect.map(now, (t) => {
            if (e.reason._tag === "Conflict") cacheOf(ref)?.distrust(ref.namespace, ref.name)
            if (e.reason._tag === "NotFound") deleted(ref, t)
          })
        )
      ),
    apply: (ref, body, applyOptions) =>
      api.apply(ref, body, applyOptions).pipe(
        Effect.tap((o) => Effect.map(now, (t) => wrote(ref, o, t))),
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (e.reason._tag === "Conflict") cacheOf(ref)?.distrust(ref.namespace, ref.name)
          })
        )
      ),
    delete: (ref, deleteOptions) =>
      api.delete(ref, deleteOptions).pipe(
        Effect.tap((result) =>
          Effect.map(now, (t) => (result._tag === "Deleted" ? deleted(ref, t) : wrote(ref, result.object, t)))
        ),
        Effect.tapError((e) =>
          Effect.map(now, (t) => {
            if (e.reason._tag === "Conflict") cacheOf(ref)?.distrust(ref.namespace, ref.name)
            if (e.reason._tag === "NotFound") deleted(ref, t)
          })
        )
      ),
    updateStatus: (ref, status, statusOptions) =>
      api.updateStatus(ref, status, statusOptions).pipe(
        Effect.tap((o) => Effect.map(now, (t) => wrote(ref, o, t))),
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (e.reason._tag === "Conflict") cacheOf(ref)?.distrust(ref.namespace, ref.name)
          })
        )
      ),
    watch: api.watch,
    discover: api.discover
  }
}
