/**
 * The plan hash: a short digest of what a plan would do and of the planner that decided it, so a person can name a
 * plan (approve it, compare it) and the operator can tell whether the plan it holds is still that one. Domain layer:
 * pure (SHA-256 from `@noble/hashes`, as cloud-init digests are).
 *
 * Guarantees
 * - Deterministic: the same actions and planner version give the same hash, in any process.
 * - Over what would be done, not over progress: each action counts with its kind, cluster, target and contents
 *   (`before`/`after`, labels, sizes, digests), without its `reason` (display only) and its `resourceVersion` (an
 *   optimistic-concurrency token that moves with every status update of the object). Diagnostics do not count, so
 *   an import going from 43 % to 44 % keeps the hash.
 * - As a set: the actions are hashed in a canonical order, so holding a step back (`governance.ts`) and releasing it
 *   later leaves the hash as it was. The planner's order is itself a function of the actions, so no information is
 *   lost for one planner version.
 * - Changes with the planner version: a plan made by another version is another plan.
 */
import { sha256 } from "@noble/hashes/sha2.js"
import type { Action } from "./Action.ts"

/**
 * The planner's version: bump it whenever the planner decides differently for the same input, so plan hashes (and
 * with them, approvals) of the old planner do not carry over, and `plan --replay` can say which version decided.
 */
export const PLANNER_VERSION = "1"

/** Hex digits kept of the SHA-256: 64 bits, short enough to type into an annotation. */
const HASH_DIGITS = 16

/** Fields of an action that are not "what would be done". */
const VOLATILE: ReadonlySet<string> = new Set(["reason", "resourceVersion"])

/** JSON with object keys in a fixed order, so equal values give equal text whatever order they were built in. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )

/** One action as the hash sees it: everything but its reason and resourceVersion. */
export const actionFingerprint = (a: Action): string =>
  canonical(Object.fromEntries(Object.entries(a).filter(([k]) => !VOLATILE.has(k))))

const HEX = "0123456789abcdef"
const utf8 = new TextEncoder()

/** The hash of a set of actions under this planner version (16 hex digits). */
export const planHash = (actions: ReadonlyArray<Action>, version: string = PLANNER_VERSION): string => {
  const lines = actions.map(actionFingerprint).sort()
  const digest = sha256(utf8.encode(`kubevirt-operator planner ${version}\n${lines.join("\n")}`))
  let out = ""
  for (let i = 0; out.length < HASH_DIGITS; i++) out += HEX[digest[i]! >> 4]! + HEX[digest[i]! & 15]!
  return out
}
