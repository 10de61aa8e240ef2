/**
 * Kubernetes resource quantities ("10Gi", "512Mi", "1.5G", "2e9", 1024) parsed to a number of base units.
 * Domain layer: pure. Used to size guests from MachineClasses and to compare PVC sizes (growth vs shrink).
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }
const DECIMAL: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/

/**
 * The value of a quantity in base units, or `undefined` when the text is not a quantity or its value is not a finite
 * number (`1e400` overflows to Infinity: no size, whatever the sign). Negative quantities parse; callers that need a
 * size check the range (`desired.ts`).
 */
export const parseQuantity = (q: string | number): number | undefined => {
  if (typeof q === "number") return Number.isFinite(q) ? q : undefined
  const match = QUANTITY.exec(q.trim())
  if (match === null) return undefined
  const [, num, exp, suffix] = match
  const base = Number(num)
  const s = suffix ?? ""
  const value = exp !== undefined ? base * 10 ** Number(exp.slice(1)) : base * (BINARY[s] ?? DECIMAL[s] ?? 1)
  return Number.isFinite(value) ? value : undefined
}

/** Memory in bytes rendered the way the Go operator does for overrides: whole mebibytes, `"<n>Mi"`. */
export const toMebibytes = (bytes: number): string => `${Math.floor(bytes / 2 ** 20)}Mi`
