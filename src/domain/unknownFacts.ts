/**
 * The facts of an observed state that could not be read (Unknown), with where they are and why. Domain layer: pure.
 * The live `plan` uses it: a plan made from Unknown facts is not a clean bill of health (issue "Hardening", item 8),
 * so the command exits 1 naming them. The walk is generic over the state's shape (every `Fact` field, and the facts
 * inside a Present value, such as the remote's), so a capability that adds a fact is covered without an entry here.
 */
import type { ObservedState } from "./ObservedState.ts"

export interface UnknownFact {
  /** Where in the observed state, e.g. `remote.vm` or `vmSearch[remote-b]`. */
  readonly path: string
  readonly reason: string
}

type Tagged = { readonly _tag: string; readonly value?: unknown; readonly reason?: unknown }

const isFact = (v: unknown): v is Tagged =>
  typeof v === "object" &&
  v !== null &&
  "_tag" in v &&
  ((v as Tagged)._tag === "Present" || (v as Tagged)._tag === "Absent" || (v as Tagged)._tag === "Unknown")

const walk = (value: unknown, path: string, out: Array<UnknownFact>): void => {
  if (isFact(value)) {
    if (value._tag === "Unknown") out.push({ path, reason: String(value.reason) })
    else if (value._tag === "Present") walk(value.value, path, out)
    return
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const cluster = typeof v === "object" && v !== null && "cluster" in v ? String(v.cluster) : String(i)
      walk(v, `${path}[${cluster}]`, out)
    })
    return
  }
  if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value))
      if (isFact(v) || Array.isArray(v)) walk(v, path === "" ? k : `${path}.${k}`, out)
}

/** Every Unknown fact of `observed`, in field order. */
export const unknownFacts = (observed: ObservedState): ReadonlyArray<UnknownFact> => {
  const out: Array<UnknownFact> = []
  walk(observed, "", out)
  return out
}
