/**
 * The probe and metrics endpoint of every replica (leader or standby): `/healthz`, `/readyz` and `/metrics` on one
 * `node:http` server, as a scoped resource that listens on acquire and closes on release. Runtime layer.
 * Checks follow controller-runtime's healthz contract: a check succeeds, or fails with the reason; an endpoint
 * answers 200 when every check passes and 503 listing the failures otherwise; `/<endpoint>/<check>` runs one.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Context, Duration, Effect, Exit, FiberSet, Layer, Option, Result, Schema, type Scope } from "effect"
import { Metrics } from "./Metrics.ts"
import { contentType as metricsContentType } from "./MetricsRegistry.ts"

/** A named probe: succeeds when healthy, fails with the reason otherwise. */
export interface HealthCheck<R = never> {
  readonly name: string
  readonly check: Effect.Effect<void, string, R>
}

/** A check from a boolean: healthy while `isHealthy` is true, else failing with `reason`. */
export const booleanCheck = <R>(name: string, isHealthy: Effect.Effect<boolean, never, R>, reason: string) =>
  ({
    name,
    check: Effect.flatMap(isHealthy, (ok) => (ok ? Effect.void : Effect.fail(reason)))
  }) satisfies HealthCheck<R>

export interface HealthServerOptions<R = never> {
  /** Interface to bind; omitted: every interface (IPv6 `::` when available, else `0.0.0.0`). */
  readonly host?: string | undefined
  /** TCP port; 0 picks a free one (read it from the result). Default 8080 (deploy/deployment.yaml's `http`). */
  readonly port?: number | undefined
  /**
   * `/healthz`: the process is alive. A built-in `ping` check always passes while the server and the Effect
   * runtime answer, so with no checks here, `/healthz` is 200 for as long as the process loop runs.
   */
  readonly liveness?: ReadonlyArray<HealthCheck<R>> | undefined
  /** `/readyz`: the replica can do its work (caches synced, supervisor reachable). 503 while any fails. */
  readonly readiness?: ReadonlyArray<HealthCheck<R>> | undefined
  /** `/metrics` body in text format 0.0.4; omitted: `/metrics` is 404. */
  readonly metrics?: Effect.Effect<string, never, R> | undefined
  /** A check that has not answered after this long fails with "timed out". Default 5 s (kubelet waits 1 s). */
  readonly checkTimeout?: Duration.Input | undefined
}

/** Where the server listens. `port` is the bound one (useful with port 0). */
export interface BoundAddress {
  readonly host: string
  readonly port: number
}

/** The server could not listen (port in use, permission, bad address). */
export class HealthServerError extends Schema.TaggedError<HealthServerError>()("HealthServerError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

export const DEFAULT_PORT = 8080

/**
 * Parses a controller-runtime style bind address (`--health-bind-address`): `:8080` (every interface),
 * `127.0.0.1:8080`, `[::1]:8080`. Port 0 picks a free port.
 */
export const parseBindAddress = (
  address: string
): Result.Result<{ readonly host: string | undefined; readonly port: number }, HealthServerError> => {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address.trim())
  const port = match === null ? Number.NaN : Number(match[3])
  if (match === null || port > 65535) {
    return Result.fail(
      new HealthServerError({ message: `invalid bind address '${address}': expected [host]:port, e.g. ':8080'` })
    )
  }
  const host = match[1] ?? match[2]
  return Result.succeed({ host: host === "" || host === undefined ? undefined : host, port })
}

const ping: HealthCheck = { name: "ping", check: Effect.void }

interface Reply {
  readonly status: number
  readonly body: string
  readonly headers?: Readonly<Record<string, string>>
}

const text = (status: number, body: string, headers: Readonly<Record<string, string>> = {}): Reply => ({
  status,
  body,
  headers: { "content-type": "text/plain; charset=utf-8", ...headers }
})

/** Runs one check within the timeout; a defect or a timeout is a failure with a readable reason. */
const runCheck = <R>(c: HealthCheck<R>, timeout: Duration.Duration): Effect.Effect<string | undefined, never, R> =>
  c.check.pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.fail(`timed out after ${Duration.format(timeout)}`)
    }),
    Effect.exit,
    Effect.map((exit) => {
      if (Exit.isSuccess(exit)) return undefined
      const reason = Exit.findErrorOption(exit)
      return Option.isSome(reason) ? reason.value : `check died: ${Cause.squash(exit.cause)}`
    })
  )

/**
 * The healthz contract: `/<endpoint>` runs every check not excluded (`?exclude=name`, repeatable) concurrently;
 * 200 "ok" when all pass (`?verbose` lists them), else 503 with `[+]name ok` / `[-]name failed: reason` lines.
 * `/<endpoint>/<name>` runs one check (404 when unknown).
 */
const endpoint = <R>(
  label: string,
  checks: ReadonlyArray<HealthCheck<R>>,
  timeout: Duration.Duration,
  rest: string,
  query: URLSearchParams
): Effect.Effect<Reply, never, R> =>
  Effect.gen(function* () {
    if (rest !== "") {
      const one = checks.find((c) => c.name === rest)
      if (one === undefined) return text(404, `no ${label} check named '${rest}'\n`)
      const failure = yield* runCheck(one, timeout)
      return failure === undefined ? text(200, "ok") : text(503, `[-]${one.name} failed: ${failure}\n`)
    }
    const excluded = new Set(query.getAll("exclude"))
    const selected = checks.filter((c) => !excluded.has(c.name))
    const results = yield* Effect.forEach(selected, (c) => runCheck(c, timeout), { concurrency: "unbounded" })
    const failed = results.some((r) => r !== undefined)
    if (!failed && !query.has("verbose")) return text(200, "ok")
    const lines = selected.map((c, i) =>
      results[i] === undefined ? `[+]${c.name} ok` : `[-]${c.name} failed: ${results[i]}`
    )
    const excludedLines = [...excluded].map((name) => `[~]${name} excluded`)
    return text(
      failed ? 503 : 200,
      `${[...lines, ...excludedLines, `${label} check ${failed ? "failed" : "passed"}`].join("\n")}\n`
    )
  })

const route = <R>(options: HealthServerOptions<R>, method: string, url: string): Effect.Effect<Reply, never, R> => {
  if (method !== "GET" && method !== "HEAD")
    return Effect.succeed(text(405, "method not allowed\n", { allow: "GET, HEAD" }))
  const parsed = new URL(url, "http://probe.invalid")
  const timeout = Duration.fromInputUnsafe(options.checkTimeout ?? "5 seconds")
  const [, first = "", ...rest] = parsed.pathname.split("/")
  const sub = rest.join("/")
  switch (first) {
    case "healthz":
      return endpoint("healthz", [ping, ...(options.liveness ?? [])], timeout, sub, parsed.searchParams)
    case "readyz":
      return endpoint("readyz", [ping, ...(options.readiness ?? [])], timeout, sub, parsed.searchParams)
    case "metrics":
      if (sub === "" && options.metrics !== undefined) {
        return Effect.map(options.metrics, (body) => ({
          status: 200,
          body,
          headers: { "content-type": metricsContentType }
        }))
      }
  }
  return Effect.succeed(text(404, "not found\n"))
}

const write = (req: IncomingMessage, res: ServerResponse, reply: Reply): void => {
  res.writeHead(reply.status, {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...reply.headers
  })
  res.end(req.method === "HEAD" ? undefined : reply.body)
}

const listen = (
  server: Server,
  host: string | undefined,
  port: number
): Effect.Effect<BoundAddress, HealthServerError> =>
  Effect.callback<BoundAddress, HealthServerError>((resume) => {
    const where = `${host ?? "*"}:${port}`
    const onError = (cause: Error & { readonly code?: string }) =>
      resume(
        Effect.fail(
          new HealthServerError({ message: `cannot listen on ${where}: ${cause.code ?? cause.message}`, cause })
        )
      )
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      const address = server.address() as AddressInfo
      resume(Effect.succeed({ host: address.address, port: address.port }))
    })
    return Effect.sync(() => server.close())
  })

const close = (server: Server): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    server.close(() => resume(Effect.void))
    // Keep-alive connections (kubelet, Prometheus) would otherwise hold close() open until they time out.
    server.closeAllConnections()
  })

/**
 * Starts the server; it closes when the scope closes (in-flight requests are interrupted and their connections
 * dropped). Fails with `HealthServerError` when it cannot listen.
 */
export const serve = <R = never>(
  options: HealthServerOptions<R> = {}
): Effect.Effect<BoundAddress, HealthServerError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const run = yield* FiberSet.makeRuntime<R, void, never>()
    // Not an ES import of node:http: that evaluates its lazy `WebSocket` export, which loads Node's own undici (about
    // 13 MiB of RSS); getBuiltinModule returns the module as `require` does (ADR 0017).
    const server = process.getBuiltinModule("node:http").createServer()
    const bound = yield* Effect.acquireRelease(listen(server, options.host, options.port ?? DEFAULT_PORT), () =>
      close(server)
    )
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      run(Effect.map(route(options, req.method ?? "GET", req.url ?? "/"), (reply) => write(req, res, reply)))
    })
    yield* Effect.logDebug(`health server listening on ${bound.host}:${bound.port}`)
    return bound
  })

/** The running health server of this replica. */
export class HealthServer extends Context.Service<HealthServer, BoundAddress>()(
  "kubevirt-operator/runtime/HealthServer"
) {
  /**
   * Serves `/healthz`, `/readyz` and the `Metrics` registry at `/metrics` for the lifetime of the layer.
   * Every replica runs it, leader or not: readiness must not depend on leadership, or a rolling update
   * would wait forever for a standby to become Ready.
   */
  static readonly layer = <R = never>(
    options: Omit<HealthServerOptions<R>, "metrics"> = {}
  ): Layer.Layer<HealthServer, HealthServerError, Metrics | R> =>
    Layer.effect(
      HealthServer,
      Effect.gen(function* () {
        const metrics = yield* Metrics
        return yield* serve<R>({ ...options, metrics: metrics.expose })
      })
    )
}
