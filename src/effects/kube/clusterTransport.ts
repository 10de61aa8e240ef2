/**
 * Which transport a cluster's live client uses: through undici's proxy agent when its kubeconfig names a
 * `proxy-url`, else Node's own HTTP client (ADR 0006, ADR 0017). Effects layer (cluster service).
 */
import type { ClusterAccess } from "./ClusterAccess.ts"
import { makeHttpsTransport } from "./httpsTransport.ts"
import { makeProxyTransport } from "./proxyTransport.ts"
import type { KubeTransport } from "./transport.ts"

export const makeTransport = (access: ClusterAccess): KubeTransport =>
  access.proxyUrl === undefined ? makeHttpsTransport(access) : makeProxyTransport(access, access.proxyUrl)
