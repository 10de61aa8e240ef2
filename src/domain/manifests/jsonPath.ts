/**
 * Safe readers for untyped JSON inside Kubernetes objects (spec and status of kinds the operator does not decode
 * fully). Domain layer: pure. Each returns a neutral value instead of throwing on an unexpected shape.
 */
import { Predicate } from "effect"

export const asRecord = (u: unknown): Record<string, unknown> =>
  Predicate.isObject(u) && !Array.isArray(u) ? (u as Record<string, unknown>) : {}
export const asArray = (u: unknown): ReadonlyArray<unknown> => (Array.isArray(u) ? u : [])
export const asString = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)
export const asNumber = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isFinite(u) ? u : undefined
export const asStringArray = (u: unknown): Array<string> => asArray(u).filter((x): x is string => typeof x === "string")
export const asBoolean = (u: unknown): boolean | undefined => (typeof u === "boolean" ? u : undefined)
