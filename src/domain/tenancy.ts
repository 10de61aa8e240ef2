/**
 * Tenancy (ADR 0011): a KubevirtConfig may restrict which supervisor namespaces may place Machines on its cluster, by
 * annotation (the CRD has no field for it). Domain layer: pure.
 * - `vitistack.io/allowed-namespaces: "a,b"`: these namespaces (comma-separated names; empty: none by name);
 * - `vitistack.io/allowed-namespace-selector: "team=x"`: the namespaces whose labels (on the supervisor) match this
 *   label selector (Kubernetes text syntax; empty: every namespace).
 * Neither: every namespace may use it (as before). One or both: a namespace may use it when the list names it or the
 * selector matches it. A malformed selector allows no namespace by selector, and says so. A Machine outside gets an
 * Error on `metadata.namespace`: nothing is placed or written remotely for it, and its deletion waits (deleting
 * remote objects is a write on the cluster too), unless it is orphaned.
 */
import { Schema } from "effect"
import { Fact } from "./Fact.ts"
import { parseSelector, selects } from "./selectorText.ts"

export const ALLOWED_NAMESPACES_ANNOTATION = "vitistack.io/allowed-namespaces"
export const ALLOWED_NAMESPACE_SELECTOR_ANNOTATION = "vitistack.io/allowed-namespace-selector"

/** What decides whether a Machine's namespace may use the cluster it is placed on. */
export const Tenancy = Schema.Struct({
  /** The KubevirtConfig these come from. */
  cluster: Schema.String,
  /** The `allowed-namespaces` annotation, as written. */
  allowedNamespaces: Schema.optionalKey(Schema.String),
  /** The `allowed-namespace-selector` annotation, as written. */
  allowedNamespaceSelector: Schema.optionalKey(Schema.String),
  /** The labels of the Machine's namespace on the supervisor; read only when a selector is set. */
  namespaceLabels: Schema.optionalKey(Fact(Schema.Record(Schema.String, Schema.String)))
})
export type Tenancy = typeof Tenancy.Type

/** The tenancy annotations of a KubevirtConfig (absent ones left out). */
export const tenancyAnnotations = (
  cluster: string,
  annotations: Readonly<Record<string, string>> | undefined
): Omit<Tenancy, "namespaceLabels"> => ({
  cluster,
  ...(annotations?.[ALLOWED_NAMESPACES_ANNOTATION] === undefined
    ? {}
    : { allowedNamespaces: annotations[ALLOWED_NAMESPACES_ANNOTATION] }),
  ...(annotations?.[ALLOWED_NAMESPACE_SELECTOR_ANNOTATION] === undefined
    ? {}
    : { allowedNamespaceSelector: annotations[ALLOWED_NAMESPACE_SELECTOR_ANNOTATION] })
})

/** The namespaces the list annotation names. */
export const listedNamespaces = (t: Pick<Tenancy, "allowedNamespaces">): ReadonlyArray<string> =>
  (t.allowedNamespaces ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "")

/** Whether deciding for `namespace` needs its labels: a selector is set and the list does not name it already. */
export const needsNamespaceLabels = (t: Omit<Tenancy, "namespaceLabels">, namespace: string): boolean =>
  t.allowedNamespaceSelector !== undefined && !listedNamespaces(t).includes(namespace)

export type TenancyDecision =
  | { readonly _tag: "Allowed" }
  | { readonly _tag: "Denied"; readonly message: string }
  | { readonly _tag: "Unknown"; readonly message: string }

const allowed: TenancyDecision = { _tag: "Allowed" }

/**
 * May Machines of `namespace` use `cluster`? `tenancy` undefined means no policy was observed (a caller without
 * supervisor reads, such as an old snapshot): allowed, as before tenancy existed; the operator and both `plan` forms
 * always observe it. An unreadable KubevirtConfig or namespace is Unknown: nothing is decided on it.
 */
export const decideTenancy = (
  tenancy: Fact<Tenancy> | undefined,
  cluster: string,
  namespace: string
): TenancyDecision => {
  if (tenancy === undefined || tenancy._tag === "Absent") return allowed
  if (tenancy._tag === "Unknown")
    return { _tag: "Unknown", message: `cannot read KubevirtConfig '${cluster}' for its tenancy: ${tenancy.reason}` }
  const t = tenancy.value
  if (t.cluster !== cluster)
    return { _tag: "Unknown", message: `the tenancy of KubevirtConfig '${cluster}' has not been observed yet` }
  if (t.allowedNamespaces === undefined && t.allowedNamespaceSelector === undefined) return allowed
  if (listedNamespaces(t).includes(namespace)) return allowed
  const rules = [
    ...(t.allowedNamespaces === undefined ? [] : [`${ALLOWED_NAMESPACES_ANNOTATION}: '${t.allowedNamespaces}'`]),
    ...(t.allowedNamespaceSelector === undefined
      ? []
      : [`${ALLOWED_NAMESPACE_SELECTOR_ANNOTATION}: '${t.allowedNamespaceSelector}'`])
  ].join(", ")
  const denied = (why: string): TenancyDecision => ({
    _tag: "Denied",
    message: `namespace '${namespace}' may not use KubevirtConfig '${cluster}' (${rules})${why}`
  })
  if (t.allowedNamespaceSelector === undefined) return denied("")
  const selector = parseSelector(t.allowedNamespaceSelector)
  if (selector._tag === "Invalid") return denied(`; the selector is not valid: ${selector.problem}`)
  const labels = t.namespaceLabels
  if (labels === undefined || labels._tag === "Unknown")
    return {
      _tag: "Unknown",
      message: `cannot read the labels of namespace '${namespace}' for KubevirtConfig '${cluster}'s selector${labels === undefined ? "" : `: ${labels.reason}`}`
    }
  return selects(selector.requirements, labels._tag === "Present" ? labels.value : {}) ? allowed : denied("")
}
