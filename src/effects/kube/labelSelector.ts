/**
 * Equality label selectors (`{ app: "x", tier: "db" }`, all must match), as the cluster service accepts
 * them. Effects layer (cluster service): the live layer renders them to `app=x,tier=db`, the in-memory
 * layer evaluates them, and both validate them the same way the apiserver does.
 */
import { Option } from "effect"

/** Every key must be present with exactly this value. The empty selector matches everything. */
export type LabelSelector = Readonly<Record<string, string>>

const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const keyProblem = (key: string): string | undefined => {
  const slash = key.lastIndexOf("/")
  const prefix = slash < 0 ? undefined : key.slice(0, slash)
  const name = slash < 0 ? key : key.slice(slash + 1)
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !dnsSubdomain.test(prefix))) {
    return `label key "${key}": prefix must be a DNS subdomain`
  }
  if (name.length === 0 || name.length > 63 || !namePart.test(name)) {
    return `label key "${key}": name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`
  }
  return undefined
}

const valueProblem = (key: string, value: string): string | undefined =>
  value === "" || (value.length <= 63 && namePart.test(value))
    ? undefined
    : `label value "${value}" for key "${key}": must be empty or 1-63 alphanumerics, '-', '_' or '.'`

/** The first reason the selector is not a valid equality selector, if any. */
export const selectorProblem = (selector: LabelSelector): Option.Option<string> => {
  for (const [key, value] of Object.entries(selector)) {
    const problem = keyProblem(key) ?? valueProblem(key, value)
    if (problem !== undefined) return Option.some(problem)
  }
  return Option.none()
}

/** True when every selector entry is present in `labels` with the same value. */
export const matchesLabels = (
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>> | undefined
): boolean => {
  if (selector === undefined) return true
  for (const [key, value] of Object.entries(selector)) {
    if (labels?.[key] !== value) return false
  }
  return true
}

/** The wire form (`a=1,b=2`, keys sorted so equal selectors render equally); `undefined` for no selector. */
export const selectorString = (selector: LabelSelector | undefined): string | undefined => {
  if (selector === undefined) return undefined
  const entries = Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return entries.length === 0 ? undefined : entries.map(([k, v]) => `${k}=${v}`).join(",")
}
