/**
 * The typed failure of every cluster call: `KubeApiError` names the verb and the object, and carries one
 * `reason` from a closed set, each knowing whether a retry can help. Effects layer.
 * `reasonFromHttp` is the ONE place where an HTTP status + Kubernetes `Status` body becomes a reason;
 * `reasonFromTransport` does the same for failures that never got an HTTP response.
 */
import { Duration, Option, Predicate, Schema } from "effect"

/** The verbs of the cluster service; they appear in every error message ("cannot create ..."). */
export const KubeVerb = Schema.Literals([
  "get",
  "list",
  "create",
  "patch",
  "apply",
  "delete",
  "watch",
  "updateStatus",
  "discover"
])
export type KubeVerb = typeof KubeVerb.Type

/** Verbs that change state: the read-only layer refuses them and tests count them as writes. */
export const writeVerbs: ReadonlySet<KubeVerb> = new Set<KubeVerb>([
  "create",
  "patch",
  "apply",
  "delete",
  "updateStatus"
])

/** One `details.causes[]` entry of a Kubernetes Status (field-level validation failures). */
export const StatusCause = Schema.Struct({
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  field: Schema.optional(Schema.String)
})
export type StatusCause = typeof StatusCause.Type

const ReasonFields = {
  message: Schema.String,
  /** The HTTP status code, when the failure came with a response. */
  status: Schema.optional(Schema.Number),
  causes: Schema.optional(Schema.Array(StatusCause)),
  cause: Schema.optional(Schema.Defect())
}

/** 404, or the object is absent. Not retryable: the caller decides (get maps it to `Option.none`). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/** Create of a name that exists. Not retryable; idempotent executors treat it as success. */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/** Stale resourceVersion or failed precondition (409). Retryable after re-reading (replan with fresh state). */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", ReasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/** 403, including "namespace is being terminated". Terminal until RBAC or the namespace changes. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/** 401: the credentials are wrong or expired. Terminal until the kubeconfig changes. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/** 400/422 and other request errors: the request itself is wrong; repeating it cannot help. */
export class Invalid extends Schema.TaggedError<Invalid>()("Invalid", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/** 429 (throttled by API priority and fairness). Retryable, after `retryAfter` when the server said so. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  ...ReasonFields,
  retryAfter: Schema.optional(Schema.Duration)
}) {
  get isRetryable(): boolean {
    return true
  }
}

/** 5xx: the apiserver or its storage failed. Retryable. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", ReasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/** The request timed out (client-side deadline, 504, or a server timeout). Retryable. */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", ReasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/** No HTTP response at all: connection refused/reset, DNS, TLS. Retryable. */
export class Transport extends Schema.TaggedError<Transport>()("Transport", ReasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * 410: the requested resourceVersion is older than what the server keeps (watch "Expired").
 * Not retryable as is: the caller must relist and watch from the list's resourceVersion.
 */
export class Gone extends Schema.TaggedError<Gone>()("Gone", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/** A write through the read-only (dry-run) layer. Not retryable: it will never be allowed. */
export class DryRun extends Schema.TaggedError<DryRun>()("DryRun", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The cluster stopped answering (its circuit breaker is open after repeated timeouts or transport failures): no
 * request was sent. Not retryable now: the breaker lets a probe through after its cooldown, and the reconcile that
 * meets this treats the cluster's facts as Unknown instead of holding a worker.
 */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", ReasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

export const KubeApiErrorReason = Schema.Union([
  NotFound,
  AlreadyExists,
  Conflict,
  Forbidden,
  Unauthorized,
  Invalid,
  TooManyRequests,
  ServerError,
  Timeout,
  Transport,
  Gone,
  DryRun,
  Unavailable
])
export type KubeApiErrorReason = typeof KubeApiErrorReason.Type
export type KubeApiErrorReasonTag = KubeApiErrorReason["_tag"]

const verbPhrase = (verb: KubeVerb): string => (verb === "updateStatus" ? "update status of" : verb)

/**
 * A failed cluster call. The message is `cannot <verb> <target>: <reason message>`,
 * e.g. `cannot create VirtualMachine default/vm-a: namespaces "default" not found`.
 */
export class KubeApiError extends Schema.TaggedError<KubeApiError>()("KubeApiError", {
  verb: KubeVerb,
  /** `Kind namespace/name` for one object, `Kind in namespace` / `Kind in all namespaces` for collections. */
  target: Schema.String,
  reason: KubeApiErrorReason
}) {
  override get message(): string {
    return `cannot ${verbPhrase(this.verb)} ${this.target}: ${this.reason.message}`
  }

  get isRetryable(): boolean {
    return this.reason.isRetryable
  }
}

/** Describes one object for messages: `VirtualMachine default/vm-a`, `Namespace team-a`. */
export const describeObject = (ref: {
  readonly kind: string
  readonly namespace?: string | undefined
  readonly name: string
}): string => `${ref.kind} ${ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`}`

/** Describes an API group for messages: `API group kubevirt.io`. */
export const describeGroup = (group: string): string => `API group ${group}`

/** Describes a collection for messages: `VirtualMachine in team-a`, `Namespace in all namespaces`. */
export const describeCollection = (kind: string, namespace?: string): string =>
  `${kind} in ${namespace === undefined ? "all namespaces" : namespace}`

/** The Kubernetes `Status` object (`kind: Status`) as far as the mapping reads it. */
export const KubeStatus = Schema.Struct({
  kind: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  code: Schema.optional(Schema.Number),
  details: Schema.optional(
    Schema.Struct({
      name: Schema.optional(Schema.String),
      group: Schema.optional(Schema.String),
      kind: Schema.optional(Schema.String),
      causes: Schema.optional(Schema.Array(StatusCause)),
      retryAfterSeconds: Schema.optional(Schema.Number)
    })
  )
})
export type KubeStatus = typeof KubeStatus.Type

const decodeStatus = Schema.decodeUnknownOption(KubeStatus)
const decodeJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** Input of the mapping: the HTTP status code, the body (parsed JSON or raw text) and response headers. */
export interface HttpFailure {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

const statusFromBody = (body: unknown): Option.Option<KubeStatus> => {
  const parsed = Predicate.isString(body) ? decodeJson(body) : Option.some(body)
  return Option.flatMap(parsed, decodeStatus)
}

const retryAfterFrom = (status: Option.Option<KubeStatus>, headers: HttpFailure["headers"]) => {
  const fromDetails = Option.flatMapNullishOr(status, (s) => s.details?.retryAfterSeconds)
  if (Option.isSome(fromDetails)) return Option.some(Duration.seconds(fromDetails.value))
  const header = headers?.["retry-after"] ?? headers?.["Retry-After"]
  const seconds = header === undefined ? Number.NaN : Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? Option.some(Duration.seconds(seconds)) : Option.none()
}

type ReasonTag = KubeApiErrorReasonTag

/** Kubernetes `StatusReason` values (metav1.StatusReason*) that name the reason regardless of the code. */
const byStatusReason: Readonly<Record<string, ReasonTag>> = {
  NotFound: "NotFound",
  AlreadyExists: "AlreadyExists",
  Conflict: "Conflict",
  Forbidden: "Forbidden",
  Unauthorized: "Unauthorized",
  Invalid: "Invalid",
  BadRequest: "Invalid",
  MethodNotAllowed: "Invalid",
  NotAcceptable: "Invalid",
  UnsupportedMediaType: "Invalid",
  RequestEntityTooLarge: "Invalid",
  TooManyRequests: "TooManyRequests",
  Timeout: "Timeout",
  ServerTimeout: "Timeout",
  Expired: "Gone",
  Gone: "Gone",
  InternalError: "ServerError",
  ServiceUnavailable: "ServerError"
}

const byHttpStatus = (code: number): ReasonTag => {
  switch (code) {
    case 401:
      return "Unauthorized"
    case 403:
      return "Forbidden"
    case 404:
      return "NotFound"
    case 408:
    case 504:
      return "Timeout"
    case 409:
      return "Conflict"
    case 410:
      return "Gone"
    case 429:
      return "TooManyRequests"
    default:
      return code >= 500 || code < 400 ? "ServerError" : "Invalid"
  }
}

const makeReason = (
  tag: ReasonTag,
  fields: {
    readonly message: string
    readonly status?: number | undefined
    readonly causes?: ReadonlyArray<StatusCause> | undefined
    readonly cause?: unknown
    readonly retryAfter?: Duration.Duration | undefined
  }
): KubeApiErrorReason => {
  const base = {
    message: fields.message,
    ...(fields.status === undefined ? {} : { status: fields.status }),
    ...(fields.causes === undefined ? {} : { causes: fields.causes }),
    ...(fields.cause === undefined ? {} : { cause: fields.cause })
  }
  switch (tag) {
    case "NotFound":
      return new NotFound(base)
    case "AlreadyExists":
      return new AlreadyExists(base)
    case "Conflict":
      return new Conflict(base)
    case "Forbidden":
      return new Forbidden(base)
    case "Unauthorized":
      return new Unauthorized(base)
    case "Invalid":
      return new Invalid(base)
    case "TooManyRequests":
      return new TooManyRequests({
        ...base,
        ...(fields.retryAfter === undefined ? {} : { retryAfter: fields.retryAfter })
      })
    case "ServerError":
      return new ServerError(base)
    case "Timeout":
      return new Timeout(base)
    case "Transport":
      return new Transport(base)
    case "Gone":
      return new Gone(base)
    case "DryRun":
      return new DryRun(base)
    case "Unavailable":
      return new Unavailable(base)
  }
}

/**
 * THE mapping from an HTTP failure to a reason, used by the live layer for every response (and for
 * watch `ERROR` events, which carry a Status with `code`).
 *
 * Rules: the Status `reason` wins when it is a known `StatusReason` (so 409 + `AlreadyExists` is
 * AlreadyExists, 500 + `ServerTimeout` is Timeout); otherwise the HTTP code decides (4xx unknown → Invalid,
 * 5xx → ServerError, 504 → Timeout). The message is the Status `message`, else the raw body text, else
 * `HTTP <code>`. The parsed Status is kept as `cause`.
 */
export const reasonFromHttp = (failure: HttpFailure): KubeApiErrorReason => {
  const status = statusFromBody(failure.body)
  const statusReason = Option.flatMapNullishOr(status, (s) => s.reason)
  const tag =
    Option.isSome(statusReason) && byStatusReason[statusReason.value] !== undefined
      ? byStatusReason[statusReason.value]!
      : byHttpStatus(failure.status)
  const message = Option.match(
    Option.flatMapNullishOr(status, (s) => s.message),
    {
      onSome: (m) => m,
      onNone: () =>
        Predicate.isString(failure.body) && failure.body.trim() !== "" && failure.body.length <= 500
          ? failure.body.trim()
          : `HTTP ${failure.status}`
    }
  )
  return makeReason(tag, {
    message,
    status: failure.status,
    causes: Option.getOrUndefined(Option.flatMapNullishOr(status, (s) => s.details?.causes)),
    cause: Option.getOrUndefined(status),
    retryAfter: tag === "TooManyRequests" ? Option.getOrUndefined(retryAfterFrom(status, failure.headers)) : undefined
  })
}

const errorCode = (e: unknown): string | undefined => {
  if (!Predicate.isObject(e)) return undefined
  if ("code" in e && Predicate.isString(e.code)) return e.code
  return "cause" in e ? errorCode(e.cause) : undefined
}

const errorName = (e: unknown): string | undefined =>
  Predicate.isObject(e) && "name" in e && Predicate.isString(e.name) ? e.name : undefined

/** The first line of an error's message (client-side failures such as TLS settings); no code means no socket detail. */
const firstLineOf = (e: unknown): string | undefined =>
  Predicate.isObject(e) && "message" in e && Predicate.isString(e.message) && e.message !== ""
    ? e.message.split("\n")[0]!.slice(0, 200)
    : undefined

const timeoutCodes = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT"
])

/**
 * A failure with no HTTP response. Deadlines (`TimeoutError`, `ETIMEDOUT`, undici timeouts) are Timeout;
 * everything else (ECONNREFUSED, ECONNRESET, DNS, TLS) is Transport. The message names the error code
 * when there is one (socket errors), else the first line of the error message; never request headers.
 */
export const reasonFromTransport = (cause: unknown): KubeApiErrorReason => {
  const code = errorCode(cause)
  const name = errorName(cause)
  if (name === "TimeoutError" || (code !== undefined && timeoutCodes.has(code))) {
    return new Timeout({ message: `request timed out${code === undefined ? "" : ` (${code})`}`, cause })
  }
  const detail = code ?? firstLineOf(cause) ?? name ?? "unknown error"
  return new Transport({ message: `cannot reach the API server (${detail})`, cause })
}

/** Builds the error for one verb on one target. */
export const kubeApiError = (verb: KubeVerb, target: string, reason: KubeApiErrorReason): KubeApiError =>
  new KubeApiError({ verb, target, reason })
