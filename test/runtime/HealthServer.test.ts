/**
 * The health server on 127.0.0.1 with an ephemeral port: each endpoint over real HTTP, readiness flipping with
 * a Ref, the healthz check contract (verbose, exclude, one check), listen failures, and close on scope release.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import {
  booleanCheck,
  HealthServer,
  HealthServerError,
  parseBindAddress,
  serve
} from "../../src/runtime/HealthServer.ts"
import { Metrics } from "../../src/runtime/Metrics.ts"

interface Got {
  readonly status: number
  readonly body: string
  readonly contentType: string | null
}

const get = (port: number, path: string, method = "GET") =>
  Effect.promise(async (): Promise<Got> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method })
    return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") }
  })

const local = { host: "127.0.0.1", port: 0 } as const

describe("HealthServer", () => {
  it.effect("listens on an ephemeral port and serves /healthz, /metrics, 404 and 405", () =>
    Effect.gen(function* () {
      const bound = yield* serve({ ...local, metrics: Effect.succeed("# HELP x X.\n# TYPE x gauge\nx 1\n") })
      assert.strictEqual(bound.host, "127.0.0.1")
      assert.isAbove(bound.port, 0)

      const healthz = yield* get(bound.port, "/healthz")
      assert.deepStrictEqual([healthz.status, healthz.body], [200, "ok"])

      const metrics = yield* get(bound.port, "/metrics")
      assert.strictEqual(metrics.status, 200)
      assert.strictEqual(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8")
      assert.strictEqual(metrics.body, "# HELP x X.\n# TYPE x gauge\nx 1\n")

      assert.strictEqual((yield* get(bound.port, "/")).status, 404)
      assert.strictEqual((yield* get(bound.port, "/metricsz")).status, 404)
      assert.strictEqual((yield* get(bound.port, "/healthz/nope")).status, 404)
      const post = yield* get(bound.port, "/healthz", "POST")
      assert.strictEqual(post.status, 405)
      const head = yield* get(bound.port, "/healthz", "HEAD")
      assert.deepStrictEqual([head.status, head.body], [200, ""])
    }).pipe(Effect.scoped)
  )

  it.effect("/metrics is 404 when no registry is given", () =>
    Effect.gen(function* () {
      const bound = yield* serve(local)
      assert.strictEqual((yield* get(bound.port, "/metrics")).status, 404)
    }).pipe(Effect.scoped)
  )

  it.effect("/readyz is 503 with the reason while the check fails, and 200 once it passes", () =>
    Effect.gen(function* () {
      const synced = yield* Ref.make(false)
      const bound = yield* serve({
        ...local,
        readiness: [booleanCheck("informers-synced", Ref.get(synced), "caches have not synced yet")]
      })
      const before = yield* get(bound.port, "/readyz")
      assert.strictEqual(before.status, 503)
      assert.strictEqual(
        before.body,
        "[+]ping ok\n[-]informers-synced failed: caches have not synced yet\nreadyz check failed\n"
      )
      assert.strictEqual((yield* get(bound.port, "/healthz")).status, 200, "liveness does not follow readiness")

      yield* Ref.set(synced, true)
      const after = yield* get(bound.port, "/readyz")
      assert.deepStrictEqual([after.status, after.body], [200, "ok"])

      yield* Ref.set(synced, false)
      assert.strictEqual((yield* get(bound.port, "/readyz")).status, 503)
    }).pipe(Effect.scoped)
  )

  it.effect("verbose lists every check; exclude skips one; /readyz/<name> runs one", () =>
    Effect.gen(function* () {
      const bound = yield* serve({
        ...local,
        readiness: [
          { name: "supervisor", check: Effect.void },
          { name: "remote-a", check: Effect.fail("connection refused") }
        ]
      })
      const excluded = yield* get(bound.port, "/readyz?exclude=remote-a&verbose")
      assert.strictEqual(excluded.status, 200)
      assert.strictEqual(excluded.body, "[+]ping ok\n[+]supervisor ok\n[~]remote-a excluded\nreadyz check passed\n")
      const one = yield* get(bound.port, "/readyz/supervisor")
      assert.deepStrictEqual([one.status, one.body], [200, "ok"])
      const failing = yield* get(bound.port, "/readyz/remote-a")
      assert.deepStrictEqual([failing.status, failing.body], [503, "[-]remote-a failed: connection refused\n"])
    }).pipe(Effect.scoped)
  )

  it.effect("a failing liveness check turns /healthz to 503; a dying check reports the defect", () =>
    Effect.gen(function* () {
      const bound = yield* serve({
        ...local,
        liveness: [{ name: "loop", check: Effect.die(new Error("worker fiber is gone")) }]
      })
      const healthz = yield* get(bound.port, "/healthz")
      assert.strictEqual(healthz.status, 503)
      assert.include(healthz.body, "[-]loop failed: check died: Error: worker fiber is gone")
    }).pipe(Effect.scoped)
  )

  it.live("a check that hangs fails with a timeout instead of hanging the probe", () =>
    Effect.gen(function* () {
      const bound = yield* serve({
        ...local,
        checkTimeout: "20 millis",
        readiness: [{ name: "stuck", check: Effect.never }]
      })
      const readyz = yield* get(bound.port, "/readyz")
      assert.strictEqual(readyz.status, 503)
      assert.include(readyz.body, "[-]stuck failed: timed out after 20ms")
    }).pipe(Effect.scoped)
  )

  it.effect("closes when the scope closes: the port refuses connections afterwards", () =>
    Effect.gen(function* () {
      const port = yield* Effect.scoped(
        Effect.gen(function* () {
          const bound = yield* serve(local)
          assert.strictEqual((yield* get(bound.port, "/healthz")).status, 200)
          return bound.port
        })
      )
      const after = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          () => "answered",
          () => "refused"
        )
      )
      assert.strictEqual(after, "refused")
    })
  )

  it.effect("fails with HealthServerError when the port is taken", () =>
    Effect.gen(function* () {
      const first = yield* serve(local)
      const error = yield* Effect.flip(serve({ ...local, port: first.port }))
      assert.instanceOf(error, HealthServerError)
      assert.strictEqual(error.message, `cannot listen on 127.0.0.1:${first.port}: EADDRINUSE`)
    }).pipe(Effect.scoped)
  )

  it.effect("HealthServer.layer serves the Metrics registry", () =>
    Effect.gen(function* () {
      const metrics = yield* Metrics
      yield* metrics.leader.set(1)
      const { port } = yield* HealthServer
      const body = (yield* get(port, "/metrics")).body
      assert.include(body.split("\n"), "kubevirt_operator_leader 1")
    }).pipe(Effect.provide(HealthServer.layer(local).pipe(Layer.provideMerge(Metrics.layer))))
  )
})

describe("parseBindAddress", () => {
  it.each([
    { address: ":8080", want: { host: undefined, port: 8080 } },
    { address: "127.0.0.1:9090", want: { host: "127.0.0.1", port: 9090 } },
    { address: "[::1]:8080", want: { host: "::1", port: 8080 } },
    { address: ":0", want: { host: undefined, port: 0 } }
  ])("$address", ({ address, want }) => {
    const result = parseBindAddress(address)
    assert.isTrue(result._tag === "Success")
    assert.deepStrictEqual(result._tag === "Success" ? result.success : undefined, want)
  })

  it.each(["8080", "localhost", ":99999", "::1:8080", ""])("rejects '%s'", (address) => {
    const result = parseBindAddress(address)
    assert.isTrue(result._tag === "Failure" && result.failure instanceof HealthServerError)
  })
})
