/**
 * How a live client reaches its API server: HTTP/1.1 on kept-alive connections that every request and watch of
 * the client shares, with the credentials of the KubeConfig applied per request (a token file is re-read as
 * client-node does). HTTP/2 stays off (ADR 0006): Node 24's HTTP/2 binding corrupts memory under stream resets,
 * which killed the process with a native `std::bad_alloc`; one TLS connection per request (client-node's own
 * dispatcher per call) cost more than half of the time of a request. Effects layer (cluster service); with
 * kubeconfig.ts the only importer of `@kubernetes/client-node`, and the only importer of `undici`.
 */
import type { KubeConfig } from "@kubernetes/client-node"
import { Agent, type Dispatcher, ProxyAgent, request } from "undici"

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE"

export interface TransportRequest {
  readonly method: HttpMethod
  /** Path and query, e.g. `/api/v1/namespaces?labelSelector=a%3Db`. */
  readonly path: string
  readonly contentType?: string | undefined
  readonly body?: string | undefined
  readonly signal: AbortSignal
}

export interface TransportResponse<B> {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: B
}

export interface KubeTransport {
  /** One request; the whole body is read as text. */
  readonly send: (req: TransportRequest) => Promise<TransportResponse<string>>
  /** A streaming GET (a watch); the caller consumes the body or destroys it. No body deadline. */
  readonly open: (
    req: Omit<TransportRequest, "method" | "body" | "contentType">
  ) => Promise<TransportResponse<Dispatcher.ResponseData["body"]>>
}

/** Idle connections are closed after this (below the apiserver's own idle timeout, so the server rarely races). */
export const KEEP_ALIVE_IDLE_MILLIS = 30_000

const USER_AGENT = "kubevirt-operator"

interface Credentials {
  readonly headers: Readonly<Record<string, string>>
  readonly tls: {
    readonly ca?: unknown
    readonly cert?: unknown
    readonly key?: unknown
    readonly pfx?: unknown
    readonly passphrase?: unknown
    readonly rejectUnauthorized?: boolean
    readonly servername?: string
  }
}

/** client-node's per-request view of the current user and cluster: headers to send and TLS material. */
const credentialsOf = async (kc: KubeConfig): Promise<Credentials> => {
  const opts: {
    headers?: Record<string, unknown>
    auth?: string
    ca?: unknown
    cert?: unknown
    key?: unknown
    pfx?: unknown
    passphrase?: unknown
    rejectUnauthorized?: boolean
    servername?: string
  } = {}
  await kc.applyToHTTPSOptions(opts)
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v)
  if (opts.auth !== undefined) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = opts
  return {
    headers,
    tls: {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(pfx === undefined ? {} : { pfx }),
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      ...(servername === undefined ? {} : { servername })
    }
  }
}

/** One HTTP/1.1 dispatcher for the cluster: direct, or through the cluster's `proxy-url` (HTTP(S) or SOCKS). */
const dispatcherFor = (kc: KubeConfig, tls: Credentials["tls"]): Dispatcher => {
  const options = kc.createDispatcherOptions(kc.getCurrentCluster(), tls as never)
  const keepAlive = { keepAliveTimeout: KEEP_ALIVE_IDLE_MILLIS, allowH2: false }
  // client-node's option types (node:tls) differ from undici's only in how optional fields are spelled.
  switch (options.type) {
    case "agent":
      return new Agent({ ...keepAlive, connect: options.connect as NonNullable<Agent.Options["connect"]> })
    case "none":
      return new Agent(keepAlive)
    case "proxy":
    case "socks":
      return new ProxyAgent({
        ...keepAlive,
        uri: options.uri,
        requestTls: options.requestTls as NonNullable<ProxyAgent.Options["requestTls"]>
      })
  }
}

const flatHeaders = (headers: Readonly<Record<string, string | Array<string> | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v
  return out
}

/**
 * The transport of one KubeConfig's current context. TLS material is read once, at the first request. A client
 * dropped for a rotated kubeconfig needs no closing: its idle connections close after KEEP_ALIVE_IDLE_MILLIS.
 */
export const makeTransport = (kc: KubeConfig): KubeTransport => {
  const server = (kc.getCurrentCluster()?.server ?? "").replace(/\/+$/, "")
  let dispatcher: Dispatcher | undefined
  const prepare = async () => {
    const credentials = await credentialsOf(kc)
    dispatcher ??= dispatcherFor(kc, credentials.tls)
    return {
      dispatcher,
      headers: { ...credentials.headers, Accept: "application/json", "User-Agent": USER_AGENT }
    }
  }
  return {
    send: async (req) => {
      const { dispatcher, headers } = await prepare()
      const response = await request(server + req.path, {
        method: req.method,
        headers: req.contentType === undefined ? headers : { ...headers, "Content-Type": req.contentType },
        body: req.body ?? null,
        signal: req.signal,
        dispatcher
      })
      return { status: response.statusCode, headers: flatHeaders(response.headers), body: await response.body.text() }
    },
    open: async (req) => {
      const { dispatcher, headers } = await prepare()
      const response = await request(server + req.path, {
        method: "GET",
        headers,
        signal: req.signal,
        dispatcher,
        bodyTimeout: 0
      })
      return { status: response.statusCode, headers: flatHeaders(response.headers), body: response.body }
    }
  }
}
