/**
 * The transport of a cluster reached directly: Node's own HTTP client (`node:https`, or `node:http` for a plain
 * `http://` server, which only `allowInsecureRemotes` admits). One keep-alive `Agent` per client, HTTP/1.1 only
 * (ALPN offers nothing else, ADR 0006); idle connections close after KEEP_ALIVE_IDLE_MILLIS. Node's parser is native,
 * so this costs about 4 MiB of RSS where undici costs 27 (ADR 0017, "Memory diet"). Effects layer (cluster service).
 */
import type * as Http from "node:http"
import { text } from "node:stream/consumers"
import type { ClusterAccess, ClusterTls } from "./ClusterAccess.ts"
import {
  definedTls,
  flatHeaders,
  KEEP_ALIVE_IDLE_MILLIS,
  type KubeTransport,
  requestHeaders,
  type StreamingBody,
  TCP_KEEP_ALIVE_MILLIS,
  type TransportRequest
} from "./transport.ts"

// Not `import`: an ES import of node:http evaluates all its lazy exports, `WebSocket` among them, which loads Node's own
// copy of undici (about 13 MiB of RSS); getBuiltinModule returns the module as `require` does (ADR 0017).
const http = process.getBuiltinModule("node:http")
const https = process.getBuiltinModule("node:https")

/** The client's connection pool; `timeout` closes a connection that sits idle in it (not one in use). */
const agentFor = (secure: boolean, tls: ClusterTls): Http.Agent => {
  const keepAlive = { keepAlive: true, keepAliveMsecs: TCP_KEEP_ALIVE_MILLIS, timeout: KEEP_ALIVE_IDLE_MILLIS }
  if (!secure) return new http.Agent(keepAlive)
  return new https.Agent({ ...keepAlive, ...definedTls(tls), ALPNProtocols: ["http/1.1"] })
}

/** A request aborted by its signal fails with the signal's reason (a deadline's `TimeoutError`), as undici's do. */
const reasonOf = (signal: AbortSignal, cause: unknown): unknown => (signal.aborted ? signal.reason : cause)

/** The transport of one cluster. TLS material is taken once, at the first request. */
export const makeHttpsTransport = (access: ClusterAccess): KubeTransport => {
  const server = access.server.replace(/\/+$/, "")
  const secure = new URL(server).protocol === "https:"
  const client = secure ? https : http
  let agent: Http.Agent | undefined

  /** Sends the request and resolves with the response head; its body is the caller's to read or destroy. */
  const exchange = async (req: TransportRequest) => {
    const credentials = await access.credentials()
    agent ??= agentFor(secure, credentials.tls)
    const headers = requestHeaders(credentials)
    if (req.contentType !== undefined) headers["Content-Type"] = req.contentType
    // Node frames a DELETE's body only with an explicit length (it sends DELETE without chunked encoding).
    if (req.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(req.body))
    const pool = agent
    return new Promise<Http.IncomingMessage>((resolve, reject) => {
      const request = client.request(server + req.path, {
        method: req.method,
        headers,
        agent: pool,
        signal: req.signal
      })
      request.on("error", (cause) => reject(reasonOf(req.signal, cause)))
      request.on("response", (response) => {
        // Errors after the head reach whoever reads the body; this listener only keeps one unread from ending the process.
        response.on("error", () => {})
        resolve(response)
      })
      request.end(req.body)
    })
  }

  return {
    send: async (req) => {
      const response = await exchange(req)
      try {
        return { status: response.statusCode ?? 0, headers: flatHeaders(response.headers), body: await text(response) }
      } catch (cause) {
        throw reasonOf(req.signal, cause)
      }
    },
    open: async (req) => {
      const response = await exchange({ ...req, method: "GET" })
      const body: StreamingBody = {
        [Symbol.asyncIterator]: async function* () {
          try {
            yield* response
          } catch (cause) {
            throw reasonOf(req.signal, cause)
          }
        },
        text: () => text(response).catch((cause) => Promise.reject(reasonOf(req.signal, cause))),
        destroy: () => response.destroy()
      }
      return { status: response.statusCode ?? 0, headers: flatHeaders(response.headers), body }
    }
  }
}
