/**
 * Loads a kubeconfig (YAML text, e.g. from a KubevirtConfig's Secret) into a client-node `KubeConfig`,
 * after refusing users with `exec`/`auth-provider` and entries with local file references unless allowed.
 * Effects layer (cluster service); with transport.ts (and liveApi.ts, for the type) the only importers of
 * `@kubernetes/client-node`.
 */
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Option, Predicate, Schema } from "effect"
import { parse as parseYaml } from "yaml"
import { ExecAuthRejected, FileReferenceRejected, InvalidKubeconfig, KubeconfigError } from "./KubeconfigError.ts"

export interface KubeconfigOptions {
  /** Permit users with `exec` or `auth-provider` (they run code in the operator). Default false. */
  readonly allowExecAuth?: boolean | undefined
  /** Permit `tokenFile`, `client-certificate`, `client-key`, `certificate-authority` paths. Default false. */
  readonly allowFileReferences?: boolean | undefined
  /** Use this context instead of `current-context`. */
  readonly context?: string | undefined
}

const NamedEntries = (field: string) =>
  Schema.optional(
    Schema.NullOr(
      Schema.Array(
        Schema.Struct({
          name: Schema.String,
          [field]: Schema.optional(Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)))
        })
      )
    )
  )

const RawKubeconfig = Schema.Struct({
  users: NamedEntries("user"),
  clusters: NamedEntries("cluster")
})

const invalid = (detail: string) => new KubeconfigError({ reason: new InvalidKubeconfig({ detail }) })

const userFileFields = ["tokenFile", "client-certificate", "client-key"] as const
const clusterFileFields = ["certificate-authority"] as const

const present = (record: Readonly<Record<string, unknown>> | null | undefined, field: string): boolean =>
  record !== null && record !== undefined && record[field] !== undefined && record[field] !== null

/**
 * Checks the raw document. Every user is checked, not only the current context's: the context can be
 * switched, and a Secret carrying an exec user is suspicious either way.
 */
export const checkKubeconfig = (yamlText: string, options: KubeconfigOptions = {}): Option.Option<KubeconfigError> => {
  let doc: unknown
  try {
    doc = parseYaml(yamlText)
  } catch (e) {
    // The parser's message quotes the offending line, which may hold a token: report the position only.
    const pos = Predicate.isObject(e) && "linePos" in e && Array.isArray(e.linePos) ? e.linePos[0] : undefined
    const where = Predicate.isObject(pos) && "line" in pos ? ` (line ${String(pos.line)})` : ""
    return Option.some(invalid(`not valid YAML${where}`))
  }
  const raw = Schema.decodeUnknownOption(RawKubeconfig)(doc)
  if (Option.isNone(raw)) return Option.some(invalid("not a kubeconfig document (users/clusters malformed)"))
  for (const entry of raw.value.users ?? []) {
    const user = entry.user as Readonly<Record<string, unknown>> | null | undefined
    if (options.allowExecAuth !== true) {
      for (const field of ["exec", "auth-provider"] as const) {
        if (present(user, field)) {
          return Option.some(new KubeconfigError({ reason: new ExecAuthRejected({ user: entry.name, field }) }))
        }
      }
    }
    if (options.allowFileReferences !== true) {
      for (const field of userFileFields) {
        if (present(user, field)) {
          return Option.some(
            new KubeconfigError({ reason: new FileReferenceRejected({ entry: "user", name: entry.name, field }) })
          )
        }
      }
    }
  }
  if (options.allowFileReferences !== true) {
    for (const entry of raw.value.clusters ?? []) {
      const cluster = entry.cluster as Readonly<Record<string, unknown>> | null | undefined
      for (const field of clusterFileFields) {
        if (present(cluster, field)) {
          return Option.some(
            new KubeconfigError({ reason: new FileReferenceRejected({ entry: "cluster", name: entry.name, field }) })
          )
        }
      }
    }
  }
  return Option.none()
}

const firstLine = (e: unknown): string => {
  const message = Predicate.isObject(e) && "message" in e && Predicate.isString(e.message) ? e.message : "unknown error"
  return message.split("\n")[0]!.slice(0, 200)
}

/** A client-node `KubeConfig` for the document, or the reason it is refused. */
export const loadKubeconfig = (
  yamlText: string,
  options: KubeconfigOptions = {}
): Effect.Effect<KubeConfig, KubeconfigError> =>
  Effect.suspend(() => {
    const refused = checkKubeconfig(yamlText, options)
    if (Option.isSome(refused)) return Effect.fail(refused.value)
    const kc = new KubeConfig()
    try {
      kc.loadFromString(yamlText, { onInvalidEntry: "throw" })
    } catch (e) {
      return Effect.fail(invalid(firstLine(e)))
    }
    if (options.context !== undefined) {
      if (kc.getContextObject(options.context) === null) {
        return Effect.fail(invalid(`context "${options.context}" not found`))
      }
      kc.setCurrentContext(options.context)
    }
    const contextName = kc.getCurrentContext()
    if (!contextName || kc.getContextObject(contextName) === null) {
      return Effect.fail(invalid(contextName ? `current context "${contextName}" not found` : "no current-context"))
    }
    const cluster = kc.getCurrentCluster()
    if (cluster === null || !cluster.server) {
      return Effect.fail(invalid(`context "${contextName}" has no cluster with a server URL`))
    }
    if (kc.getCurrentUser() === null) {
      return Effect.fail(invalid(`context "${contextName}" has no user`))
    }
    // The transport (transport.ts) proxies through undici: HTTP(S) proxies and SOCKS5 (socks5:// or socks://).
    if (cluster.proxyUrl !== undefined && cluster.proxyUrl !== "") {
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(cluster.proxyUrl)?.[1]?.toLowerCase()
      if (scheme === undefined || !["http", "https", "socks5", "socks"].includes(scheme))
        return Effect.fail(
          invalid(
            `cluster "${cluster.name}": proxy-url scheme ${scheme === undefined ? "(none)" : `'${scheme}'`} is not supported (http, https, socks5)`
          )
        )
    }
    return Effect.succeed(kc)
  })

/** The pod's own service-account configuration (trusted: it comes from the operator's environment). */
export const loadInClusterKubeconfig: Effect.Effect<KubeConfig, KubeconfigError> = Effect.suspend(() => {
  const kc = new KubeConfig()
  try {
    kc.loadFromCluster()
  } catch (e) {
    return Effect.fail(invalid(`in-cluster configuration unavailable: ${firstLine(e)}`))
  }
  return kc.getCurrentCluster()?.server
    ? Effect.succeed(kc)
    : Effect.fail(invalid("in-cluster configuration has no server"))
})
