/**
 * JSON merge patch (RFC 7386) and JSON equality over plain JSON values. Effects layer (cluster service):
 * the in-memory layer uses them to apply `patch`/`apply` exactly as the apiserver applies
 * `application/merge-patch+json`: objects merge recursively, `null` deletes a key, arrays are replaced.
 */
import { Predicate } from "effect"

type JsonObject = { readonly [key: string]: unknown }

const isJsonObject = (u: unknown): u is JsonObject => Predicate.isObject(u) && !Array.isArray(u)

/** RFC 7386 `MergePatch(target, patch)`. Never mutates its inputs. */
export const applyMergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isJsonObject(patch)) return structuredClone(patch)
  const result: Record<string, unknown> = isJsonObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = applyMergePatch(result[key], value)
  }
  return result
}

/** Structural equality of JSON values (key order does not matter; `undefined` members count as absent). */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined)
    const kb = Object.keys(b).filter((k) => b[k] !== undefined)
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  }
  return false
}
