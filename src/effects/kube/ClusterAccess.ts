/**
 * How a live client reaches one API server: its URL, an optional proxy, and the credentials of each request (headers
 * and TLS material). Made by the three loaders (a Secret's self-contained kubeconfig, the pod's service account, a
 * person's kubeconfig file) and read only by the transport. Effects layer (cluster service).
 */

/** TLS material in the shape Node's TLS connector (and undici's) takes: PEM strings or buffers. */
export interface ClusterTls {
  readonly ca?: string | Buffer | undefined
  readonly cert?: string | Buffer | undefined
  readonly key?: string | Buffer | undefined
  readonly rejectUnauthorized?: boolean | undefined
  readonly servername?: string | undefined
}

export interface Credentials {
  /** Sent with every request (Authorization, Impersonate-User). */
  readonly headers: Readonly<Record<string, string>>
  /** Used once, for the client's connection pool: later changes of TLS material need a new client. */
  readonly tls: ClusterTls
}

export interface ClusterAccess {
  /** `scheme://host[:port][/path]`, without a trailing slash. */
  readonly server: string
  /** HTTP(S) or SOCKS5 proxy to reach the server through. */
  readonly proxyUrl?: string | undefined
  /** Called before each request: a rotated service-account token or an exec plugin's token is picked up. */
  readonly credentials: () => Promise<Credentials>
}

/** Credentials that never change (a Secret's kubeconfig: a new Secret makes a new client). */
export const fixedCredentials =
  (credentials: Credentials): ClusterAccess["credentials"] =>
  () =>
    Promise.resolve(credentials)
