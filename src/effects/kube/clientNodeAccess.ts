/**
 * Kubeconfigs a person hands over (`--kubeconfig FILE`): their own machine's configuration, so file references,
 * OIDC and (with `allowExecAuth`) exec plugins work as with kubectl, through `@kubernetes/client-node`. It is imported
 * on demand: an operator in a pod (in-cluster access, Secret kubeconfigs) never loads it. Also used for an `exec`
 * user of a Secret's kubeconfig when exec auth is allowed, after that document passed the strict checks. Effects
 * layer (cluster service); the only importer of `@kubernetes/client-node`.
 */
import { readFile } from "node:fs/promises"
import type { KubeConfig } from "@kubernetes/client-node"
import { Effect, Predicate, Result } from "effect"
import { manifestLimits, parseYamlDocument } from "../boundedYaml.ts"
import type { ClusterAccess, Credentials } from "./ClusterAccess.ts"
import { ExecAuthRejected, invalidKubeconfig, KubeconfigError } from "./KubeconfigError.ts"

export interface KubeconfigFileOptions {
  /** Permit users with `exec` or `auth-provider`. Default false. */
  readonly allowExecAuth?: boolean | undefined
  /** Use this context instead of `current-context`. */
  readonly context?: string | undefined
}

const firstLine = (e: unknown): string => {
  const message = Predicate.isObject(e) && "message" in e && Predicate.isString(e.message) ? e.message : "unknown error"
  return message.split("\n")[0]!.slice(0, 200)
}

/** client-node's per-request view of the current user and cluster (token files and exec tokens are re-read). */
const credentialsOf = async (kc: KubeConfig): Promise<Credentials> => {
  const opts: {
    headers?: Record<string, unknown>
    auth?: string
    ca?: Buffer
    cert?: Buffer
    key?: Buffer
    rejectUnauthorized?: boolean
    servername?: string
  } = {}
  await kc.applyToHTTPSOptions(opts)
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v)
  if (opts.auth !== undefined) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`
  const { ca, cert, key, rejectUnauthorized, servername } = opts
  return { headers, tls: { ca, cert, key, rejectUnauthorized, servername } }
}

/** A client-node configuration of `yamlText` (trusted: a person's file, or an already checked Secret). */
export const clientNodeAccess = (
  yamlText: string,
  context: string | undefined
): Effect.Effect<ClusterAccess, KubeconfigError> =>
  Effect.flatMap(
    Effect.promise(() => import("@kubernetes/client-node")),
    ({ KubeConfig }) =>
      Effect.suspend(() => {
        const kc = new KubeConfig()
        try {
          kc.loadFromString(yamlText, { onInvalidEntry: "throw" })
        } catch (e) {
          return Effect.fail(invalidKubeconfig(firstLine(e)))
        }
        if (context !== undefined) {
          if (kc.getContextObject(context) === null)
            return Effect.fail(invalidKubeconfig(`context "${context}" not found`))
          kc.setCurrentContext(context)
        }
        const contextName = kc.getCurrentContext()
        if (!contextName || kc.getContextObject(contextName) === null)
          return Effect.fail(
            invalidKubeconfig(contextName ? `current context "${contextName}" not found` : "no current-context")
          )
        const cluster = kc.getCurrentCluster()
        if (cluster === null || !cluster.server)
          return Effect.fail(invalidKubeconfig(`context "${contextName}" has no cluster with a server URL`))
        if (kc.getCurrentUser() === null) return Effect.fail(invalidKubeconfig(`context "${contextName}" has no user`))
        const proxy = cluster.proxyUrl
        if (proxy !== undefined && proxy !== "") {
          const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(proxy)?.[1]?.toLowerCase()
          if (scheme === undefined || !["http", "https", "socks5", "socks"].includes(scheme))
            return Effect.fail(
              invalidKubeconfig(
                `cluster "${cluster.name}": proxy-url scheme ${scheme === undefined ? "(none)" : `'${scheme}'`} is not supported (http, https, socks5)`
              )
            )
        }
        return Effect.succeed({
          server: cluster.server.replace(/\/+$/, ""),
          proxyUrl: proxy === "" ? undefined : proxy,
          credentials: () => credentialsOf(kc)
        })
      })
  )

/** Refuses exec/auth-provider users of a person's kubeconfig unless allowed (as for Secrets). */
const checkExecUsers = (yamlText: string, options: KubeconfigFileOptions): KubeconfigError | undefined => {
  if (options.allowExecAuth === true) return undefined
  const parsed = parseYamlDocument(yamlText, manifestLimits)
  if (Result.isFailure(parsed)) return invalidKubeconfig(`not valid YAML: ${parsed.failure.message}`)
  const users = Predicate.isObject(parsed.success) ? (parsed.success as Record<string, unknown>).users : undefined
  for (const [i, entry] of (Array.isArray(users) ? users : []).entries()) {
    const user = Predicate.isObject(entry) ? (entry as Record<string, unknown>).user : undefined
    for (const field of ["exec", "auth-provider"] as const)
      if (Predicate.isObject(user) && (user as Record<string, unknown>)[field] != null) {
        const name = Predicate.isString((entry as Record<string, unknown>).name)
          ? ` ("${String((entry as Record<string, unknown>).name)}")`
          : ""
        return new KubeconfigError({ reason: new ExecAuthRejected({ path: `users[${i}]${name}.user`, field }) })
      }
  }
  return undefined
}

/** A person's kubeconfig file. */
export const loadKubeconfigFile = (
  path: string,
  options: KubeconfigFileOptions = {}
): Effect.Effect<ClusterAccess, KubeconfigError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => invalidKubeconfig(`cannot read kubeconfig ${path}: ${firstLine(e)}`)
  }).pipe(
    Effect.flatMap((yamlText) => {
      const refused = checkExecUsers(yamlText, options)
      return refused === undefined ? clientNodeAccess(yamlText, options.context) : Effect.fail(refused)
    })
  )
