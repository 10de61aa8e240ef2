/**
 * What-if switch of the operator benchmark, off by default: with BENCH_REUSE_CONNECTIONS=1 (inherited by the
 * bench/rss.ts child), every KubeConfig reuses one undici dispatcher per cluster and user instead of the new one
 * `applySecurityAuthentication` makes for every request (client-node 2.0.1), so requests share keep-alive TLS
 * connections. It patches the library in this process only, to measure what connection reuse would change; the
 * operator's code is untouched. Import it before any client is built. Not a test.
 */
import { KubeConfig } from "@kubernetes/client-node"

export const reuseConnections = process.env.BENCH_REUSE_CONNECTIONS === "1"

/** Appended to row labels when the what-if is on. */
export const variantLabel = reuseConnections ? " [what-if: connections reused]" : ""

type CreateDispatcher = (this: KubeConfig, cluster: unknown, agentOptions: unknown) => unknown

if (reuseConnections) {
  const proto = KubeConfig.prototype as unknown as { createDispatcher: CreateDispatcher }
  const original = proto.createDispatcher
  const cache = new WeakMap<KubeConfig, Map<string, unknown>>()
  proto.createDispatcher = function (cluster, agentOptions) {
    const c = cluster as { readonly name?: string; readonly server?: string } | null
    const key = JSON.stringify([c?.name, c?.server, this.getCurrentUser()?.name])
    let perConfig = cache.get(this)
    if (perConfig === undefined) {
      perConfig = new Map()
      cache.set(this, perConfig)
    }
    if (!perConfig.has(key)) perConfig.set(key, original.call(this, cluster, agentOptions))
    return perConfig.get(key)
  }
}
