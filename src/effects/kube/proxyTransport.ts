/**
 * The transport of a cluster reached through its kubeconfig's `proxy-url` (HTTP(S), or SOCKS5): undici's
 * `ProxyAgent`, HTTP/1.1 (ADR 0006). undici is imported at the first request of such a cluster and never otherwise:
 * it costs about 23 MiB of RSS more than Node's own HTTP client (its parser is WebAssembly), so an operator whose
 * clusters need no proxy never loads it (ADR 0017, "Memory diet"). Effects layer (cluster service); the only importer
 * of `undici`.
 */
import type { Dispatcher } from "undici"
import type { ClusterAccess } from "./ClusterAccess.ts"
import { definedTls, flatHeaders, KEEP_ALIVE_IDLE_MILLIS, type KubeTransport, requestHeaders } from "./transport.ts"

/** A cluster's transport through `proxyUrl`. TLS material is taken once, at the first request. */
export const makeProxyTransport = (access: ClusterAccess, proxyUrl: string): KubeTransport => {
  const server = access.server.replace(/\/+$/, "")
  let undici: Promise<{ dispatcher: Dispatcher; request: typeof import("undici").request }> | undefined
  const prepare = async () => {
    const credentials = await access.credentials()
    undici ??= import("undici").then(({ ProxyAgent, request }) => {
      return {
        dispatcher: new ProxyAgent({
          keepAliveTimeout: KEEP_ALIVE_IDLE_MILLIS,
          allowH2: false,
          uri: proxyUrl,
          requestTls: definedTls(credentials.tls)
        }),
        request
      }
    })
    const { dispatcher, request } = await undici
    return {
      dispatcher,
      request,
      headers: requestHeaders(credentials)
    }
  }
  return {
    send: async (req) => {
      const { dispatcher, request, headers } = await prepare()
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
      const { dispatcher, request, headers } = await prepare()
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
