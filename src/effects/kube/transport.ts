/**
 * How a live client reaches its API server: HTTP/1.1 on kept-alive connections that every request and watch of
 * the client shares, with the credentials of its ClusterAccess applied per request. HTTP/2 stays off (ADR 0006):
 * Node 24's HTTP/2 binding corrupts memory under stream resets, which killed the process with a native
 * `std::bad_alloc`; one TLS connection per request cost more than half of the time of a request. Effects layer
 * (cluster service); the only importer of `undici`.
 */
import { Agent, type Dispatcher, ProxyAgent, request } from "undici"
import type { ClusterAccess, ClusterTls } from "./ClusterAccess.ts"

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

/** One HTTP/1.1 dispatcher for the cluster: direct, or through its proxy (HTTP(S), or SOCKS5 by undici). */
const dispatcherFor = (proxyUrl: string | undefined, tls: ClusterTls): Dispatcher => {
  const keepAlive = { keepAliveTimeout: KEEP_ALIVE_IDLE_MILLIS, allowH2: false }
  const defined = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined))
  if (proxyUrl !== undefined) return new ProxyAgent({ ...keepAlive, uri: proxyUrl, requestTls: defined })
  // TCP keep-alive probes after 30 s idle, as client-go does (below common load-balancer idle timeouts).
  return new Agent({ ...keepAlive, connect: { ...defined, keepAlive: true, keepAliveInitialDelay: 30_000 } })
}

const flatHeaders = (headers: Readonly<Record<string, string | Array<string> | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v
  return out
}

/**
 * The transport of one cluster. TLS material is taken once, at the first request. A client dropped for a rotated
 * kubeconfig needs no closing: its idle connections close after KEEP_ALIVE_IDLE_MILLIS.
 */
export const makeTransport = (access: ClusterAccess): KubeTransport => {
  const server = access.server.replace(/\/+$/, "")
  let dispatcher: Dispatcher | undefined
  const prepare = async () => {
    const credentials = await access.credentials()
    dispatcher ??= dispatcherFor(access.proxyUrl, credentials.tls)
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
