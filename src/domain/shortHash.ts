/**
 * A short, stable, non-cryptographic hash (FNV-1a, 32 bits, 8 hex digits) for deriving bounded names and
 * label values from long ones. Domain layer: pure. Not for secrets: only for stable, collision-resistant-enough
 * suffixes within one namespace.
 */
export const shortHash = (input: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, "0")
}
