/**
 * Counts every call of a cluster service by cluster, verb and result (`OK` or the error reason), for the
 * `kubevirt_operator_api_requests_total` metric and for tests that assert "zero writes". Effects layer.
 * Watches count once when they end. Nothing about objects or credentials is recorded.
 */
import { Effect, Stream } from "effect"
import type { KubeApiError, KubeApiService, KubeVerb } from "./KubeApi.ts"

export type ApiCallObserver = (cluster: string, verb: KubeVerb, code: string) => void

export const instrumentApi = (api: KubeApiService, cluster: string, observe: ApiCallObserver): KubeApiService => {
  const count =
    (verb: KubeVerb) =>
    <A, R>(effect: Effect.Effect<A, KubeApiError, R>): Effect.Effect<A, KubeApiError, R> =>
      effect.pipe(
        Effect.tap(() => Effect.sync(() => observe(cluster, verb, "OK"))),
        Effect.tapError((e) => Effect.sync(() => observe(cluster, verb, e.reason._tag)))
      )
  return {
    get: (ref) => count("get")(api.get(ref)),
    list: (kind, options) => count("list")(api.list(kind, options)),
    create: (ref, body) => count("create")(api.create(ref, body)),
    patch: (ref, patch, options) => count("patch")(api.patch(ref, patch, options)),
    apply: (ref, body, options) => count("apply")(api.apply(ref, body, options)),
    delete: (ref, options) => count("delete")(api.delete(ref, options)),
    watch: (kind, options) =>
      api
        .watch(kind, options)
        .pipe(
          Stream.onExit((exit) =>
            Effect.sync(() => observe(cluster, "watch", exit._tag === "Success" ? "OK" : "Error"))
          )
        ),
    updateStatus: (ref, status, options) => count("updateStatus")(api.updateStatus(ref, status, options))
  }
}
