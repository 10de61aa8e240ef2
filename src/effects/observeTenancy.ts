/**
 * Observes the tenancy of the cluster a Machine is placed on (domain/tenancy.ts, ADR 0011): the KubevirtConfig's
 * annotations and, when its selector needs them, the labels of the Machine's namespace on the supervisor. Effects
 * layer. The operator has both in watch caches and provides them as `SupervisorCache`, so a steady-state reconcile
 * reads nothing more; without a cache (the live `plan`, tests) they are read from the supervisor. A failed read is an
 * Unknown fact, never "not restricted".
 */
import { Context, Effect, Option, Schema } from "effect"
import { absent, type Fact, present, unknown } from "../domain/Fact.ts"
import { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import type { Machine } from "../domain/Machine.ts"
import { refOf } from "../domain/ObjectRef.ts"
import { needsNamespaceLabels, type Tenancy, tenancyAnnotations } from "../domain/tenancy.ts"
import { Supervisor } from "./Clusters.ts"
import { apiRetry, retryApi } from "./retry.ts"

export interface SupervisorCacheService {
  /** A KubevirtConfig from a synced watch cache (None: it does not exist); undefined: not cached, read it. */
  readonly kubevirtConfig: (name: string) => Option.Option<KubevirtConfig> | undefined
  /** A supervisor Namespace's labels from a synced watch cache (None: no such namespace); undefined: read it. */
  readonly namespaceLabels: (name: string) => Option.Option<Readonly<Record<string, string>>> | undefined
}

/** What the caller's watch caches know about the supervisor; by default nothing (every read goes to the API). */
export const SupervisorCache = Context.Reference<SupervisorCacheService>("kubevirt-operator/effects/SupervisorCache", {
  defaultValue: () => ({ kubevirtConfig: () => undefined, namespaceLabels: () => undefined })
})

const decodeConfig = Schema.decodeUnknownOption(KubevirtConfig)

export const observeTenancy = Effect.fn("observe.tenancy")(function* (machine: Machine, cluster: string) {
  const cache = yield* SupervisorCache
  const supervisor = yield* Supervisor
  const cachedConfig = cache.kubevirtConfig(cluster)
  const config: Option.Option<KubevirtConfig> | string =
    cachedConfig ??
    (yield* retryApi(apiRetry)(supervisor.get(refOf("KubevirtConfig", cluster))).pipe(
      Effect.map((o) => Option.flatMap(o, decodeConfig)),
      Effect.catch((e) => Effect.succeed(e.message))
    ))
  if (typeof config === "string") return unknown(config) as Fact<Tenancy>
  if (Option.isNone(config)) return absent as Fact<Tenancy>
  const policy = tenancyAnnotations(cluster, config.value.metadata.annotations)
  const namespace = machine.metadata.namespace
  if (!needsNamespaceLabels(policy, namespace)) return present(policy) as Fact<Tenancy>
  const cachedLabels = cache.namespaceLabels(namespace)
  const labels: Fact<Readonly<Record<string, string>>> =
    cachedLabels !== undefined
      ? Option.match(cachedLabels, { onNone: () => absent, onSome: (l) => present(l) })
      : yield* retryApi(apiRetry)(supervisor.get(refOf("Namespace", namespace))).pipe(
          Effect.map((o) =>
            Option.match(o, {
              onNone: (): Fact<Readonly<Record<string, string>>> => absent,
              onSome: (ns) => present({ ...(ns.metadata.labels ?? {}) })
            })
          ),
          Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<Readonly<Record<string, string>>>))
        )
  return present({ ...policy, namespaceLabels: labels }) as Fact<Tenancy>
})
