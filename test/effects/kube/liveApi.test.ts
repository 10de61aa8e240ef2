/**
 * The live layer against a scripted fake apiserver (plain HTTP on 127.0.0.1): URLs, verbs, content types,
 * preconditions, query parameters, response decoding, watch streaming, and that every failure goes through
 * the one status → reason mapping. The real-apiserver run of the contract suite covers semantics.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option, Stream } from "effect"
import { ObjectRef, refOf } from "../../../src/domain/ObjectRef.ts"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import { TooManyRequests } from "../../../src/effects/KubeApiError.ts"
import { type LiveOptions, layerLive } from "../../../src/effects/kube/clients.ts"
import { kubeStatus as status } from "../../fixtures/kubeStatus.ts"

const TOKEN = "fake-bearer-token-123"

interface Seen {
  readonly method: string
  readonly url: URL
  readonly contentType: string | undefined
  readonly authorization: string | undefined
  readonly body: unknown
}

type Reply =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | "hang"
  /** A watch answer that sends `lines` and then keeps the response open without another byte. */
  | { readonly silentAfter: ReadonlyArray<unknown> }
type Handler = (req: Seen) => Reply | ReadonlyArray<unknown>

const eventLine = (event: unknown) => `${typeof event === "string" ? event : JSON.stringify(event)}\n`

/**
 * A fake apiserver: `handler` answers each request (an array answers as a watch stream of events, a string entry
 * is sent as the raw line). `connections` counts the TCP connections it accepted.
 */
const fakeApiserver = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.callback<{
      readonly port: number
      readonly seen: Array<Seen>
      readonly connections: () => number
      readonly close: () => void
    }>((resume) => {
      const seen: Array<Seen> = []
      let connections = 0
      const hanging: Array<ServerResponse> = []
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          const request: Seen = {
            method: req.method ?? "",
            url: new URL(req.url ?? "/", "http://fake"),
            contentType: req.headers["content-type"],
            authorization: req.headers.authorization,
            body: text === "" ? undefined : JSON.parse(text)
          }
          seen.push(request)
          const reply = handler(request)
          if (reply === "hang") {
            hanging.push(res)
            return
          }
          if (Array.isArray(reply)) {
            res.writeHead(200, { "content-type": "application/json" })
            for (const event of reply) res.write(eventLine(event))
            res.end()
            return
          }
          if (typeof reply === "object" && "silentAfter" in reply) {
            res.writeHead(200, { "content-type": "application/json" })
            for (const event of reply.silentAfter) res.write(eventLine(event))
            hanging.push(res)
            return
          }
          const r = reply as Extract<Reply, { readonly status: number }>
          res.writeHead(r.status, { "content-type": "application/json", ...r.headers })
          res.end(r.body === undefined ? "" : typeof r.body === "string" ? r.body : JSON.stringify(r.body))
        })
      })
      server.on("connection", () => {
        connections++
      })
      server.listen(0, "127.0.0.1", () => {
        const close = () => {
          for (const res of hanging) res.destroy()
          server.closeAllConnections()
          server.close()
        }
        resume(
          Effect.succeed({ port: (server.address() as AddressInfo).port, seen, connections: () => connections, close })
        )
      })
    }),
    (s) => Effect.sync(s.close)
  )

/**
 * An HTTP forward proxy, as a proxy in front of an `http://` apiserver is used: each request arrives with the absolute
 * URL and is passed on; `forwarded` lists those URLs and the Authorization each carried.
 */
const forwardProxy = Effect.acquireRelease(
  Effect.callback<{
    readonly port: number
    readonly forwarded: Array<{ readonly url: string; readonly authorization: string | undefined }>
    readonly close: () => void
  }>((resume) => {
    const forwarded: Array<{ readonly url: string; readonly authorization: string | undefined }> = []
    const server = createServer((req, res) => {
      forwarded.push({ url: req.url ?? "", authorization: req.headers.authorization })
      const upstream = request(req.url ?? "", { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      upstream.on("error", () => res.destroy())
      req.pipe(upstream)
    })
    server.listen(0, "127.0.0.1", () => {
      const close = () => {
        server.closeAllConnections()
        server.close()
      }
      resume(Effect.succeed({ port: (server.address() as AddressInfo).port, forwarded, close }))
    })
  }),
  (p) => Effect.sync(p.close)
)

const kubeconfigFor = (port: number, user = `token: ${TOKEN}`) => `apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: http://127.0.0.1:${port}
    insecure-skip-tls-verify: true
contexts:
- name: fake
  context: { cluster: fake, user: op }
users:
- name: op
  user:
    ${user}
`

/** Runs `body` with a KubeApi talking to a fake apiserver; returns what `body` returns and the requests seen. */
const withFake = <A>(
  handler: Handler,
  body: (api: KubeApi["Service"]) => Effect.Effect<A, unknown>,
  options?: LiveOptions
) =>
  Effect.gen(function* () {
    const fake = yield* fakeApiserver(handler)
    const result = yield* Effect.gen(function* () {
      return yield* body(yield* KubeApi)
    }).pipe(Effect.provide(layerLive(kubeconfigFor(fake.port), { allowInsecure: true, ...options })))
    return { result, seen: fake.seen, connections: fake.connections() }
  })

const vmRef = refOf("VirtualMachine", "vm-a", "team-a")
const vm = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "vm-a", namespace: "team-a", resourceVersion: "5", uid: "u-1" },
  spec: { runStrategy: "Always" }
}
const cmRef = (name: string) => ObjectRef.make({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name })

describe("layerLive against a fake apiserver", () => {
  it.live("get: builds the group URL, sends the bearer token, decodes the object", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        () => ({ status: 200, body: vm }),
        (api) => api.get(vmRef)
      )
      assert.deepStrictEqual(Option.getOrThrow(result), vm)
      assert.strictEqual(seen[0]!.method, "GET")
      assert.strictEqual(seen[0]!.url.pathname, "/apis/kubevirt.io/v1/namespaces/team-a/virtualmachines/vm-a")
      assert.strictEqual(seen[0]!.authorization, `Bearer ${TOKEN}`)
    })
  )

  it.live("get: a 404 for the object is None, a 404 for the resource (no CRD) is an error", () =>
    Effect.gen(function* () {
      const absent = yield* withFake(
        () => ({
          status: 404,
          body: status(404, "NotFound", 'virtualmachines.kubevirt.io "vm-a" not found', { name: "vm-a" })
        }),
        (api) => api.get(vmRef)
      )
      assert.isTrue(Option.isNone(absent.result))
      const noCrd = yield* withFake(
        () => ({ status: 404, body: status(404, "NotFound", "the server could not find the requested resource", {}) }),
        (api) => Effect.flip(api.get(vmRef))
      )
      assert.strictEqual(noCrd.result.reason._tag, "NotFound")
      assert.include(noCrd.result.message, "cannot get VirtualMachine team-a/vm-a")
    })
  )

  it.live("discover: GETs the group, then each version; subresources dropped; a version gone since is skipped", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        (req) => {
          switch (req.url.pathname) {
            case "/apis/kubevirt.io":
              return {
                status: 200,
                body: {
                  kind: "APIGroup",
                  name: "kubevirt.io",
                  versions: [
                    { groupVersion: "kubevirt.io/v1", version: "v1" },
                    { groupVersion: "kubevirt.io/v1alpha3", version: "v1alpha3" }
                  ],
                  preferredVersion: { groupVersion: "kubevirt.io/v1", version: "v1" }
                }
              }
            case "/apis/kubevirt.io/v1":
              return {
                status: 200,
                body: {
                  kind: "APIResourceList",
                  groupVersion: "kubevirt.io/v1",
                  resources: [
                    { name: "virtualmachines", singularName: "", namespaced: true, kind: "VirtualMachine", verbs: [] },
                    { name: "virtualmachines/status", namespaced: true, kind: "VirtualMachine", verbs: [] }
                  ]
                }
              }
            default:
              return {
                status: 404,
                body: status(404, "NotFound", "the server could not find the requested resource", {})
              }
          }
        },
        (api) => Effect.all([api.discover("kubevirt.io"), api.discover("cdi.kubevirt.io")])
      )
      assert.deepStrictEqual(result, [
        Option.some([
          { version: "v1", resources: [{ name: "virtualmachines", kind: "VirtualMachine", namespaced: true }] }
        ]),
        Option.none()
      ])
      assert.deepStrictEqual(
        seen.map((r) => `${r.method} ${r.url.pathname}`),
        [
          "GET /apis/kubevirt.io",
          "GET /apis/kubevirt.io/v1",
          "GET /apis/kubevirt.io/v1alpha3",
          "GET /apis/cdi.kubevirt.io"
        ]
      )
    })
  )

  it.live("discover: a 403 is an error naming the group, never 'not served'", () =>
    Effect.gen(function* () {
      const { result } = yield* withFake(
        () => ({
          status: 403,
          body: status(403, "Forbidden", "forbidden: User cannot get path /apis/kubevirt.io", {})
        }),
        (api) => Effect.flip(api.discover("kubevirt.io"))
      )
      assert.strictEqual(result.reason._tag, "Forbidden")
      assert.include(result.message, "cannot discover API group kubevirt.io")
    })
  )

  it.live("list: core URL, label selector, items typed, collection resourceVersion", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        () => ({
          status: 200,
          body: {
            kind: "ConfigMapList",
            apiVersion: "v1",
            metadata: { resourceVersion: "77" },
            items: [{ metadata: { name: "a", namespace: "ns" }, data: { k: "v" } }]
          }
        }),
        (api) =>
          api.list({ apiVersion: "v1", kind: "ConfigMap" }, { namespace: "ns", labelSelector: { b: "2", a: "1" } })
      )
      assert.strictEqual(seen[0]!.url.pathname, "/api/v1/namespaces/ns/configmaps")
      assert.strictEqual(seen[0]!.url.searchParams.get("labelSelector"), "a=1,b=2")
      assert.strictEqual(result.resourceVersion, "77")
      assert.deepStrictEqual(result.items, [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns" }, data: { k: "v" } }
      ])
    })
  )

  it.live("list across namespaces and of a cluster-scoped kind", () =>
    Effect.gen(function* () {
      const { seen } = yield* withFake(
        () => ({ status: 200, body: { metadata: { resourceVersion: "1" }, items: [] } }),
        (api) =>
          Effect.andThen(
            api.list({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" }),
            api.list({ apiVersion: "vitistack.io/v1alpha1", kind: "KubevirtConfig" })
          )
      )
      assert.deepStrictEqual(
        seen.map((s) => s.url.pathname),
        ["/apis/kubevirt.io/v1/virtualmachines", "/apis/vitistack.io/v1alpha1/kubevirtconfigs"]
      )
    })
  )

  it.live("create: POSTs to the collection without server-owned metadata; AlreadyExists maps", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        (req) =>
          req.url.pathname.endsWith("/dup")
            ? { status: 500 }
            : { status: 409, body: status(409, "AlreadyExists", 'virtualmachines.kubevirt.io "vm-a" already exists') },
        (api) => Effect.flip(api.create(vmRef, vm))
      )
      assert.strictEqual(seen[0]!.method, "POST")
      assert.strictEqual(seen[0]!.url.pathname, "/apis/kubevirt.io/v1/namespaces/team-a/virtualmachines")
      assert.deepStrictEqual(seen[0]!.body, {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachine",
        metadata: { name: "vm-a", namespace: "team-a" },
        spec: { runStrategy: "Always" }
      })
      assert.strictEqual(result.reason._tag, "AlreadyExists")
      assert.strictEqual(
        result.message,
        'cannot create VirtualMachine team-a/vm-a: virtualmachines.kubevirt.io "vm-a" already exists'
      )
    })
  )

  it.live("patch: merge patch with the resourceVersion precondition in the body; Conflict maps", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        () => ({ status: 409, body: status(409, "Conflict", "the object has been modified") }),
        (api) => Effect.flip(api.patch(vmRef, { spec: { runStrategy: "Halted" } }, { resourceVersion: "5" }))
      )
      assert.strictEqual(seen[0]!.method, "PATCH")
      assert.strictEqual(seen[0]!.contentType, "application/merge-patch+json")
      assert.deepStrictEqual(seen[0]!.body, { spec: { runStrategy: "Halted" }, metadata: { resourceVersion: "5" } })
      assert.strictEqual(result.reason._tag, "Conflict")
      assert.isTrue(result.isRetryable)
    })
  )

  it.live("apply: server-side apply content type, fieldManager and force", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        () => ({ status: 200, body: vm }),
        (api) => api.apply(vmRef, vm, { fieldManager: "kubevirt-operator", force: true })
      )
      assert.strictEqual(seen[0]!.contentType, "application/apply-patch+yaml")
      assert.strictEqual(seen[0]!.url.searchParams.get("fieldManager"), "kubevirt-operator")
      assert.strictEqual(seen[0]!.url.searchParams.get("force"), "true")
      assert.strictEqual((seen[0]!.body as typeof vm).metadata.resourceVersion, "5", "apply keeps the precondition")
      assert.strictEqual(result.metadata.name, "vm-a")
    })
  )

  it.live("delete: preconditions in DeleteOptions; a Status is Deleted, an object being finalized is Finalizing", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        (req) =>
          req.url.pathname.endsWith("/gone")
            ? { status: 200, body: { kind: "Status", apiVersion: "v1", status: "Success" } }
            : {
                status: 200,
                body: {
                  ...vm,
                  metadata: { ...vm.metadata, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["x/y"] }
                }
              },
        (api) =>
          Effect.all([
            api.delete(refOf("VirtualMachine", "gone", "team-a"), { uid: "u-9", resourceVersion: "3" }),
            api.delete(vmRef, { propagationPolicy: "Foreground" })
          ])
      )
      assert.strictEqual(result[0]._tag, "Deleted")
      assert.strictEqual(result[1]._tag, "Finalizing")
      assert.strictEqual(seen[0]!.method, "DELETE")
      assert.deepStrictEqual(seen[0]!.body, {
        apiVersion: "v1",
        kind: "DeleteOptions",
        preconditions: { uid: "u-9", resourceVersion: "3" }
      })
      assert.deepStrictEqual(seen[1]!.body, {
        apiVersion: "v1",
        kind: "DeleteOptions",
        propagationPolicy: "Foreground"
      })
    })
  )

  it.live("updateStatus: JSON patch on /status that pins the resourceVersion and replaces status", () =>
    Effect.gen(function* () {
      const { seen } = yield* withFake(
        () => ({ status: 200, body: { ...vm, status: { ready: true } } }),
        (api) => api.updateStatus(vmRef, { ready: true }, { resourceVersion: "5" })
      )
      assert.strictEqual(seen[0]!.url.pathname, "/apis/kubevirt.io/v1/namespaces/team-a/virtualmachines/vm-a/status")
      assert.strictEqual(seen[0]!.contentType, "application/json-patch+json")
      assert.deepStrictEqual(seen[0]!.body, [
        { op: "replace", path: "/metadata/resourceVersion", value: "5" },
        { op: "add", path: "/status", value: { ready: true } }
      ])
    })
  )

  it.live("watch: streams events with query parameters, ends when the server closes", () =>
    Effect.gen(function* () {
      const cm = (name: string, rv: string) => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: "ns", resourceVersion: rv }
      })
      const { result, seen } = yield* withFake(
        () => [
          { type: "ADDED", object: cm("a", "11") },
          { type: "MODIFIED", object: cm("a", "12") },
          { type: "BOOKMARK", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { resourceVersion: "13" } } },
          { type: "DELETED", object: cm("a", "14") }
        ],
        (api) =>
          api
            .watch(
              { apiVersion: "v1", kind: "ConfigMap" },
              {
                namespace: "ns",
                resourceVersion: "10",
                allowBookmarks: true,
                labelSelector: { app: "x" }
              }
            )
            .pipe(Stream.runCollect)
      )
      const events = [...result]
      assert.deepStrictEqual(
        events.map((e) => e.type),
        ["ADDED", "MODIFIED", "BOOKMARK", "DELETED"]
      )
      assert.strictEqual(events[2]!.object.metadata.resourceVersion, "13")
      const query = seen[0]!.url.searchParams
      assert.strictEqual(seen[0]!.url.pathname, "/api/v1/namespaces/ns/configmaps")
      assert.strictEqual(query.get("watch"), "true")
      assert.strictEqual(query.get("resourceVersion"), "10")
      assert.strictEqual(query.get("allowWatchBookmarks"), "true")
      assert.strictEqual(query.get("labelSelector"), "app=x")
    })
  )

  it.live("watch: an ERROR event with 410 Expired fails the stream with Gone", () =>
    Effect.gen(function* () {
      const { result } = yield* withFake(
        () => [{ type: "ERROR", object: status(410, "Expired", "too old resource version: 1 (500)") }],
        (api) =>
          Effect.flip(Stream.runDrain(api.watch({ apiVersion: "v1", kind: "ConfigMap" }, { resourceVersion: "1" })))
      )
      assert.strictEqual(result.reason._tag, "Gone")
      assert.include(result.message, "cannot watch ConfigMap in all namespaces: too old resource version")
    })
  )

  it.live("watch: a non-200 answer maps by status code", () =>
    Effect.gen(function* () {
      const { result } = yield* withFake(
        () => ({ status: 403, body: status(403, "Forbidden", "no") }),
        (api) => Effect.flip(Stream.runDrain(api.watch({ apiVersion: "v1", kind: "ConfigMap" })))
      )
      assert.strictEqual(result.reason._tag, "Forbidden")
    })
  )

  it.live("watch: a line that is not a JSON event fails the stream (nothing is skipped silently)", () =>
    Effect.gen(function* () {
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns", resourceVersion: "2" } }
      const { result } = yield* withFake(
        () => [{ type: "ADDED", object: cm }, "{not json", { type: "MODIFIED", object: cm }],
        (api) =>
          Effect.result(
            api.watch({ apiVersion: "v1", kind: "ConfigMap" }).pipe(
              Stream.runFold(
                () => 0,
                (n) => n + 1
              )
            )
          )
      )
      assert.isTrue(result._tag === "Failure")
      if (result._tag === "Failure") assert.include(result.failure.message, "malformed watch event")
    })
  )

  it.live("watch: silence longer than watchIdleTimeout ends the stream normally, after the events sent", () =>
    Effect.gen(function* () {
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns", resourceVersion: "2" } }
      const { result } = yield* withFake(
        () => ({ silentAfter: [{ type: "ADDED", object: cm }] }),
        (api) => Stream.runCollect(api.watch({ apiVersion: "v1", kind: "ConfigMap" })),
        { watchIdleTimeout: "300 millis" }
      )
      assert.deepStrictEqual(
        [...result].map((e) => [e.type, e.object.metadata.name]),
        [["ADDED", "a"]]
      )
    })
  )

  it.live(
    "watch: no response within requestTimeout is a Timeout (a dead connection is not waited on for minutes)",
    () =>
      Effect.gen(function* () {
        const { result } = yield* withFake(
          () => "hang",
          (api) => Effect.flip(Stream.runDrain(api.watch({ apiVersion: "v1", kind: "ConfigMap" }))),
          { requestTimeout: "300 millis", watchIdleTimeout: "1 hour" }
        )
        assert.strictEqual(result.reason._tag, "Timeout")
        assert.isTrue(result.isRetryable)
      })
  )

  it.live("watch: a last event without a trailing newline is not lost", () =>
    Effect.gen(function* () {
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns", resourceVersion: "2" } }
      const { result } = yield* withFake(
        () => ({ status: 200, body: JSON.stringify({ type: "ADDED", object: cm }) }),
        (api) => Stream.runCollect(api.watch({ apiVersion: "v1", kind: "ConfigMap" }))
      )
      assert.deepStrictEqual(
        [...result].map((e) => e.type),
        ["ADDED"]
      )
    })
  )

  it.live("a user with username and password authenticates with Basic auth", () =>
    Effect.gen(function* () {
      const fake = yield* fakeApiserver(() => ({ status: 200, body: vm }))
      yield* Effect.gen(function* () {
        return yield* (yield* KubeApi).get(vmRef)
      }).pipe(
        Effect.provide(
          layerLive(kubeconfigFor(fake.port, "username: alice\n    password: s3cret"), { allowInsecure: true })
        )
      )
      assert.strictEqual(fake.seen[0]!.authorization, `Basic ${Buffer.from("alice:s3cret").toString("base64")}`)
    })
  )

  it.live("requests one after another share kept-alive connections (not one connection per request)", () =>
    Effect.gen(function* () {
      const { result, connections } = yield* withFake(
        () => ({ status: 200, body: vm }),
        (api) => Effect.forEach(Array.from({ length: 20 }), () => api.get(vmRef))
      )
      assert.strictEqual(result.length, 20)
      // One, or two when the next request is sent in the tick before the first connection is free again.
      assert.isAtMost(connections, 2)
    })
  )

  it.live("a cluster behind a proxy-url is reached through the proxy, every request", () =>
    Effect.gen(function* () {
      const fake = yield* fakeApiserver(() => ({ status: 200, body: vm }))
      const proxy = yield* forwardProxy
      const kubeconfig = kubeconfigFor(fake.port).replace(
        "    insecure-skip-tls-verify: true\n",
        `    insecure-skip-tls-verify: true\n    proxy-url: http://127.0.0.1:${proxy.port}\n`
      )
      const got = yield* Effect.gen(function* () {
        const api = yield* KubeApi
        return yield* Effect.forEach([1, 2, 3], () => api.get(vmRef))
      }).pipe(Effect.provide(layerLive(kubeconfig, { allowInsecure: true })))
      assert.deepStrictEqual(
        got.map((o) => Option.map(o, (vm) => vm.metadata.name)),
        [Option.some("vm-a"), Option.some("vm-a"), Option.some("vm-a")]
      )
      const url = `http://127.0.0.1:${fake.port}/apis/kubevirt.io/v1/namespaces/team-a/virtualmachines/vm-a`
      assert.deepStrictEqual(
        proxy.forwarded,
        [1, 2, 3].map(() => ({ url, authorization: `Bearer ${TOKEN}` }))
      )
      assert.strictEqual(fake.seen.length, 3)
    })
  )

  it.live("5xx and 429 map to retryable reasons, with Retry-After", () =>
    Effect.gen(function* () {
      const { result } = yield* withFake(
        (req) =>
          req.url.pathname.endsWith("/busy")
            ? { status: 429, headers: { "retry-after": "2" }, body: status(429, "TooManyRequests", "slow down") }
            : { status: 503, body: "upstream unavailable" },
        (api) => Effect.all([Effect.flip(api.get(cmRef("busy"))), Effect.flip(api.get(cmRef("down")))])
      )
      const [busy, down] = result
      assert.instanceOf(busy.reason, TooManyRequests)
      assert.deepStrictEqual((busy.reason as TooManyRequests).retryAfter, Duration.seconds(2))
      assert.strictEqual(down.reason._tag, "ServerError")
      assert.isTrue(busy.isRetryable && down.isRetryable)
      assert.notInclude(busy.message + down.message, TOKEN)
    })
  )

  it.live("a request that outlives requestTimeout is a Timeout", () =>
    Effect.gen(function* () {
      const { result } = yield* withFake(
        () => "hang",
        (api) => Effect.flip(api.get(cmRef("slow"))),
        {
          requestTimeout: Duration.millis(200)
        }
      )
      assert.strictEqual(result.reason._tag, "Timeout")
      assert.isTrue(result.isRetryable)
    })
  )

  it.live("an unreachable server is a Transport failure that names no credential", () =>
    Effect.gen(function* () {
      const fake = yield* fakeApiserver(() => ({ status: 200 }))
      const port = fake.port
      fake.close()
      const error = yield* Effect.flip(
        Effect.flatMap(KubeApi, (api) => api.get(cmRef("x"))).pipe(
          Effect.provide(layerLive(kubeconfigFor(port), { allowInsecure: true }))
        )
      )
      assert.strictEqual(error._tag, "KubeApiError")
      if (error._tag === "KubeApiError") {
        assert.strictEqual(error.reason._tag, "Transport")
        assert.notInclude(error.message, TOKEN)
      }
    })
  )

  it.live("refuses kinds missing from the KindTable and namespaced refs without namespace, before any request", () =>
    Effect.gen(function* () {
      const { result, seen } = yield* withFake(
        () => ({ status: 200, body: vm }),
        (api) =>
          Effect.all([
            Effect.flip(
              api.get(ObjectRef.make({ apiVersion: "example.com/v1", kind: "Widget", namespace: "a", name: "w" }))
            ),
            Effect.flip(api.get(refOf("VirtualMachine", "vm-a")))
          ])
      )
      assert.strictEqual(result[0].reason._tag, "NotFound")
      assert.strictEqual(result[1].reason._tag, "Invalid")
      assert.deepStrictEqual(seen, [])
    })
  )

  it.live(
    "list in pages: each page after the last's continue token; an expired token (410) lists everything at once",
    () =>
      Effect.gen(function* () {
        const cm = (name: string) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, namespace: "ns", resourceVersion: "9" }
        })
        const all = ["a", "b", "c", "d", "e"].map(cm)
        const { result, seen } = yield* withFake(
          (req) => {
            const limit = req.url.searchParams.get("limit")
            const token = req.url.searchParams.get("continue")
            if (limit === null)
              return { status: 200, body: { kind: "ConfigMapList", metadata: { resourceVersion: "12" }, items: all } }
            if (token === null)
              return {
                status: 200,
                body: {
                  kind: "ConfigMapList",
                  metadata: { resourceVersion: "9", continue: "t1" },
                  items: all.slice(0, 2)
                }
              }
            // The token has expired by the second page (etcd compacted its revision).
            return { status: 410, body: status(410, "Expired", "The provided continue parameter is too old") }
          },
          (api) => api.list({ apiVersion: "v1", kind: "ConfigMap" }, { namespace: "ns" }),
          { listPageSize: 2 }
        )
        // Every object once, from the whole list, and its resourceVersion.
        assert.deepStrictEqual(
          result.items.map((o) => o.metadata.name),
          ["a", "b", "c", "d", "e"]
        )
        assert.strictEqual(result.resourceVersion, "12")
        assert.deepStrictEqual(
          seen.map((r) => [r.url.searchParams.get("limit"), r.url.searchParams.get("continue")]),
          [
            ["2", null],
            ["2", "t1"],
            [null, null]
          ]
        )
      })
  )
})
