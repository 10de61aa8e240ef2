/**
 * The plan hash: a short digest of what a plan would do and of the planner that decided it, so a person can name a
 * plan (approve it, compare it) and the operator can tell whether the plan it holds is still that one. Domain layer:
 * pure (SHA-256 from `@noble/hashes`, as cloud-init digests are).
 *
 * Guarantees
 * - Deterministic: the same actions and planner version give the same hash, in any process.
 * - Over what would be done, not over progress: each action counts with its kind, cluster, target and contents
 *   (`before`/`after`, labels, sizes, digests), without its `reason` (display only), its `resourceVersion` (an
 *   optimistic-concurrency token that moves with every status update of the object) and the live labels and
 *   annotations in `before` (others' tools change them; the patch writes only ours). Diagnostics do not count, so
 *   an import going from 43 % to 44 % keeps the hash.
 * - Over image URLs in their display form (`redactAction`, ADR 0018): the hash, shown on the Machine, cannot confirm
 *   a guessed credential, a presigned URL signed again keeps it, and a replayed trace (which holds the display form
 *   only) reproduces it.
 * - As a set: the actions are hashed in a canonical order, so holding a step back (`governance.ts`) and releasing it
 *   later leaves the hash as it was. The planner's order is itself a function of the actions, so no information is
 *   lost for one planner version.
 * - Changes with the planner version: a plan made by another version is another plan.
 */
import { sha256 } from "@noble/hashes/sha2.js"
import type { Action } from "./Action.ts"
import { redactAction } from "./redactPlan.ts"

/**
 * The planner's version: bump it whenever the planner decides differently for the same input, so plan hashes (and
 * with them, approvals) of the old planner do not carry over, and `plan --replay` can say which version decided.
 */
// 2: a VM deletion lists the DataVolumes it owns (destructive then); AbandonAfter counts an outage only when nothing
// on the cluster can be read (its namespace and VM).
// 3: image URLs are shown, recorded on DataVolumes and hashed in their display form, credentials masked (ADR 0018).
// 4: a DataVolume records the Machine's generation; a failing import is made again once the spec changed since.
export const PLANNER_VERSION = "4"

/** Hex digits kept of the SHA-256: 64 bits, short enough to type into an annotation. */
const HASH_DIGITS = 16

/** Fields of an action that are not "what would be done". */
const VOLATILE: ReadonlySet<string> = new Set(["reason", "resourceVersion"])

/**
 * JSON with object keys in a fixed order, so equal values give equal text whatever order they were built in
 * (undefined members left out, as JSON.stringify does). Written out rather than through a replacer: it runs for every
 * action of every plan.
 */
const canonical = (v: unknown): string => {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null"
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
  const o = v as Record<string, unknown>
  let out = ""
  for (const k of Object.keys(o).sort()) {
    if (o[k] === undefined) continue
    out += `${out === "" ? "" : ","}${JSON.stringify(k)}:${canonical(o[k])}`
  }
  return `{${out}}`
}

/**
 * The live labels and annotations of the object an action changes (a VM patch's `before`): others' tools add and
 * change them, and the patch writes only ours (`after`), so they are not part of what would be done.
 */
const LIVE_METADATA: ReadonlySet<string> = new Set(["labels", "annotations"])

const withoutLiveMetadata = (before: unknown): unknown => {
  if (before === null || typeof before !== "object" || Array.isArray(before)) return before
  const o = before as Record<string, unknown>
  const kept: Record<string, unknown> = {}
  for (const k of Object.keys(o)) if (!LIVE_METADATA.has(k)) kept[k] = o[k]
  return kept
}

/**
 * One action as the hash sees it: everything but its reason, its resourceVersion and the live metadata before; image
 * URLs in display form.
 */
export const actionFingerprint = (a: Action): string => {
  const o = redactAction(a) as unknown as Record<string, unknown>
  let out = ""
  for (const k of Object.keys(o).sort()) {
    if (VOLATILE.has(k) || o[k] === undefined) continue
    const v = k === "before" ? withoutLiveMetadata(o[k]) : o[k]
    out += `${out === "" ? "" : ","}${JSON.stringify(k)}:${canonical(v)}`
  }
  return `{${out}}`
}

const HEX = "0123456789abcdef"
const utf8 = new TextEncoder()

const emptyHashes = new Map<string, string>()

/** The hash of a set of actions under this planner version (16 hex digits). */
export const planHash = (actions: ReadonlyArray<Action>, version: string = PLANNER_VERSION): string => {
  // Most plans are empty (a Machine at rest): their hash is one per version.
  if (actions.length === 0) {
    const known = emptyHashes.get(version)
    if (known !== undefined) return known
    const h = digest(version, [])
    emptyHashes.set(version, h)
    return h
  }
  return digest(version, actions.map(actionFingerprint).sort())
}

/** The first HASH_DIGITS hex digits of the SHA-256 of the version and the sorted fingerprints. */
function digest(version: string, lines: ReadonlyArray<string>): string {
  const bytes = sha256(utf8.encode(`kubevirt-operator planner ${version}\n${lines.join("\n")}`))
  let out = ""
  for (let i = 0; out.length < HASH_DIGITS; i++) out += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 15]!
  return out
}
