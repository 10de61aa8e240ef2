/**
 * One health probe of a remote cluster: API discovery of kubevirt.io and cdi.kubevirt.io (no RBAC needed), then, when
 * kubevirt.io/v1 serves KubeVirt resources, a list of them in every namespace (`kubevirts` list, the remote
 * ClusterRole). Effects layer. Never fails: a read that fails is a `Failed` answer with a message that stays the same
 * while the cause does, so an unchanged outage writes no new status. `evaluateHealth` (domain) decides what it means.
 */
import { Effect, Option } from "effect"
import { type ServedVersion, versionsServing } from "../domain/ApiDiscovery.ts"
import {
  type Answer,
  answered,
  type ClusterProbe,
  failed,
  type KubevirtResource,
  kubevirtResourceOf,
  VM_VERSION
} from "../domain/ClusterHealth.ts"
import { Kinds } from "../domain/ObjectRef.ts"
import type { KubeApiService } from "./KubeApi.ts"
import type { KubeApiError } from "./KubeApiError.ts"
import { apiRetry, retryApi } from "./retry.ts"

/**
 * The error's message, without what changes from one attempt to the next: a paused cluster (circuit breaker) says
 * when it sends the next request, which would make every probe a new status.
 */
export const stableMessage = (e: KubeApiError): string =>
  e.reason._tag === "Unavailable"
    ? `cannot ${e.verb} ${e.target}: the cluster is not answering (requests paused after repeated timeouts)`
    : e.message

const answer = <A>(read: Effect.Effect<A, KubeApiError>): Effect.Effect<Answer<A>> =>
  read.pipe(
    retryApi(apiRetry),
    Effect.map(answered),
    Effect.catch((e) => Effect.succeed(failed(stableMessage(e))))
  )

const group = (api: KubeApiService, name: string): Effect.Effect<Answer<ReadonlyArray<ServedVersion>>> =>
  answer(Effect.map(api.discover(name), (served) => Option.getOrElse(served, () => [])))

/** Probes `api`'s cluster: five or six GETs (discovery of two groups and their versions, one list). */
export const probeCluster = Effect.fn("probeCluster")(function* (api: KubeApiService) {
  const [kubevirtGroup, cdiGroup] = yield* Effect.all([group(api, "kubevirt.io"), group(api, "cdi.kubevirt.io")], {
    concurrency: 2
  })
  const servesKubevirts =
    kubevirtGroup._tag === "Answered" && versionsServing(kubevirtGroup.value, "kubevirts").includes(VM_VERSION)
  const kubevirts: Answer<ReadonlyArray<KubevirtResource>> | undefined = servesKubevirts
    ? yield* answer(Effect.map(api.list(Kinds.KubeVirt), (l) => l.items.map(kubevirtResourceOf)))
    : undefined
  return { kubevirtGroup, cdiGroup, kubevirts } satisfies ClusterProbe
})
