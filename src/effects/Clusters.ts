/**
 * The clusters the operator talks to: the supervisor (one KubeApi) and the remotes (one KubeApi per
 * KubevirtConfig, resolved on demand). Effects layer.
 * The live `Remotes` layer reads the KubevirtConfig and its Secret from the supervisor, builds one client per
 * cluster, and rebuilds it when the kubeconfig bytes change (hash), so credential rotation needs no restart.
 */
import { createHash } from "node:crypto"
import { Context, Effect, Layer, Option, Ref, Schema } from "effect"
import { KUBECONFIG_SECRET_KEY, KubevirtConfig } from "../domain/KubevirtConfig.ts"
import { refOf } from "../domain/ObjectRef.ts"
import type { KubeApiService } from "./KubeApi.ts"
import { withCircuitBreaker } from "./kube/circuitBreaker.ts"
import { type LiveOptions, makeLiveApi } from "./kube/liveApi.ts"
import { readOnly } from "./kube/readOnly.ts"
import { apiRetry, retryApi } from "./retry.ts"

/** The supervisor cluster, where Machines live. */
export class Supervisor extends Context.Service<Supervisor, KubeApiService>()("kubevirt-operator/effects/Supervisor") {
  static readonly layer = (api: KubeApiService): Layer.Layer<Supervisor> => Layer.succeed(Supervisor, api)
}

/** A remote cluster could not be resolved to a client: the message says which object and field is at fault. */
export class RemoteUnavailable extends Schema.TaggedError<RemoteUnavailable>()("RemoteUnavailable", {
  cluster: Schema.String,
  message: Schema.String
}) {
  /** Retryable: the KubevirtConfig, its Secret or the cluster may come right (a watch also wakes the Machine). */
  get isRetryable(): boolean {
    return true
  }
}

export interface RemotesService {
  /** The client of the remote cluster named by KubevirtConfig `cluster`. */
  readonly get: (cluster: string) => Effect.Effect<KubeApiService, RemoteUnavailable>
  /**
   * Forget what is known about `cluster` (its KubevirtConfig or Secret changed): the next `get` reads them again.
   * The operator calls it from its watches; without watches (`cache: "verify"`) every `get` re-reads anyway.
   */
  readonly invalidate: (cluster: string) => Effect.Effect<void>
}

export class Remotes extends Context.Service<Remotes, RemotesService>()("kubevirt-operator/effects/Remotes") {
  /** Fixed clients by KubevirtConfig name (tests, the embedded default). */
  static readonly layerFromMap = (clients: Readonly<Record<string, KubeApiService>>): Layer.Layer<Remotes> =>
    Layer.succeed(Remotes, {
      get: (cluster) =>
        clients[cluster] === undefined
          ? Effect.fail(new RemoteUnavailable({ cluster, message: `no client for KubevirtConfig '${cluster}'` }))
          : Effect.succeed(clients[cluster]!),
      invalidate: () => Effect.void
    })

  /**
   * Live clients from KubevirtConfigs and their kubeconfig Secrets on the supervisor, cached per config and
   * rebuilt when the Secret's bytes change. `readOnly: true` wraps every client so writes fail (dry-run `plan`).
   */
  static readonly layerFromKubevirtConfigs = (
    options: LiveOptions & {
      readonly readOnly?: boolean
      /**
       * "verify" (default): every `get` re-reads the KubevirtConfig and Secret and reuses the client only if the
       * kubeconfig bytes are unchanged. "untilInvalidated": reuse the client until `invalidate` (the operator, whose
       * watches see every change, uses this to keep steady-state reconciles free of those reads).
       */
      readonly cache?: "verify" | "untilInvalidated"
      /** Wraps each client built (metrics instrumentation). */
      readonly wrap?: (cluster: string, api: KubeApiService) => KubeApiService
    } = {}
  ): Layer.Layer<Remotes, never, Supervisor> =>
    Layer.effect(
      Remotes,
      Effect.gen(function* () {
        const supervisor = yield* Supervisor
        const cache = yield* Ref.make(
          new Map<string, { readonly hash: string; readonly api?: KubeApiService; readonly refused?: string }>()
        )
        const get = Effect.fn("Remotes.get")(function* (cluster: string) {
          const unavailable = (message: string) => new RemoteUnavailable({ cluster, message })
          const known = (yield* Ref.get(cache)).get(cluster)
          if (options.cache === "untilInvalidated" && known?.api !== undefined) return known.api
          const read = <A>(e: Effect.Effect<A, { readonly message: string }>) =>
            e.pipe(Effect.mapError((err) => unavailable(err.message)))
          const configObj = yield* read(retryApi(apiRetry)(supervisor.get(refOf("KubevirtConfig", cluster))))
          if (Option.isNone(configObj)) return yield* unavailable(`KubevirtConfig '${cluster}' does not exist`)
          const config = yield* Schema.decodeUnknownEffect(KubevirtConfig)(configObj.value).pipe(
            Effect.mapError((e) => unavailable(`KubevirtConfig '${cluster}' is malformed: ${e.message}`))
          )
          const { secretNamespace, kubeconfigSecretRef } = config.spec
          const secretRef = `Secret ${secretNamespace}/${kubeconfigSecretRef}`
          const secret = yield* read(
            retryApi(apiRetry)(supervisor.get(refOf("Secret", kubeconfigSecretRef, secretNamespace)))
          )
          if (Option.isNone(secret))
            return yield* unavailable(
              `${secretRef} (KubevirtConfig ${cluster} spec.kubeconfigSecretRef) does not exist`
            )
          const data = (secret.value.data ?? {}) as Record<string, unknown>
          const encoded = data[KUBECONFIG_SECRET_KEY]
          if (typeof encoded !== "string" || encoded === "")
            return yield* unavailable(`${secretRef} has no data key '${KUBECONFIG_SECRET_KEY}'`)
          const yaml = Buffer.from(encoded, "base64").toString("utf8")
          const hash = createHash("sha256").update(yaml).digest("hex")
          const cached = (yield* Ref.get(cache)).get(cluster)
          if (cached !== undefined && cached.hash === hash) {
            // A refused kubeconfig is remembered by content: it is not parsed again until the Secret changes.
            if (cached.api !== undefined) return cached.api
            return yield* unavailable(cached.refused ?? "refused")
          }
          // The kubeconfig's content is never logged or put in a message: only the objects' names and the field.
          const live = yield* makeLiveApi(yaml, options).pipe(
            Effect.catch((e) => {
              const refused = `KubevirtConfig ${cluster}: ${secretRef} key '${KUBECONFIG_SECRET_KEY}': ${e.message}`
              return Ref.update(cache, (m) => new Map(m).set(cluster, { hash, refused })).pipe(
                Effect.andThen(Effect.fail(unavailable(refused)))
              )
            })
          )
          // A cluster that stops answering fails fast (Unavailable) instead of holding workers (ADR 0011).
          const guarded = withCircuitBreaker(live, cluster)
          const wrapped = options.wrap === undefined ? guarded : options.wrap(cluster, guarded)
          const api = options.readOnly === true ? readOnly(wrapped) : wrapped
          yield* Ref.update(cache, (m) => new Map(m).set(cluster, { hash, api }))
          return api
        })
        const invalidate = (cluster: string) =>
          options.cache === "untilInvalidated"
            ? Ref.update(cache, (m) => {
                const next = new Map(m)
                next.delete(cluster)
                return next
              })
            : Effect.void
        return Remotes.of({ get, invalidate })
      })
    )
}
