/**
 * How a live client reaches its API server: what a request and a response are, whichever way the connection goes
 * (`httpsTransport.ts` directly, `proxyTransport.ts` through a proxy; `clusterTransport.ts` picks one per cluster).
 * HTTP/1.1 on kept-alive connections that every request and watch of the client shares, with the credentials of its
 * ClusterAccess applied per request. HTTP/2 stays off (ADR 0006). Effects layer (cluster service).
 */

import type { ClusterTls, Credentials } from "./ClusterAccess.ts"

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE"

export interface TransportRequest {
  readonly method: HttpMethod
  /** Path and query, e.g. `/api/v1/namespaces?labelSelector=a%3Db`. */
  readonly path: string
  readonly contentType?: string | undefined
  readonly body?: string | undefined
  /** Aborts the request; a request aborted this way fails with the signal's reason (e.g. a `TimeoutError`). */
  readonly signal: AbortSignal
}

export interface TransportResponse<B> {
  readonly status: number
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: B
}

/** A streaming response body: consumed as bytes, or read whole as text; destroying it closes its connection. */
export interface StreamingBody extends AsyncIterable<Uint8Array> {
  readonly text: () => Promise<string>
  readonly destroy: () => unknown
}

export interface KubeTransport {
  /** One request; the whole body is read as text. */
  readonly send: (req: TransportRequest) => Promise<TransportResponse<string>>
  /** A streaming GET (a watch); the caller consumes the body or destroys it. No body deadline. */
  readonly open: (
    req: Omit<TransportRequest, "method" | "body" | "contentType">
  ) => Promise<TransportResponse<StreamingBody>>
}

/**
 * Idle connections are closed after this (below the apiserver's own idle timeout, so the server rarely races). A client
 * dropped for a rotated kubeconfig therefore needs no closing.
 */
export const KEEP_ALIVE_IDLE_MILLIS = 30_000

/** TCP keep-alive probes start after this much silence on a connection, as client-go does. */
export const TCP_KEEP_ALIVE_MILLIS = 30_000

const USER_AGENT = "kubevirt-operator"

/** The headers of every request: the credentials' (Authorization, Impersonate-User) and what the client accepts. */
export const requestHeaders = (credentials: Credentials): Record<string, string> => ({
  ...credentials.headers,
  Accept: "application/json",
  "User-Agent": USER_AGENT
})

/** The TLS options that are set (a connector treats a key present as undefined differently from one absent). */
export const definedTls = (tls: ClusterTls): Partial<ClusterTls> =>
  Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined))

/** Headers flattened to one string each (Node and undici both give arrays for repeated headers). */
export const flatHeaders = (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = typeof v === "string" ? v : v.join(", ")
  return out
}
