/**
 * A Machine's cloud-init payload (ADR 0010): user data and network data from `spec.cloudInit` with the Go operator's
 * precedence (inline > base64 > Secret > ConfigMap, keys `userdata` / `networkdata` by default), `spec.sshKeys` and
 * the legacy `spec.userData` folded in as parts of a multipart message where the user data is something cloud-init
 * reads, and a digest of the result. Values stay `Redacted`: only digests and sizes are ever shown. Domain layer: pure.
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { Redacted, Result } from "effect"
import { Base64 } from "effect/encoding"
import { advisory, type Diagnostic, error, info, waiting } from "./Diagnostic.ts"
import { absent, type Fact, present } from "./Fact.ts"
import type { KubeObject } from "./KubeObject.ts"
import type { Machine, SourceRef } from "./Machine.ts"
import type { RenderedCloudInit } from "./RenderedCloudInit.ts"

export type CloudInitKind = "NoCloud" | "ConfigDrive"

/** One key of a Secret or ConfigMap in the Machine's namespace on the supervisor. */
export interface SourceKey {
  readonly kind: "Secret" | "ConfigMap"
  readonly name: string
  readonly key: string
}

/** The identity of a source key in `ObservedState` (`Secret/name/key`). */
export const sourceKeyId = (s: SourceKey): string => `${s.kind}/${s.name}/${s.key}`

/** The observed values of the source keys the Machine reads, by `sourceKeyId`. */
export type SourceValues = Readonly<Record<string, Fact<Redacted.Redacted<string>>>>

/** What the plan shows of a content: a digest prefix and a size, never the content. */
export interface ContentSummary {
  readonly digest: string
  readonly bytes: number
}

export interface CloudInitPayload {
  readonly kind: CloudInitKind
  readonly userdata: Redacted.Redacted<string>
  readonly networkdata: Redacted.Redacted<string> | undefined
  /** `sha256:<hex>` over kind, user data and network data: equal digests, equal Secrets. */
  readonly digest: string
  readonly summary: { readonly userdata: ContentSummary; readonly networkdata: ContentSummary | undefined }
}

/** What desired objects need of a payload: never its content. */
export type PayloadSummary = Pick<CloudInitPayload, "kind" | "digest" | "summary">

export type CloudInitResult =
  | { readonly _tag: "None"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Blocked"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Ready"; readonly payload: CloudInitPayload; readonly diagnostics: ReadonlyArray<Diagnostic> }

/** The Secret holds both parts, base64-encoded; a Secret's limit is 1 MiB. */
export const MAX_CLOUD_INIT_BYTES = 512 * 1024

type Part = "user" | "network"

interface Selected {
  readonly field: string
  readonly inline?: string
  readonly base64?: string
  readonly source?: SourceKey
}

const nonEmpty = (s: string | undefined): s is string => s !== undefined && s !== ""

/** The one source that wins for a part, with the field that named it. */
const select = (machine: Machine, part: Part): Selected | undefined => {
  const ci = machine.spec.cloudInit
  if (ci === undefined) return undefined
  const [inline, b64, secret, configMap, key] =
    part === "user"
      ? ([ci.userData, ci.userDataBase64, ci.userDataSecretRef, ci.userDataConfigMapRef, "userdata"] as const)
      : ([
          ci.networkData,
          ci.networkDataBase64,
          ci.networkDataSecretRef,
          ci.networkDataConfigMapRef,
          "networkdata"
        ] as const)
  const prefix = `spec.cloudInit.${part}Data`
  const ref = (kind: SourceKey["kind"], r: SourceRef, field: string): Selected => ({
    field,
    source: { kind, name: r.name, key: nonEmpty(r.key) ? r.key : key }
  })
  if (nonEmpty(inline)) return { field: prefix, inline }
  if (nonEmpty(b64)) return { field: `${prefix}Base64`, base64: b64 }
  if (secret !== undefined) return ref("Secret", secret, `${prefix}SecretRef`)
  if (configMap !== undefined) return ref("ConfigMap", configMap, `${prefix}ConfigMapRef`)
  return undefined
}

/**
 * The supervisor keys the Machine's cloud-init reads: only the sources that win by precedence. The live observer
 * and the offline one both read exactly these.
 */
export const cloudInitReads = (machine: Machine): ReadonlyArray<SourceKey> =>
  (["user", "network"] as const).flatMap((part) => {
    const s = select(machine, part)?.source
    return s === undefined ? [] : [s]
  })

/**
 * The value of a source key in its object (a Secret's `data` is base64; a ConfigMap's `data` is text and its
 * `binaryData` base64), kept Redacted from here on; Absent when the object lacks the key.
 */
export const sourceValue = (o: KubeObject, source: SourceKey): Fact<Redacted.Redacted<string>> => {
  const section = (field: string) => {
    const v = (o as Record<string, unknown>)[field]
    return v !== null && typeof v === "object" ? (v as Record<string, unknown>)[source.key] : undefined
  }
  // A Secret written with stringData (as in files handed to `plan -f`) holds the text as it is.
  const text = source.kind === "ConfigMap" ? section("data") : section("stringData")
  if (typeof text === "string") return present(Redacted.make(text))
  const encoded = source.kind === "Secret" ? section("data") : section("binaryData")
  if (typeof encoded !== "string") return absent
  const decoded = Base64.decodeString(encoded)
  return Result.isSuccess(decoded) ? present(Redacted.make(decoded.success)) : absent
}

/** The sources of a Machine answered from supervisor objects (the offline plan's files, a test's cluster). */
export const cloudInitSourcesFrom = (machine: Machine, objects: ReadonlyArray<KubeObject>): SourceValues =>
  Object.fromEntries(
    cloudInitReads(machine).map((source) => {
      const o = objects.find(
        (x) =>
          x.kind === source.kind &&
          x.metadata.name === source.name &&
          (x.metadata.namespace ?? "default") === machine.metadata.namespace
      )
      return [sourceKeyId(source), o === undefined ? absent : sourceValue(o, source)]
    })
  )

const resolve = (
  machine: Machine,
  selected: Selected | undefined,
  values: SourceValues,
  diags: Array<Diagnostic>
): string | undefined | "blocked" => {
  if (selected === undefined) return undefined
  if (selected.inline !== undefined) return selected.inline
  if (selected.base64 !== undefined) {
    const decoded = Base64.decodeString(selected.base64.replace(/\s+/g, ""))
    if (Result.isSuccess(decoded)) return decoded.success
    diags.push(error("InvalidCloudInit", "is not valid base64", selected.field))
    return "blocked"
  }
  const source = selected.source!
  const where = `${source.kind} ${machine.metadata.namespace}/${source.name}`
  const fact = values[sourceKeyId(source)] ?? { _tag: "Absent" }
  switch (fact._tag) {
    case "Present":
      return Redacted.value(fact.value)
    case "Absent":
      diags.push(
        waiting(
          "CloudInitSourceMissing",
          `waiting for ${where} with key '${source.key}' (on the supervisor, in the Machine's namespace)`,
          selected.field
        )
      )
      return "blocked"
    case "Unknown":
      diags.push(waiting("CloudInitSourceUnknown", `cannot read ${where}: ${fact.reason}`, selected.field))
      return "blocked"
  }
}

/** First lines cloud-init recognises as a part it runs or reads (its user-data formats). */
const PART_TYPES: ReadonlyArray<readonly [string, string]> = [
  ["#cloud-config", "text/cloud-config"],
  ["#!", "text/x-shellscript"],
  ["#include", "text/x-include-url"],
  ["#cloud-boothook", "text/cloud-boothook"],
  ["#part-handler", "text/part-handler"]
]
const partType = (content: string): string | undefined => {
  const head = content.trimStart()
  return PART_TYPES.find(([prefix]) => head.startsWith(prefix))?.[1]
}

/** A cloud-config part holding the SSH keys (JSON strings are valid YAML scalars, so keys need no YAML writer). */
const sshKeysPart = (keys: ReadonlyArray<string>): string =>
  `#cloud-config\nssh_authorized_keys:\n${keys.map((k) => `  - ${JSON.stringify(k.trim())}`).join("\n")}\n`

/**
 * Several parts as one multipart message (cloud-init's own format for combined user data). Later cloud-config parts
 * merge into earlier ones, appending lists (so keys add to the user's `ssh_authorized_keys`). The boundary is fixed
 * (a deterministic payload, a stable digest) unless a part contains it.
 */
const multipart = (
  parts: ReadonlyArray<{ readonly content: string; readonly type: string; readonly name: string }>
) => {
  let boundary = "==vitistack-cloud-init=="
  for (let i = 1; parts.some((p) => p.content.includes(boundary)); i++) boundary = `==vitistack-cloud-init-${i}==`
  const body = parts
    .map(
      (p, i) =>
        `--${boundary}\nContent-Type: ${p.type}; charset="utf-8"\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n` +
        `Content-Disposition: attachment; filename="${p.name}"\n` +
        (i > 0 && p.type === "text/cloud-config"
          ? "Merge-Type: list(append)+dict(recurse_array,no_replace)+str()\n"
          : "") +
        `\n${p.content.endsWith("\n") ? p.content : `${p.content}\n`}`
    )
    .join("")
  return `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\n\n${body}--${boundary}--\n`
}

const HEX = "0123456789abcdef"
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => HEX[b >> 4]! + HEX[b & 15]!).join("")
const utf8 = new TextEncoder()

/** `sha256:<hex>` of a text. */
export const digestOf = (text: string): string => `sha256:${hex(sha256(utf8.encode(text)))}`

const summaryOf = (text: string): ContentSummary => ({
  digest: digestOf(text).slice(0, 15),
  bytes: utf8.encode(text).length
})

/** `userdata=sha256:1a2b3c4d (1.2 KiB)`: how plans, events and logs show a content. */
export const renderSummary = (name: string, s: ContentSummary): string =>
  `${name}=${s.digest} (${s.bytes < 1024 ? `${s.bytes} B` : `${(s.bytes / 1024).toFixed(1)} KiB`})`

/**
 * The payload of a Machine's cloud-init, or why there is none yet. Total: a missing or unreadable source blocks
 * (Warning naming the field, nothing is created until it exists); bad input is an Error naming the field.
 * `generatedNetworkData` (a static address's network-config, ADR 0013) is the network data when the Machine gives
 * none; with it, a Machine without cloud-init gets a payload (user data `#cloud-config`).
 */
export const cloudInitPayload = (
  machine: Machine,
  values: SourceValues,
  generatedNetworkData?: string
): CloudInitResult => {
  const diags: Array<Diagnostic> = []
  const ci = machine.spec.cloudInit
  const keys = (machine.spec.sshKeys ?? []).filter((k) => k.trim() !== "")
  const legacy = nonEmpty(machine.spec.userData) ? machine.spec.userData : undefined
  if (ci === undefined && keys.length === 0 && legacy === undefined && generatedNetworkData === undefined)
    return { _tag: "None", diagnostics: [] }
  const type = ci?.type ?? "noCloud"
  if (type !== "noCloud" && type !== "configDrive")
    diags.push(error("InvalidCloudInit", `type '${type}' is not noCloud or configDrive`, "spec.cloudInit.type"))
  const user = resolve(machine, select(machine, "user"), values, diags)
  const network = resolve(machine, select(machine, "network"), values, diags)
  if (user === "blocked" || network === "blocked" || diags.some((d) => d.severity === "Error"))
    return { _tag: "Blocked", diagnostics: diags }

  const parts: Array<{
    readonly content: string
    readonly type: string
    readonly name: string
    readonly field: string
  }> = []
  const add = (content: string | undefined, name: string, field: string) => {
    if (content === undefined) return
    parts.push({ content, type: partType(content) ?? "", name, field })
  }
  add(user, "user-data", "spec.cloudInit.userData")
  add(legacy, "legacy-user-data", "spec.userData")
  if (keys.length > 0) add(sshKeysPart(keys), "ssh-keys.cfg", "spec.sshKeys")
  let userdata: string
  if (parts.length === 0) userdata = "#cloud-config\n"
  else if (parts.length === 1) userdata = parts[0]!.content
  else {
    const foreign = parts.filter((p) => p.type === "")
    if (foreign.length > 0) {
      // Talos or Ignition configs, a MIME message of the user's own: passed as they are, the rest is left out.
      const kept = parts[0]!
      for (const p of parts.slice(1))
        diags.push(
          advisory(
            "CloudInitNotMerged",
            `${p.field} is not applied: ${foreign.map((f) => f.field).join(" and ")} is not a cloud-config or script cloud-init can combine`,
            p.field
          )
        )
      userdata = kept.content
    } else userdata = multipart(parts)
  }
  const networkdata = network === undefined || network === "" ? generatedNetworkData : network
  const size = utf8.encode(userdata).length + (networkdata === undefined ? 0 : utf8.encode(networkdata).length)
  if (size > MAX_CLOUD_INIT_BYTES) {
    diags.push(
      error(
        "CloudInitTooLarge",
        `user data and network data are ${size} bytes; at most ${MAX_CLOUD_INIT_BYTES} fit the remote Secret`,
        "spec.cloudInit"
      )
    )
    return { _tag: "Blocked", diagnostics: diags }
  }
  const kind: CloudInitKind = type === "configDrive" ? "ConfigDrive" : "NoCloud"
  if (ci === undefined && (keys.length > 0 || legacy !== undefined))
    diags.push(info("CloudInitFromSshKeys", "no spec.cloudInit: the user data holds spec.sshKeys and spec.userData"))
  return {
    _tag: "Ready",
    diagnostics: diags,
    payload: {
      kind,
      userdata: Redacted.make(userdata),
      networkdata: networkdata === undefined ? undefined : Redacted.make(networkdata),
      digest: digestOf(`${kind}\u0000${userdata}\u0000${networkdata ?? ""}`),
      summary: {
        userdata: summaryOf(userdata),
        networkdata: networkdata === undefined ? undefined : summaryOf(networkdata)
      }
    }
  }
}

/** The rendering without content, as a decision trace records it (`RenderedCloudInit.ts`). */
export const renderedOf = (r: CloudInitResult): RenderedCloudInit => ({
  result: r._tag,
  diagnostics: r.diagnostics,
  ...(r._tag !== "Ready"
    ? {}
    : {
        payload: {
          kind: r.payload.kind,
          digest: r.payload.digest,
          userdata: r.payload.summary.userdata,
          ...(r.payload.summary.networkdata === undefined ? {} : { networkdata: r.payload.summary.networkdata })
        }
      })
})

/** A recorded rendering as the planner uses it: the summary of the payload, or why there is none. */
export type CloudInitDecision =
  | { readonly _tag: "None" | "Blocked"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Ready"; readonly payload: PayloadSummary; readonly diagnostics: ReadonlyArray<Diagnostic> }

/** The recorded rendering back in the planner's terms (a Ready record without a payload counts as Blocked). */
export const decisionOf = (r: RenderedCloudInit): CloudInitDecision =>
  r.result === "Ready" && r.payload !== undefined
    ? {
        _tag: "Ready",
        diagnostics: r.diagnostics,
        payload: {
          kind: r.payload.kind,
          digest: r.payload.digest,
          summary: { userdata: r.payload.userdata, networkdata: r.payload.networkdata }
        }
      }
    : { _tag: r.result === "Ready" ? "Blocked" : r.result, diagnostics: r.diagnostics }
