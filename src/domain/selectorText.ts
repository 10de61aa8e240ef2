/**
 * Kubernetes label selectors in their text form (`team=a,tier!=db,env in (prod,stage),!legacy`), parsed and matched
 * as the apiserver does for `?labelSelector=`: equality (`=`, `==`, `!=`), sets (`in`, `notin`), existence (`key`,
 * `!key`); every requirement must hold; the empty selector selects everything. Domain layer: pure. Used where a
 * selector comes from an annotation (tenancy.ts), so a malformed one is reported, never guessed at.
 */
import { isDnsSubdomain } from "./dnsNames.ts"

export type Requirement =
  | { readonly key: string; readonly op: "Exists" | "DoesNotExist" }
  | { readonly key: string; readonly op: "In" | "NotIn"; readonly values: ReadonlyArray<string> }

export type ParsedSelector =
  | { readonly _tag: "Selector"; readonly requirements: ReadonlyArray<Requirement> }
  | { readonly _tag: "Invalid"; readonly problem: string }

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const KEY = "[A-Za-z0-9][-A-Za-z0-9_./]*"
const VALUE = "[-A-Za-z0-9_.]*"

const keyProblem = (key: string): string | undefined => {
  const slash = key.lastIndexOf("/")
  const prefix = slash < 0 ? undefined : key.slice(0, slash)
  const name = slash < 0 ? key : key.slice(slash + 1)
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return `key '${key}': the prefix is not a DNS subdomain`
  return name.length <= 63 && NAME.test(name) ? undefined : `key '${key}': not a label name`
}

const valueProblem = (value: string): string | undefined =>
  value === "" || (value.length <= 63 && NAME.test(value)) ? undefined : `value '${value}': not a label value`

/** Splits at commas outside parentheses. */
const clauses = (text: string): Array<string> => {
  const out: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++
    else if (text[i] === ")") depth--
    else if (text[i] === "," && depth === 0) {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  out.push(text.slice(start))
  return out.map((c) => c.trim())
}

const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`)
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`)
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`)

const requirement = (clause: string): Requirement | string => {
  const set = SET.exec(clause)
  if (set !== null) {
    const values = set[3]!.split(",").map((v) => v.trim())
    const bad = keyProblem(set[1]!) ?? values.map(valueProblem).find((p) => p !== undefined)
    if (bad !== undefined) return bad
    return { key: set[1]!, op: set[2] === "in" ? "In" : "NotIn", values }
  }
  const eq = EQUALITY.exec(clause)
  if (eq !== null) {
    const bad = keyProblem(eq[1]!) ?? valueProblem(eq[3]!)
    if (bad !== undefined) return bad
    return { key: eq[1]!, op: eq[2] === "!=" ? "NotIn" : "In", values: [eq[3]!] }
  }
  const exists = EXISTS.exec(clause)
  if (exists !== null) {
    const bad = keyProblem(exists[2]!)
    if (bad !== undefined) return bad
    return { key: exists[2]!, op: exists[1] === "!" ? "DoesNotExist" : "Exists" }
  }
  return `'${clause}' is not a requirement (key, !key, key=value, key!=value, key in (a,b), key notin (a,b))`
}

/** Parses a selector; the first problem makes it Invalid. */
export const parseSelector = (text: string): ParsedSelector => {
  if (text.trim() === "") return { _tag: "Selector", requirements: [] }
  const requirements: Array<Requirement> = []
  for (const clause of clauses(text)) {
    const r = requirement(clause)
    if (typeof r === "string") return { _tag: "Invalid", problem: r }
    requirements.push(r)
  }
  return { _tag: "Selector", requirements }
}

/** Whether `labels` satisfy every requirement (`notin` and `!=` hold when the key is absent, as in Kubernetes). */
export const selects = (requirements: ReadonlyArray<Requirement>, labels: Readonly<Record<string, string>>): boolean =>
  requirements.every((r) => {
    const value = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined
    if (!("values" in r)) return r.op === "Exists" ? value !== undefined : value === undefined
    return r.op === "In"
      ? value !== undefined && r.values.includes(value)
      : value === undefined || !r.values.includes(value)
  })
