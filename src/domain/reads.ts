/**
 * What a capability reads on a remote cluster to build its fact, as data: queries (get one object, list by label in
 * a namespace) and a pure function from their answers to the fact. Domain layer: pure. The live observer
 * (`effects/observe.ts`) runs the queries against a cluster; the offline one (`observedFromObjects.ts`) answers them
 * from a list of objects; both build the fact with the capability's own function, so the two cannot drift.
 */
import { absent, type Fact, present, unknown } from "./Fact.ts"
import type { KubeObject } from "./KubeObject.ts"
import { recordsMac } from "./manifests/NetworkConfiguration.ts"
import type { ObjectRef } from "./ObjectRef.ts"

/** A kind as Kubernetes names it (the shape of `Kinds.*`). */
export interface KindOf {
  readonly apiVersion: string
  readonly kind: string
}

export type Query =
  | {
      readonly _tag: "Get"
      readonly ref: ObjectRef
      /** The kind may not be served (an optional CRD such as CDI's): then the answer is "none", not Unknown. */
      readonly optional?: true
    }
  | {
      readonly _tag: "List"
      readonly kind: KindOf
      /** Omitted: a cluster-scoped kind (or, with `allNamespaces`, every namespace). */
      readonly namespace?: string
      /** A namespaced kind listed across all namespaces (the supervisor's NetworkConfigurations, ADR 0013). */
      readonly allNamespaces?: true
      /**
       * Only objects whose `spec.networkInterfaces` record one of these MACs (the fleet's MAC index, ADR 0013); the
       * operator's cache answers from an index, the API's answer is filtered by the observer.
       */
      readonly recordingMacs?: ReadonlyArray<string>
      /** Equality selector: every key must have exactly this value. */
      readonly labelSelector: Readonly<Record<string, string>>
      /** The kind may not be served (an optional CRD such as CDI's): then the answer is "none", not Unknown. */
      readonly optional?: true
    }

/** A query's answer: the objects found (a get finds at most one), or why the cluster could not say. */
export type Answer =
  | { readonly _tag: "Found"; readonly objects: ReadonlyArray<KubeObject> }
  | { readonly _tag: "Unknown"; readonly reason: string }

export interface Reads<A> {
  readonly queries: ReadonlyArray<Query>
  /** The fact from the answers, one per query in order. An Unknown answer must never become Absent. */
  readonly fact: (answers: ReadonlyArray<Answer>) => Fact<A>
}

const unanswered: Answer = { _tag: "Unknown", reason: "not answered" }

/** The answer to the i-th query (a missing one counts as Unknown, never as "not found"). */
export const answerAt = (answers: ReadonlyArray<Answer>, i: number): Answer => answers[i] ?? unanswered

/** The first Unknown answer, as a fact. */
export const firstUnknown = (answers: ReadonlyArray<Answer>): Fact<never> | undefined => {
  const failed = answers.find((a) => a._tag === "Unknown")
  return failed?._tag === "Unknown" ? unknown(failed.reason) : undefined
}

/** One object by reference: Present (projected by `f`) or Absent. */
export const getOne = <A>(ref: ObjectRef, f: (o: KubeObject) => A): Reads<A> => ({
  queries: [{ _tag: "Get", ref }],
  fact: (answers) => {
    const a = answerAt(answers, 0)
    if (a._tag === "Unknown") return unknown(a.reason)
    const o = a.objects[0]
    return o === undefined ? absent : present(f(o))
  }
})

/**
 * The union of the objects every query found, by name, projected by `f` and sorted by name; Unknown when any query
 * could not be answered (a list by our labels plus gets by desired names: ours, and a name clash the planner must see).
 */
export const unionByName =
  <A extends { readonly name: string }>(f: (o: KubeObject) => A) =>
  (answers: ReadonlyArray<Answer>): Fact<ReadonlyArray<A>> => {
    const failed = firstUnknown(answers)
    if (failed !== undefined) return failed
    const merged = new Map<string, A>()
    for (const a of answers) if (a._tag === "Found") for (const o of a.objects) merged.set(o.metadata.name, f(o))
    return present([...merged.values()].sort((a, b) => (a.name < b.name ? -1 : 1)))
  }

/** Whether a list query selects this object (same kind, namespace and every selector label). */
export const listSelects = (q: Extract<Query, { _tag: "List" }>, o: KubeObject): boolean =>
  o.kind === q.kind.kind &&
  (q.allNamespaces === true || o.metadata.namespace === q.namespace) &&
  (q.recordingMacs === undefined || q.recordingMacs.some((mac) => recordsMac(o, mac))) &&
  Object.entries(q.labelSelector).every(([k, v]) => o.metadata.labels?.[k] === v)

/** Whether a get query names this object. */
export const getNames = (q: Extract<Query, { _tag: "Get" }>, o: KubeObject): boolean =>
  o.kind === q.ref.kind && o.metadata.namespace === q.ref.namespace && o.metadata.name === q.ref.name
