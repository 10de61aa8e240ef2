/**
 * Cloud-init payloads: the Go operator's precedence of sources, SSH keys and legacy user data folded in as multipart
 * parts, blocking on a missing source with the field named, and content that never shows outside `Redacted`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import fc from "fast-check"
import {
  cloudInitPayload,
  cloudInitReads,
  renderSummary,
  type SourceValues,
  sourceKeyId
} from "../../src/domain/cloudInitPayload.ts"
import { absent, present, unknown } from "../../src/domain/Fact.ts"
import type { MachineSpec } from "../../src/domain/Machine.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { RUNS } from "../fixtures/arbitraries.ts"

const m = (spec: Partial<MachineSpec>) => aMachine().withSpec(spec).build()
const userdata = (r: ReturnType<typeof cloudInitPayload>) =>
  r._tag === "Ready" ? Redacted.value(r.payload.userdata) : `(${r._tag})`
const secret = (name: string, key: string, value: string): SourceValues => ({
  [sourceKeyId({ kind: "Secret", name, key })]: present(Redacted.make(value))
})

describe("cloudInitPayload", () => {
  it("no cloud-init, no keys, no legacy user data: no payload", () => {
    assert.strictEqual(cloudInitPayload(m({}), {})._tag, "None")
  })

  it("precedence: inline > base64 > Secret > ConfigMap, and only the winner is read", () => {
    const all = {
      userData: "#cloud-config\ninline: 1\n",
      userDataBase64: Buffer.from("#cloud-config\nb64: 1\n").toString("base64"),
      userDataSecretRef: { name: "s" },
      userDataConfigMapRef: { name: "c" }
    }
    assert.strictEqual(userdata(cloudInitPayload(m({ cloudInit: all }), {})), "#cloud-config\ninline: 1\n")
    const { userData: _, ...noInline } = all
    assert.strictEqual(userdata(cloudInitPayload(m({ cloudInit: noInline }), {})), "#cloud-config\nb64: 1\n")
    const { userDataBase64: __, ...refs } = noInline
    assert.deepStrictEqual(cloudInitReads(m({ cloudInit: refs })), [{ kind: "Secret", name: "s", key: "userdata" }])
    assert.strictEqual(
      userdata(cloudInitPayload(m({ cloudInit: refs }), secret("s", "userdata", "#cloud-config\ns: 1\n"))),
      "#cloud-config\ns: 1\n"
    )
    assert.deepStrictEqual(cloudInitReads(m({ cloudInit: { networkDataConfigMapRef: { name: "n", key: "net" } } })), [
      { kind: "ConfigMap", name: "n", key: "net" }
    ])
  })

  it("a missing or unreadable source blocks with a waiting diagnostic naming the field", () => {
    const machine = m({ cloudInit: { userDataSecretRef: { name: "s" } } })
    for (const fact of [absent, unknown("forbidden")]) {
      const r = cloudInitPayload(machine, { [sourceKeyId({ kind: "Secret", name: "s", key: "userdata" })]: fact })
      assert.strictEqual(r._tag, "Blocked")
      assert.deepStrictEqual(
        r.diagnostics.map((d) => [d.severity, d.field]),
        [["Warning", "spec.cloudInit.userDataSecretRef"]]
      )
    }
  })

  it("SSH keys and legacy user data join a cloud-config as multipart parts, keys appended", () => {
    const r = cloudInitPayload(
      m({
        cloudInit: { userData: "#cloud-config\npackages: [nginx]\n" },
        userData: "#!/bin/sh\necho hi\n",
        sshKeys: ["ssh-ed25519 AAAA user@host"]
      }),
      {}
    )
    const text = userdata(r)
    assert.match(text, /^Content-Type: multipart\/mixed; boundary="==vitistack-cloud-init=="/)
    assert.include(text, "Content-Type: text/cloud-config")
    assert.include(text, "Content-Type: text/x-shellscript")
    assert.include(text, 'ssh_authorized_keys:\n  - "ssh-ed25519 AAAA user@host"')
    assert.include(text, "Merge-Type: list(append)")
  })

  it("only SSH keys: a plain cloud-config", () => {
    assert.strictEqual(
      userdata(cloudInitPayload(m({ sshKeys: ["ssh-rsa K"] }), {})),
      '#cloud-config\nssh_authorized_keys:\n  - "ssh-rsa K"\n'
    )
  })

  it("user data cloud-init cannot combine (a Talos config) is passed as it is, with a warning", () => {
    const talos = "version: v1alpha1\nmachine:\n  type: worker\n"
    const r = cloudInitPayload(m({ cloudInit: { userData: talos }, sshKeys: ["ssh-rsa K"] }), {})
    assert.strictEqual(userdata(r), talos)
    assert.deepStrictEqual(
      r.diagnostics.map((d) => [d.reason, d.field]),
      [["CloudInitNotMerged", "spec.sshKeys"]]
    )
  })

  it("configDrive is honoured; another type is an Error naming the field", () => {
    const cd = cloudInitPayload(m({ cloudInit: { type: "configDrive", userData: "#cloud-config\n" } }), {})
    assert.strictEqual(cd._tag === "Ready" ? cd.payload.kind : cd._tag, "ConfigDrive")
    const bad = cloudInitPayload(m({ cloudInit: { type: "floppy", userData: "#cloud-config\n" } }), {})
    assert.deepStrictEqual(
      bad.diagnostics.map((d) => [d.severity, d.field]),
      [["Error", "spec.cloudInit.type"]]
    )
  })

  it("the digest follows the content, and the summary shows a digest prefix and a size", () => {
    const a = cloudInitPayload(m({ cloudInit: { userData: "#cloud-config\na: 1\n" } }), {})
    const b = cloudInitPayload(m({ cloudInit: { userData: "#cloud-config\na: 2\n" } }), {})
    assert.isTrue(a._tag === "Ready" && b._tag === "Ready" && a.payload.digest !== b.payload.digest)
    if (a._tag === "Ready")
      assert.match(renderSummary("userdata", a.payload.summary.userdata), /^userdata=sha256:[0-9a-f]{8} \(19 B\)$/)
  })

  it("property: a secret value never shows in the payload's JSON, text, or diagnostics", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 12 }).filter((s) => s.trim().length >= 12),
        fc.boolean(),
        (value, fromSecret) => {
          const machine = fromSecret
            ? m({ cloudInit: { userDataSecretRef: { name: "s" }, networkData: value }, sshKeys: ["ssh-rsa K"] })
            : m({ cloudInit: { userData: `#cloud-config\n# ${value}\n` } })
          const r = cloudInitPayload(machine, secret("s", "userdata", `#cloud-config\n# ${value}\n`))
          const shown =
            JSON.stringify(r) +
            String(r._tag === "Ready" ? r.payload.userdata : "") +
            `${r._tag === "Ready" ? r.payload.networkdata : ""}`
          assert.notInclude(shown, value)
        }
      ),
      { numRuns: RUNS }
    )
  })
})
