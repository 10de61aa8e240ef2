/**
 * The instrumentation decorator: every request of the wrapped KubeApi is reported to a recorder with its verb, a
 * `code` (the HTTP status, or what went wrong when there was no response) and whether the cluster answered. Effects
 * layer (cluster service); the runtime binds the recorder to its metrics (`runtime/Metrics.ts`). Writes refused by
 * the read-only decorator (DryRun) never left the process and are not reported. A watch is reported once, when its
 * stream ends.
 */
import { Effect, Exit, Option, Stream } from "effect"
import type { KubeApiService } from "../KubeApi.ts"
import type { KubeApiError, KubeVerb } from "../KubeApiError.ts"

export interface KubeApiRecorder {
  /** One request: its verb, its code and whether the cluster answered it. */
  readonly request: (verb: KubeVerb, code: string, answered: boolean) => Effect.Effect<void>
}

/** The `code` of a failed request: the HTTP status when there was a response, else what went wrong. */
const codeOfError = (e: KubeApiError): string =>
  e.reason.status !== undefined
    ? String(e.reason.status)
    : e.reason._tag === "Transport"
      ? "transport"
      : e.reason._tag === "Timeout"
        ? "timeout"
        : e.reason._tag.toLowerCase()

/** A failure with no HTTP response: the cluster did not answer. */
const unanswered = (e: KubeApiError): boolean =>
  e.reason.status === undefined && (e.reason._tag === "Transport" || e.reason._tag === "Timeout")

/** `api` with every request reported to `recorder`. */
export const instrumented = (api: KubeApiService, recorder: KubeApiRecorder): KubeApiService => {
  const onError = (verb: KubeVerb) => (e: KubeApiError) =>
    e.reason._tag === "DryRun" ? Effect.void : recorder.request(verb, codeOfError(e), !unanswered(e))
  const counted =
    <Args extends ReadonlyArray<unknown>, A>(
      verb: KubeVerb,
      call: (...args: Args) => Effect.Effect<A, KubeApiError>,
      codeOf: (a: A) => string = () => "200"
    ) =>
    (...args: Args): Effect.Effect<A, KubeApiError> =>
      call(...args).pipe(
        Effect.tap((a) => recorder.request(verb, codeOf(a), true)),
        Effect.tapError(onError(verb))
      )
  return {
    get: counted("get", api.get, (found) => (Option.isSome(found) ? "200" : "404")),
    list: counted("list", api.list),
    create: counted("create", api.create, () => "201"),
    patch: counted("patch", api.patch),
    apply: counted("apply", api.apply),
    delete: counted("delete", api.delete),
    updateStatus: counted("updateStatus", api.updateStatus),
    discover: counted("discover", api.discover, (found) => (Option.isSome(found) ? "200" : "404")),
    watch: (kind, options) =>
      api.watch(kind, options).pipe(
        Stream.onExit((exit) => {
          const error = Exit.findErrorOption(exit)
          return Option.isSome(error) ? onError("watch")(error.value) : recorder.request("watch", "200", true)
        })
      )
  }
}
