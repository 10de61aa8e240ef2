/**
 * Kubeconfigs from Secrets (a KubevirtConfig's `kubeconfig` key): untrusted, so self-contained by rule. The document
 * is parsed with limits (boundedYaml.ts) and decided by an allow-list of fields: every cluster, user and context is
 * checked, not only the current one; a field that names a local file is refused in every spelling; `exec` and
 * `auth-provider` (code) only with `allowExecAuth`; plain `http://` and `insecure-skip-tls-verify` only with
 * `allowInsecure`; anything else outside the list is refused by name. No file is read and no process started
 * (`@kubernetes/client-node` is not used, except for an allowed exec user). Effects layer (cluster service).
 */
import { Effect, Option, Predicate, Result, Schema, type SchemaIssue } from "effect"
import { kubeconfigLimits, parseYamlDocument } from "../boundedYaml.ts"
import { type ClusterAccess, type ClusterTls, fixedCredentials } from "./ClusterAccess.ts"
import {
  ExecAuthRejected,
  FileReferenceRejected,
  InsecureConnectionRejected,
  invalidKubeconfig,
  KubeconfigError,
  UnsupportedField
} from "./KubeconfigError.ts"

export interface SecretKubeconfigOptions {
  /** Permit users with `exec` or `auth-provider` (they run code in the operator). Default false. */
  readonly allowExecAuth?: boolean | undefined
  /** Permit `http://` servers and `insecure-skip-tls-verify` (credentials in clear or to anyone). Default false. */
  readonly allowInsecure?: boolean | undefined
  /** Use this context instead of `current-context`. */
  readonly context?: string | undefined
}

/** Fields that name a local file, in every spelling client-node, client-go and kubectl read. */
const FILE_FIELDS: ReadonlySet<string> = new Set([
  "certificate-authority",
  "client-certificate",
  "client-key",
  "token-file",
  "tokenFile",
  "tokenfile"
])
const CODE_FIELDS: ReadonlySet<string> = new Set(["exec", "auth-provider"])

const Text = Schema.optional(Schema.NullOr(Schema.String))
const Flag = Schema.optional(Schema.NullOr(Schema.Boolean))
/** Opaque, ignored data (`extensions`, `preferences`): it can neither name a file nor run anything here. */
const Ignored = Schema.optional(Schema.Unknown)

const ClusterFields = Schema.Struct({
  server: Schema.String,
  "certificate-authority-data": Text,
  "insecure-skip-tls-verify": Flag,
  "tls-server-name": Text,
  "proxy-url": Text,
  "disable-compression": Flag,
  extensions: Ignored
})

const userFields = {
  "client-certificate-data": Text,
  "client-key-data": Text,
  token: Text,
  username: Text,
  password: Text,
  extensions: Ignored
}
const ExecUser = Schema.Struct({
  ...userFields,
  exec: Schema.optional(Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown))),
  "auth-provider": Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        name: Schema.String,
        config: Schema.optional(Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)))
      })
    )
  )
})
/** Without exec auth the same type, minus the two fields (so that they are unexpected keys). */
const PlainUser = Schema.Struct(userFields) as unknown as typeof ExecUser

const ContextFields = Schema.Struct({
  cluster: Schema.String,
  user: Text,
  namespace: Text,
  extensions: Ignored
})

const kubeconfigSchema = (user: typeof ExecUser) =>
  Schema.Struct({
    apiVersion: Text,
    kind: Text,
    preferences: Ignored,
    extensions: Ignored,
    "current-context": Text,
    clusters: Schema.optional(
      Schema.NullOr(Schema.Array(Schema.Struct({ name: Schema.String, cluster: ClusterFields })))
    ),
    users: Schema.optional(
      Schema.NullOr(Schema.Array(Schema.Struct({ name: Schema.String, user: Schema.NullOr(user) })))
    ),
    contexts: Schema.optional(
      Schema.NullOr(Schema.Array(Schema.Struct({ name: Schema.String, context: ContextFields })))
    )
  })
const withExec = kubeconfigSchema(ExecUser)
const withoutExec = kubeconfigSchema(PlainUser)

type Document = typeof withExec.Type
type Cluster = typeof ClusterFields.Type
type User = NonNullable<NonNullable<Document["users"]>[number]["user"]>

interface Leaf {
  readonly path: ReadonlyArray<PropertyKey>
  readonly issue: SchemaIssue.Issue
}

const leaves = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey> = []): Array<Leaf> => {
  switch (issue._tag) {
    case "Pointer":
      return leaves(issue.issue, [...path, ...issue.path])
    case "Composite":
    case "AnyOf":
      return issue.issues.length === 0 ? [{ path, issue }] : issue.issues.flatMap((i) => leaves(i, path))
    case "Filter":
    case "Encoding":
      return leaves(issue.issue, path)
    default:
      return [{ path, issue }]
  }
}

/** `users[1] ("ops").user.token-file`: the section, the entry's index and name, the field; never a value. */
const describePath = (raw: unknown, path: ReadonlyArray<PropertyKey>): string => {
  const [section, index, ...rest] = path
  if (typeof section !== "string") return "(document)"
  if (typeof index !== "number") return [section, index, ...rest].filter((p) => p !== undefined).join(".")
  const list = Predicate.isObject(raw) ? (raw as Record<string, unknown>)[section] : undefined
  const entry = Array.isArray(list) ? list[index] : undefined
  const name = Predicate.isObject(entry) && typeof entry.name === "string" ? ` ("${entry.name.slice(0, 63)}")` : ""
  return [`${section}[${index}]${name}`, ...rest.map(String)].join(".")
}

/** The refusal for one schema issue; security refusals rank before shape errors. */
const refusal = (raw: unknown, leaf: Leaf): { readonly rank: number; readonly error: KubeconfigError } => {
  const path = describePath(raw, leaf.path)
  const key = String(leaf.path[leaf.path.length - 1] ?? "")
  if (leaf.issue._tag === "UnexpectedKey") {
    if (CODE_FIELDS.has(key) && leaf.path.length === 4)
      return {
        rank: 0,
        error: new KubeconfigError({
          reason: new ExecAuthRejected({ path, field: key as "exec" | "auth-provider" })
        })
      }
    if (FILE_FIELDS.has(key))
      return { rank: 0, error: new KubeconfigError({ reason: new FileReferenceRejected({ path }) }) }
    return { rank: 1, error: new KubeconfigError({ reason: new UnsupportedField({ path }) }) }
  }
  const expected = leaf.issue._tag === "MissingKey" ? "is missing" : "has the wrong type"
  return { rank: 2, error: invalidKubeconfig(`${path} ${expected}`) }
}

const fail = (reason: ConstructorParameters<typeof KubeconfigError>[0]["reason"]) =>
  Result.fail(new KubeconfigError({ reason }))

const decodeBase64Pem = (value: string, path: string): Result.Result<Buffer, KubeconfigError> => {
  const compact = value.replace(/\s+/g, "")
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0)
    return Result.fail(invalidKubeconfig(`${path} is not base64`))
  const bytes = Buffer.from(compact, "base64")
  return bytes.includes("-----BEGIN ") ? Result.succeed(bytes) : Result.fail(invalidKubeconfig(`${path} is not PEM`))
}

const PROXY_SCHEMES: ReadonlySet<string> = new Set(["http:", "https:", "socks5:", "socks:"])

/** Checks one cluster entry's connection fields (every entry, so switching context cannot reach a bad one). */
const checkCluster = (
  cluster: Cluster,
  path: string,
  options: SecretKubeconfigOptions
): Result.Result<URL, KubeconfigError> => {
  let url: URL
  try {
    url = new URL(cluster.server)
  } catch {
    return Result.fail(invalidKubeconfig(`${path}.server is not a URL`))
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return Result.fail(invalidKubeconfig(`${path}.server must be https://`))
  if (url.username !== "" || url.password !== "")
    return Result.fail(invalidKubeconfig(`${path}.server must not carry credentials`))
  if (options.allowInsecure !== true) {
    if (url.protocol === "http:") return fail(new InsecureConnectionRejected({ path, field: "server" }))
    if (cluster["insecure-skip-tls-verify"] === true)
      return fail(new InsecureConnectionRejected({ path, field: "insecure-skip-tls-verify" }))
  }
  const proxy = cluster["proxy-url"]
  if (proxy !== undefined && proxy !== null && proxy !== "") {
    let scheme: string | undefined
    try {
      scheme = new URL(proxy).protocol
    } catch {
      scheme = undefined
    }
    if (scheme === undefined || !PROXY_SCHEMES.has(scheme))
      return Result.fail(invalidKubeconfig(`${path}.proxy-url: scheme is not supported (http, https, socks5)`))
  }
  return Result.succeed(url)
}

/** A checked document: which cluster and user the chosen context uses. */
export interface SelectedEntries {
  readonly contextName: string
  readonly cluster: Cluster
  readonly clusterPath: string
  readonly user: User | undefined
  readonly userPath: string
}

/**
 * Parses and checks a Secret's kubeconfig and selects the context's cluster and user. Pure: reads no file, opens no
 * connection. Every refusal names the entry and field and echoes no value.
 */
export const checkSecretKubeconfig = (
  yamlText: string,
  options: SecretKubeconfigOptions = {}
): Result.Result<SelectedEntries, KubeconfigError> => {
  const parsed = parseYamlDocument(yamlText, kubeconfigLimits)
  if (Result.isFailure(parsed)) return Result.fail(invalidKubeconfig(`not valid YAML: ${parsed.failure.message}`))
  const raw = parsed.success
  if (!Predicate.isObject(raw) || Array.isArray(raw)) return Result.fail(invalidKubeconfig("not a kubeconfig document"))
  const decoded = Schema.decodeUnknownResult(options.allowExecAuth === true ? withExec : withoutExec)(raw, {
    onExcessProperty: "error",
    errors: "all"
  })
  if (Result.isFailure(decoded)) {
    const refusals = leaves(decoded.failure.issue).map((leaf) => refusal(raw, leaf))
    refusals.sort((a, b) => a.rank - b.rank)
    return Result.fail(refusals[0]?.error ?? invalidKubeconfig("not a kubeconfig document"))
  }
  const doc = decoded.success
  const clusters = doc.clusters ?? []
  const users = doc.users ?? []
  const contexts = doc.contexts ?? []
  for (const [i, entry] of clusters.entries()) {
    const path = describePath(raw, ["clusters", i, "cluster"])
    const url = checkCluster(entry.cluster, path, options)
    if (Result.isFailure(url)) return Result.fail(url.failure)
    const ca = entry.cluster["certificate-authority-data"]
    if (ca !== undefined && ca !== null) {
      const pem = decodeBase64Pem(ca, `${path}.certificate-authority-data`)
      if (Result.isFailure(pem)) return Result.fail(pem.failure)
    }
  }
  for (const [i, entry] of users.entries()) {
    const path = describePath(raw, ["users", i, "user"])
    const user = entry.user
    if (user === null) continue
    for (const field of ["client-certificate-data", "client-key-data"] as const) {
      const data = user[field]
      if (data !== undefined && data !== null) {
        const pem = decodeBase64Pem(data, `${path}.${field}`)
        if (Result.isFailure(pem)) return Result.fail(pem.failure)
      }
    }
    const hasCert = user["client-certificate-data"] != null
    if (hasCert !== (user["client-key-data"] != null))
      return Result.fail(invalidKubeconfig(`${path}: client-certificate-data and client-key-data go together`))
    const config = user["auth-provider"]?.config
    if (config !== undefined && config !== null)
      for (const key of Object.keys(config))
        if (FILE_FIELDS.has(key))
          return fail(new FileReferenceRejected({ path: `${path}.auth-provider.config.${key}` }))
  }
  const contextName = options.context ?? doc["current-context"] ?? ""
  if (contextName === "") return Result.fail(invalidKubeconfig("no current-context"))
  const context = contexts.find((c) => c.name === contextName)
  if (context === undefined) return Result.fail(invalidKubeconfig(`context "${contextName}" not found`))
  const clusterIndex = clusters.findIndex((c) => c.name === context.context.cluster)
  if (clusterIndex < 0) return Result.fail(invalidKubeconfig(`context "${contextName}" names no existing cluster`))
  const userName = context.context.user ?? ""
  const userIndex = users.findIndex((u) => u.name === userName)
  if (userName !== "" && userIndex < 0)
    return Result.fail(invalidKubeconfig(`context "${contextName}" names no existing user`))
  return Result.succeed({
    contextName,
    cluster: clusters[clusterIndex]!.cluster,
    clusterPath: describePath(raw, ["clusters", clusterIndex, "cluster"]),
    user: userIndex < 0 ? undefined : (users[userIndex]!.user ?? undefined),
    userPath: describePath(raw, ["users", userIndex, "user"])
  })
}

const tlsOf = (cluster: Cluster, user: User | undefined): ClusterTls => {
  const data = (value: string | null | undefined) =>
    value === undefined || value === null ? undefined : Buffer.from(value.replace(/\s+/g, ""), "base64")
  return {
    ca: data(cluster["certificate-authority-data"]),
    cert: data(user?.["client-certificate-data"]),
    key: data(user?.["client-key-data"]),
    rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    servername: cluster["tls-server-name"] ?? undefined
  }
}

const headersOf = (user: User | undefined): Record<string, string> => {
  if (user?.token != null && user.token !== "") return { Authorization: `Bearer ${user.token.trim()}` }
  if (user?.username != null && user.username !== "")
    return {
      Authorization: `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`
    }
  return {}
}

/**
 * The access a Secret's kubeconfig grants. An `exec`/`auth-provider` user (only with `allowExecAuth`) is handed to
 * client-node, loaded on demand, after the same checks.
 */
export const loadSecretKubeconfig = (
  yamlText: string,
  options: SecretKubeconfigOptions = {}
): Effect.Effect<ClusterAccess, KubeconfigError> =>
  Effect.suspend(() => {
    const checked = checkSecretKubeconfig(yamlText, options)
    if (Result.isFailure(checked)) return Effect.fail(checked.failure)
    const { cluster, user, contextName } = checked.success
    if (user?.exec != null || user?.["auth-provider"] != null)
      return Effect.flatMap(
        Effect.promise(() => import("./clientNodeAccess.ts")),
        (m) => m.clientNodeAccess(yamlText, contextName)
      )
    return Effect.succeed({
      server: cluster.server.replace(/\/+$/, ""),
      proxyUrl: Option.getOrUndefined(Option.fromNullishOr(cluster["proxy-url"])) || undefined,
      credentials: fixedCredentials({ headers: headersOf(user), tls: tlsOf(cluster, user) })
    })
  })
