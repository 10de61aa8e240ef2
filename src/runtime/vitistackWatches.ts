/**
 * The supervisor watches of vitistack networking (ADR 0013): NetworkNamespaces and NetworkConfigurations, every
 * namespace, into the operator's cache (`effects/NetworkCache.ts`), which answers the Machines' vitistack reads and
 * holds the fleet's MAC index. A NetworkNamespace event wakes the Machines of its namespace (a VLAN provisioned, an
 * allocation type changed); a NetworkConfiguration event wakes the Machine it is named after (an address allocated).
 * A supervisor that does not serve a kind (no vitistack network CRDs) has none of it: the cache says so and the kind is
 * asked again every 10 minutes; one that may not list it leaves the cache empty for it, so reads go to the API and
 * fail there (the Machines wait and say why). Runtime layer.
 */
import { Duration, Effect } from "effect"
import { Kinds } from "../domain/ObjectRef.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import type { NetworkCacheStore } from "../effects/NetworkCache.ts"
import { apiRetry, retryApi } from "../effects/retry.ts"
import { runInformer } from "./informer.ts"

export interface VitistackWake {
  /** Enqueues a Machine key. */
  readonly add: (key: string) => Effect.Effect<void>
  /** The keys of the Machines in a namespace (the operator's Machine cache). */
  readonly machinesIn: (namespace: string) => ReadonlyArray<string>
}

const REPROBE = Duration.minutes(10)

const watchKind = (
  supervisor: KubeApiService,
  cache: NetworkCacheStore,
  kind: typeof Kinds.NetworkNamespace | typeof Kinds.NetworkConfiguration,
  toKeys: (namespace: string, name: string) => ReadonlyArray<string>,
  wake: VitistackWake
): Effect.Effect<void> => {
  const informer = runInformer(
    supervisor,
    kind,
    {},
    {
      onEvent: (type, o) =>
        Effect.suspend(() => {
          if (type === "DELETED") cache.remove(o)
          else cache.upsert(o)
          return Effect.forEach(toKeys(o.metadata.namespace ?? "", o.metadata.name), wake.add, { discard: true })
        }),
      onSynced: () => Effect.sync(() => cache.synced(kind.kind))
    },
    `${kind.kind}s`
  )
  const probe = (said: boolean): Effect.Effect<void> =>
    retryApi(apiRetry)(supervisor.list(kind, {})).pipe(
      Effect.matchEffect({
        onFailure: (e) =>
          e.reason._tag === "NotFound" || e.reason._tag === "Forbidden"
            ? Effect.sync(() => {
                if (e.reason._tag === "NotFound") cache.notServed(kind.kind)
              }).pipe(
                Effect.andThen(
                  said
                    ? Effect.void
                    : Effect.logInfo(
                        `not watching ${kind.kind}s on the supervisor (${e.message}); ${e.reason._tag === "NotFound" ? "Machines get no vitistack network" : "Machines read them directly"}`
                      )
                ),
                Effect.andThen(Effect.sleep(REPROBE)),
                Effect.andThen(Effect.suspend(() => probe(true)))
              )
            : informer,
        onSuccess: () => informer
      })
    )
  return probe(false)
}

/** Runs both watches until interrupted. */
export const runVitistackWatches = (
  supervisor: KubeApiService,
  cache: NetworkCacheStore,
  wake: VitistackWake
): Effect.Effect<void> =>
  Effect.all(
    [
      watchKind(supervisor, cache, Kinds.NetworkNamespace, (namespace) => wake.machinesIn(namespace), wake),
      watchKind(supervisor, cache, Kinds.NetworkConfiguration, (namespace, name) => [`${namespace}/${name}`], wake)
    ],
    { concurrency: "unbounded", discard: true }
  )
