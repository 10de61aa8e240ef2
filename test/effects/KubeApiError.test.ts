/**
 * The one HTTP → reason mapping (`reasonFromHttp`), the transport mapping, retryability per reason, and the
 * `cannot <verb> <object>` message shape, as named tables.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { refOf } from "../../src/domain/ObjectRef.ts"
import {
  AlreadyExists,
  Conflict,
  DryRun,
  describeCollection,
  describeObject,
  Forbidden,
  Gone,
  Invalid,
  type KubeApiErrorReason,
  kubeApiError,
  NotFound,
  reasonFromHttp,
  reasonFromTransport,
  ServerError,
  Timeout,
  TooManyRequests,
  Transport,
  Unauthorized
} from "../../src/effects/KubeApiError.ts"
import { kubeStatus as status } from "../fixtures/kubeStatus.ts"

const httpCases: ReadonlyArray<{
  readonly name: string
  readonly status: number
  readonly body?: unknown
  readonly headers?: Record<string, string>
  readonly want: KubeApiErrorReason["_tag"]
  readonly message?: string
}> = [
  {
    name: "NotFoundObject",
    status: 404,
    body: status(404, "NotFound", 'virtualmachines.kubevirt.io "vm-a" not found', { name: "vm-a" }),
    want: "NotFound",
    message: 'virtualmachines.kubevirt.io "vm-a" not found'
  },
  { name: "NotFoundWithoutBody", status: 404, want: "NotFound", message: "HTTP 404" },
  {
    name: "AlreadyExistsIs409WithReason",
    status: 409,
    body: status(409, "AlreadyExists", 'namespaces "team-a" already exists'),
    want: "AlreadyExists"
  },
  {
    name: "ConflictOnStaleResourceVersion",
    status: 409,
    body: status(409, "Conflict", 'Operation cannot be fulfilled on configmaps "c": the object has been modified'),
    want: "Conflict"
  },
  { name: "Bare409IsConflict", status: 409, want: "Conflict" },
  {
    name: "ForbiddenByRbac",
    status: 403,
    body: status(403, "Forbidden", 'namespaces is forbidden: User "alice" cannot create resource "namespaces"'),
    want: "Forbidden"
  },
  {
    name: "ForbiddenNamespaceTerminating",
    status: 403,
    body: status(403, "Forbidden", "unable to create new content in namespace x because it is being terminated", {
      causes: [
        { reason: "NamespaceTerminating", message: "namespace x is being terminated", field: "metadata.namespace" }
      ]
    }),
    want: "Forbidden"
  },
  { name: "Unauthorized", status: 401, body: status(401, "Unauthorized", "Unauthorized"), want: "Unauthorized" },
  {
    name: "InvalidFieldValue",
    status: 422,
    body: status(422, "Invalid", 'ConfigMap "Bad" is invalid: metadata.name: Invalid value', {
      causes: [{ reason: "FieldValueInvalid", field: "metadata.name", message: "Invalid value" }]
    }),
    want: "Invalid"
  },
  { name: "BadRequest", status: 400, body: status(400, "BadRequest", "the body is malformed"), want: "Invalid" },
  { name: "UnsupportedMediaType", status: 415, want: "Invalid" },
  { name: "UnknownClientErrorIsInvalid", status: 418, want: "Invalid" },
  {
    name: "TooManyRequestsWithRetryAfterDetails",
    status: 429,
    body: status(429, "TooManyRequests", "too many requests", { retryAfterSeconds: 3 }),
    want: "TooManyRequests"
  },
  { name: "TooManyRequestsWithHeader", status: 429, headers: { "retry-after": "7" }, want: "TooManyRequests" },
  {
    name: "InternalError",
    status: 500,
    body: status(500, "InternalError", "etcdserver: leader changed"),
    want: "ServerError"
  },
  {
    name: "ServerTimeoutIsTimeout",
    status: 500,
    body: status(500, "ServerTimeout", "the server timed out"),
    want: "Timeout"
  },
  { name: "BadGateway", status: 502, body: "<html>bad gateway</html>", want: "ServerError" },
  { name: "ServiceUnavailable", status: 503, want: "ServerError" },
  { name: "GatewayTimeout", status: 504, want: "Timeout" },
  { name: "RequestTimeout", status: 408, want: "Timeout" },
  {
    name: "ExpiredWatchIsGone",
    status: 410,
    body: status(410, "Expired", "too old resource version: 1 (12345)"),
    want: "Gone"
  },
  { name: "Bare410IsGone", status: 410, want: "Gone" },
  {
    name: "StatusReasonWinsOverCode",
    status: 500,
    body: JSON.stringify(status(500, "Conflict", "storage conflict")),
    want: "Conflict",
    message: "storage conflict"
  },
  {
    name: "UnknownStatusReasonFallsBackToCode",
    status: 404,
    body: status(404, "SomethingNew", "gone away"),
    want: "NotFound"
  },
  {
    name: "PlainTextBodyBecomesMessage",
    status: 503,
    body: "upstream connect error",
    want: "ServerError",
    message: "upstream connect error"
  }
]

describe("reasonFromHttp", () => {
  it.each(httpCases)("$name", ({ status: code, body, headers, want, message }) => {
    const reason = reasonFromHttp({ status: code, body, headers })
    assert.strictEqual(reason._tag, want)
    assert.strictEqual(reason.status, code)
    if (message !== undefined) assert.strictEqual(reason.message, message)
  })

  it("keeps field causes of an Invalid status", () => {
    const reason = reasonFromHttp(httpCases.find((c) => c.name === "InvalidFieldValue")!)
    assert.deepStrictEqual(reason.causes, [
      { reason: "FieldValueInvalid", field: "metadata.name", message: "Invalid value" }
    ])
  })

  it("reads Retry-After from details, then from the header", () => {
    const fromDetails = reasonFromHttp(httpCases.find((c) => c.name === "TooManyRequestsWithRetryAfterDetails")!)
    const fromHeader = reasonFromHttp(httpCases.find((c) => c.name === "TooManyRequestsWithHeader")!)
    assert.instanceOf(fromDetails, TooManyRequests)
    assert.instanceOf(fromHeader, TooManyRequests)
    assert.deepStrictEqual((fromDetails as TooManyRequests).retryAfter, Duration.seconds(3))
    assert.deepStrictEqual((fromHeader as TooManyRequests).retryAfter, Duration.seconds(7))
  })
})

describe("reasonFromTransport", () => {
  const cases = [
    {
      name: "ConnectionRefused",
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" }),
      want: "Transport"
    },
    {
      name: "ConnectionResetNested",
      cause: new TypeError("fetch failed", { cause: { code: "ECONNRESET" } }),
      want: "Transport"
    },
    {
      name: "AbortSignalTimeout",
      cause: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      want: "Timeout"
    },
    { name: "UndiciConnectTimeout", cause: { code: "UND_ERR_CONNECT_TIMEOUT" }, want: "Timeout" },
    { name: "UnknownThrowable", cause: "boom", want: "Transport" }
  ] as const
  it.each(cases)("$name", ({ cause, want }) => {
    assert.strictEqual(reasonFromTransport(cause)._tag, want)
  })

  it("names the error code, never the request", () => {
    const reason = reasonFromTransport(
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443 Authorization: Bearer secret-token"), {
        code: "ECONNREFUSED"
      })
    )
    assert.strictEqual(reason.message, "cannot reach the API server (ECONNREFUSED)")
  })
})

describe("retryability", () => {
  const cases: ReadonlyArray<{ readonly reason: KubeApiErrorReason; readonly retryable: boolean }> = [
    { reason: new NotFound({ message: "m" }), retryable: false },
    { reason: new AlreadyExists({ message: "m" }), retryable: false },
    { reason: new Conflict({ message: "m" }), retryable: true },
    { reason: new Forbidden({ message: "m" }), retryable: false },
    { reason: new Unauthorized({ message: "m" }), retryable: false },
    { reason: new Invalid({ message: "m" }), retryable: false },
    { reason: new TooManyRequests({ message: "m" }), retryable: true },
    { reason: new ServerError({ message: "m" }), retryable: true },
    { reason: new Timeout({ message: "m" }), retryable: true },
    { reason: new Transport({ message: "m" }), retryable: true },
    { reason: new Gone({ message: "m" }), retryable: false },
    { reason: new DryRun({ message: "m" }), retryable: false }
  ]
  it.each(cases)("$reason._tag retryable: $retryable", ({ reason, retryable }) => {
    assert.strictEqual(reason.isRetryable, retryable)
    assert.strictEqual(kubeApiError("get", "x", reason).isRetryable, retryable)
  })
})

describe("KubeApiError", () => {
  it("names the verb and the object", () => {
    const error = kubeApiError(
      "create",
      describeObject(refOf("VirtualMachine", "vm-a", "default")),
      new NotFound({ message: 'namespaces "default" not found' })
    )
    assert.strictEqual(error.message, 'cannot create VirtualMachine default/vm-a: namespaces "default" not found')
  })

  it("phrases updateStatus, cluster-scoped objects and collections", () => {
    assert.strictEqual(
      kubeApiError("updateStatus", describeObject(refOf("Machine", "m", "ns")), new Conflict({ message: "stale" }))
        .message,
      "cannot update status of Machine ns/m: stale"
    )
    assert.strictEqual(describeObject(refOf("Namespace", "team-a")), "Namespace team-a")
    assert.strictEqual(describeCollection("VirtualMachine"), "VirtualMachine in all namespaces")
    assert.strictEqual(describeCollection("VirtualMachine", "team-a"), "VirtualMachine in team-a")
  })

  it.effect("is recoverable by reason with Effect.catchReason", () =>
    Effect.gen(function* () {
      const failing = Effect.fail(kubeApiError("create", "Namespace a", new AlreadyExists({ message: "exists" })))
      const recovered = yield* failing.pipe(
        Effect.catchReason("KubeApiError", "AlreadyExists", () => Effect.succeed("ok" as const))
      )
      assert.strictEqual(recovered, "ok")
    })
  )
})
