/**
 * A Machine's deletion policy, from the annotation `vitistack.io/deletion-policy` (design 3.6): `Delete` (the
 * default: the VM, then its disks, then the cloud-init Secret, then the finalizer), `Orphan` (the remote objects are
 * kept and the finalizer goes at once) or `AbandonAfter=<duration>` (delete; but when the remote cluster stays
 * unreadable past the deadline, release the Machine and say what may be left behind there, `abandon.ts`).
 * Domain layer: pure. A value that is none of these is not guessed at: deletion waits until it is fixed.
 */
import { DELETION_POLICY_ANNOTATION } from "./labels.ts"
import type { Machine } from "./Machine.ts"

export type DeletionPolicy =
  | { readonly _tag: "Delete" }
  | { readonly _tag: "Orphan" }
  | { readonly _tag: "AbandonAfter"; readonly millis: number; readonly text: string }
  | { readonly _tag: "Invalid"; readonly value: string; readonly problem: string }

const UNIT_MILLIS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }

/**
 * A duration in Go's notation (`90s`, `30m`, `1h30m`, `1.5h`; units h, m, s, ms), in milliseconds; undefined when
 * the text is not one, or is not positive.
 */
export const parseDuration = (text: string): number | undefined => {
  const t = text.trim()
  if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(t)) return undefined
  let total = 0
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) total += Number(m[1]) * UNIT_MILLIS[m[2]!]!
  return Number.isFinite(total) && total > 0 ? Math.round(total) : undefined
}

const ABANDON_PREFIX = "AbandonAfter="

/** The Machine's deletion policy as written on it. */
export const deletionPolicyOf = (m: Machine): DeletionPolicy => {
  const value = m.metadata.annotations?.[DELETION_POLICY_ANNOTATION]
  if (value === undefined || value === "" || value === "Delete") return { _tag: "Delete" }
  if (value === "Orphan") return { _tag: "Orphan" }
  if (value.startsWith(ABANDON_PREFIX)) {
    const text = value.slice(ABANDON_PREFIX.length)
    const millis = parseDuration(text)
    return millis === undefined
      ? { _tag: "Invalid", value, problem: `'${text}' is not a positive duration such as 90s, 30m or 1h30m` }
      : { _tag: "AbandonAfter", millis, text }
  }
  return { _tag: "Invalid", value, problem: "use Delete, Orphan or AbandonAfter=<duration> (such as 1h)" }
}

/** What the diagnostic says about a value it cannot use. */
export const invalidPolicyMessage = (p: Extract<DeletionPolicy, { _tag: "Invalid" }>): string =>
  `${DELETION_POLICY_ANNOTATION} '${p.value}' is not understood (${p.problem}); deletion waits until it is fixed`
