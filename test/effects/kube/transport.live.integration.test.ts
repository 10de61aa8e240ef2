/**
 * The live client's connections to a real kube-apiserver, which offers HTTP/2 by ALPN: every connection is
 * HTTP/1.1 (ADR 0006), and requests reuse kept-alive connections instead of opening one each. Observed through
 * Node's `http.client.*` diagnostics channels (the socket each response came on). Integration tier only.
 */
import diagnostics from "node:diagnostics_channel"
import type { Socket } from "node:net"
import type { TLSSocket } from "node:tls"
import { Effect, Fiber, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../../src/effects/KubeApi.ts"
import { makeLiveApiFromKubeconfigFile } from "../../../src/effects/kube/liveApi.ts"

const cluster = inject("clusters").supervisor
const port = new URL(cluster.server).port

interface Connected {
  readonly alpn: string | false | null | undefined
}
/** The distinct connections responses to the cluster came on, in order. */
const sockets = new Set<Socket>()
const connections: Array<Connected> = []
const onResponse = (message: unknown) => {
  const socket = (message as { request?: { socket?: Socket | null } }).request?.socket
  if (socket === undefined || socket === null || String(socket.remotePort) !== port || sockets.has(socket)) return
  sockets.add(socket)
  connections.push({ alpn: (socket as TLSSocket).alpnProtocol })
}

let api: KubeApiService
beforeAll(async () => {
  diagnostics.subscribe("http.client.response.finish", onResponse)
  api = await Effect.runPromise(makeLiveApiFromKubeconfigFile(cluster.adminKubeconfig))
})
afterAll(() => {
  diagnostics.unsubscribe("http.client.response.finish", onResponse)
})

describe("live client transport on a real kube-apiserver", () => {
  it("speaks HTTP/1.1 and reuses connections: 30 requests one after another open at most 2", async () => {
    connections.length = 0
    sockets.clear()
    for (let i = 0; i < 30; i++) await Effect.runPromise(api.get(refOf("Namespace", "default")))
    expect(connections.length).toBeGreaterThan(0)
    expect(connections.length).toBeLessThanOrEqual(2)
    expect(connections.map((c) => c.alpn)).toEqual(connections.map(() => "http/1.1"))
  })

  it("lists in pages: 7 ConfigMaps in pages of 2 come back whole, each once, with the list's resourceVersion", async () => {
    const ns = `paging-${Math.random().toString(36).slice(2, 7)}`
    const paged = await Effect.runPromise(makeLiveApiFromKubeconfigFile(cluster.adminKubeconfig, { listPageSize: 2 }))
    await Effect.runPromise(
      api.create(refOf("Namespace", ns), { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    )
    const names = Array.from({ length: 7 }, (_, i) => `cm-${i}`)
    for (const name of names)
      await Effect.runPromise(
        api.create(refOf("ConfigMap", name, ns), {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, namespace: ns },
          data: { i: name }
        } as never)
      )
    const requests: Array<string> = []
    const onRequest = (message: unknown) => {
      const r = (message as { request?: { path?: string } }).request
      if (r?.path?.includes(`/namespaces/${ns}/configmaps`) === true) requests.push(r.path)
    }
    diagnostics.subscribe("http.client.request.start", onRequest)
    try {
      const listed = await Effect.runPromise(paged.list({ apiVersion: "v1", kind: "ConfigMap" }, { namespace: ns }))
      const whole = await Effect.runPromise(api.list({ apiVersion: "v1", kind: "ConfigMap" }, { namespace: ns }))
      const ours = (items: ReadonlyArray<{ metadata: { name: string } }>) =>
        items.map((o) => o.metadata.name).filter((n) => n.startsWith("cm-"))
      expect(ours(listed.items)).toEqual(names)
      expect(listed.items.length).toBe(whole.items.length)
      expect(listed.resourceVersion).not.toBe("")
      // Four pages of at most 2 (7 ConfigMaps, and the namespace's kube-root-ca.crt), each after the last's token.
      expect(requests.filter((p) => p.includes("limit=2")).length).toBeGreaterThanOrEqual(4)
      expect(requests.filter((p) => p.includes("continue=")).length).toBeGreaterThanOrEqual(3)
    } finally {
      diagnostics.unsubscribe("http.client.request.start", onRequest)
    }
  })

  it("a watch gets its own HTTP/1.1 connection, and requests go on beside it", async () => {
    connections.length = 0
    sockets.clear()
    const watching = Effect.runFork(
      Stream.runCollect(Stream.take(api.watch({ apiVersion: "v1", kind: "Namespace" }), 1))
    )
    const first = await Effect.runPromise(Fiber.join(watching))
    expect([...first][0]?.type).toBe("ADDED")
    for (let i = 0; i < 5; i++) await Effect.runPromise(api.list({ apiVersion: "v1", kind: "Namespace" }))
    // The watch ended before its response did, so its connection was closed: the lists needed a new one.
    expect(connections.length).toBeGreaterThan(0)
    expect(connections.length).toBeLessThanOrEqual(3)
    expect(connections.map((c) => c.alpn)).toEqual(connections.map(() => "http/1.1"))
  })
})
