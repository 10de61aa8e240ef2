/**
 * The in-memory KubeApi: each call counts one request, consults the cluster's fault injector, then runs
 * the matching synchronous `InMemoryCluster` operation at the Clock's current time. Effects layer
 * (cluster service). `layerInMemory` also provides the cluster itself (`ClusterState`), so tests can seed it and
 * assert on the resulting state and request counts.
 */
import { Cause, Clock, Context, Effect, Layer, Queue, Result, Stream } from "effect"
import { KubeApi, type KubeApiService, type WatchEvent } from "../KubeApi.ts"
import {
  describeCollection,
  describeGroup,
  describeObject,
  type KubeApiError,
  type KubeApiErrorReason,
  type KubeVerb,
  kubeApiError
} from "../KubeApiError.ts"
import { injectFault } from "./FaultInjection.ts"
import { InMemoryCluster, type InMemoryClusterOptions } from "./InMemoryCluster.ts"
import { DISCOVERY_KIND } from "./KindTable.ts"

/** The in-memory KubeApi over `cluster`. */
export const makeInMemoryApi = (cluster: InMemoryCluster): KubeApiService => {
  const run = <A>(
    verb: KubeVerb,
    kind: string,
    target: string,
    op: (now: number) => Result.Result<A, KubeApiErrorReason>
  ): Effect.Effect<A, KubeApiError> => {
    const request = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.suspend(() =>
        Result.match(op(now), {
          onSuccess: (a) => Effect.succeed(a),
          onFailure: (reason) => Effect.fail(kubeApiError(verb, target, reason))
        })
      )
    )
    const injected = cluster.faults === undefined ? request : injectFault(cluster.faults, verb, kind, target, request)
    return Effect.andThen(
      Effect.sync(() => cluster.recordRequest(verb, kind)),
      injected
    ).pipe(Effect.withSpan(`KubeApi.${verb}`, { attributes: { "kube.target": target } }))
  }

  const watch: KubeApiService["watch"] = (kind, options = {}) => {
    const target = describeCollection(kind.kind, options.namespace)
    const stream = Stream.callback<WatchEvent, KubeApiError>((queue) =>
      Effect.gen(function* () {
        const registered = cluster.watch(kind, options, (event) => {
          Queue.offerUnsafe(queue, event)
        })
        if (Result.isFailure(registered)) {
          Queue.failCauseUnsafe(queue, Cause.fail(kubeApiError("watch", target, registered.failure)))
          return
        }
        Queue.offerAllUnsafe(queue, registered.success.initial)
        yield* Effect.addFinalizer(() => Effect.sync(registered.success.unsubscribe))
      })
    )
    return Stream.unwrap(
      Effect.map(
        run("watch", kind.kind, target, () => Result.succeed(undefined)),
        () => stream
      )
    )
  }

  return {
    get: (ref) => run("get", ref.kind, describeObject(ref), () => cluster.get(ref)),
    list: (kind, options) =>
      run("list", kind.kind, describeCollection(kind.kind, options?.namespace), () => cluster.list(kind, options)),
    create: (ref, body) => run("create", ref.kind, describeObject(ref), (now) => cluster.create(ref, body, now)),
    patch: (ref, patch, options) =>
      run("patch", ref.kind, describeObject(ref), (now) => cluster.patch(ref, patch, options ?? {}, now)),
    apply: (ref, body, options) =>
      run("apply", ref.kind, describeObject(ref), (now) => cluster.apply(ref, body, options, now)),
    delete: (ref, options) =>
      run("delete", ref.kind, describeObject(ref), (now) => cluster.delete(ref, options ?? {}, now)),
    watch,
    updateStatus: (ref, status, options) =>
      run("updateStatus", ref.kind, describeObject(ref), (now) => cluster.updateStatus(ref, status, options, now)),
    discover: (group) => run("discover", DISCOVERY_KIND, describeGroup(group), () => cluster.discover(group))
  }
}

/** The in-memory cluster behind an in-memory layer, for seeding and for assertions on state. */
export class ClusterState extends Context.Service<ClusterState, InMemoryCluster>()(
  "kubevirt-operator/effects/kube/ClusterState"
) {}

/** An in-memory layer over an existing cluster (for tests that build the cluster themselves). */
export const layerInMemoryFrom = (cluster: InMemoryCluster): Layer.Layer<KubeApi | ClusterState> =>
  Layer.mergeAll(Layer.succeed(KubeApi, makeInMemoryApi(cluster)), Layer.succeed(ClusterState, cluster))

/** A fresh in-memory cluster, as the KubeApi and as `ClusterState`. */
export const layerInMemory = (options?: InMemoryClusterOptions): Layer.Layer<KubeApi | ClusterState> =>
  layerInMemoryFrom(InMemoryCluster.make(options))
