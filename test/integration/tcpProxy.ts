/**
 * A TCP endpoint on 127.0.0.1 a test controls, put in front of a remote apiserver in a KubevirtConfig's kubeconfig
 * (TLS passes through untouched: the remote's serving certificate is for 127.0.0.1, so any port on it verifies).
 * Modes:
 * - `forward`: every connection is piped to `target` (host:port);
 * - `blackHole`: connections are accepted and never answered (TLS handshakes and requests hang until the client gives
 *   up); with no target, a cluster that never answers;
 * - `refuse`: connections are closed as soon as they arrive.
 * `cut(mode)` switches mode and drops every open connection (a broken network: watches end, requests fail).
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net"

export type ProxyMode = "forward" | "blackHole" | "refuse"

export interface TcpProxy {
  /** https://127.0.0.1:PORT */
  readonly url: string
  /** Connections accepted since the start (in any mode). */
  readonly accepted: () => number
  /** Client connections open now. */
  readonly open: () => number
  /** Switches the mode for new connections; with `drop`, also destroys every open one. */
  readonly setMode: (mode: ProxyMode, drop?: boolean) => void
  readonly close: () => Promise<void>
}

export const startTcpProxy = async (mode: ProxyMode, target?: string): Promise<TcpProxy> => {
  let current = mode
  let accepted = 0
  const clients = new Set<Socket>()
  const upstreams = new Set<Socket>()
  const track = (set: Set<Socket>, s: Socket) => {
    set.add(s)
    s.on("error", () => {})
    s.on("close", () => set.delete(s))
  }
  const server: Server = createServer((client) => {
    accepted++
    track(clients, client)
    if (current === "refuse") {
      client.destroy()
      return
    }
    if (current === "blackHole" || target === undefined) return
    const { hostname, port } = new URL(target.includes("://") ? target : `tcp://${target}`)
    const upstream = connect(Number(port), hostname)
    track(upstreams, upstream)
    upstream.on("close", () => client.destroy())
    client.on("close", () => upstream.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const drop = () => {
    for (const s of [...clients, ...upstreams]) s.destroy()
  }
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    open: () => clients.size,
    setMode: (m, dropOpen = false) => {
      current = m
      if (dropOpen) drop()
    },
    close: async () => {
      drop()
      await new Promise((r) => server.close(r))
    }
  }
}
