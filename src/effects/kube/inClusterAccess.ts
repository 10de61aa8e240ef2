/**
 * The pod's own service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, the CA and the projected token under
 * `/var/run/secrets/kubernetes.io/serviceaccount`. The token is re-read at most once a minute, as client-go does,
 * so the kubelet's rotation of bound tokens is picked up. Trusted configuration (the operator's own environment),
 * read without `@kubernetes/client-node`. Effects layer (cluster service).
 */
import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import type { ClusterAccess } from "./ClusterAccess.ts"
import { invalidKubeconfig, type KubeconfigError } from "./KubeconfigError.ts"

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
const TOKEN_REFRESH_MILLIS = 60_000

export interface InClusterOptions {
  /** Where the service account is mounted (tests). */
  readonly serviceAccountDir?: string | undefined
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

export const loadInClusterAccess = (options: InClusterOptions = {}): Effect.Effect<ClusterAccess, KubeconfigError> =>
  Effect.gen(function* () {
    const env = options.env ?? process.env
    const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR
    const host = env.KUBERNETES_SERVICE_HOST
    const port = env.KUBERNETES_SERVICE_PORT
    if (host === undefined || host === "" || port === undefined || port === "")
      return yield* invalidKubeconfig(
        "in-cluster configuration unavailable: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"
      )
    const read = (file: string) =>
      Effect.tryPromise({
        try: () => readFile(`${dir}/${file}`, "utf8"),
        catch: () =>
          invalidKubeconfig(`in-cluster configuration unavailable: cannot read the service account's ${file}`)
      })
    const ca = yield* read("ca.crt")
    let token = yield* read("token")
    let readAt = Date.now()
    const currentToken = async () => {
      if (Date.now() - readAt >= TOKEN_REFRESH_MILLIS) {
        // A failed re-read keeps the last token: the apiserver answers 401 once it has really expired.
        token = await readFile(`${dir}/token`, "utf8").catch(() => token)
        readAt = Date.now()
      }
      return token.trim()
    }
    return {
      server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
      credentials: async () => ({
        headers: { Authorization: `Bearer ${await currentToken()}` },
        tls: { ca, rejectUnauthorized: true }
      })
    }
  })
