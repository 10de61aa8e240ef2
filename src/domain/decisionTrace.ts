/**
 * Decision traces (ADR 0015): one record per reconcile with everything the planner decided from (the Machine, the
 * observed state, the settings, the time), what it decided (the plan) and what happened (the result, the outcome,
 * timings), so any decision can be replayed offline (`plan --replay`) and compared, also across planner versions.
 * Domain layer: pure schemas, redaction and comparison; `effects/DecisionTrace.ts` records, the runtime writes.
 *
 * The schema is versioned (`schema`); a reader refuses a version it does not know rather than misread it.
 *
 * Redaction: nothing secret is recorded, and replay still reproduces every plan exactly.
 * - Cloud-init source values (Secret and ConfigMap contents, always `Redacted` in ObservedState) are not recorded.
 *   In their place the trace holds the payload as rendered, without content: digest, sizes, kind, the rendering's
 *   diagnostics (`RenderedCloudInit`). The planner uses that record instead of rendering again, so the replayed plan
 *   has the same digests, actions and diagnostics. (A replay therefore does not re-run the cloud-init rendering
 *   itself: a planner change there shows only in new traces.)
 * - Inline cloud-init on the Machine (`spec.cloudInit.userData`, `...Base64`, `networkData`, `...Base64`,
 *   `spec.userData`) may hold passwords: replaced by a marker (the recorded rendering stands in for them too).
 * - `kubectl.kubernetes.io/last-applied-configuration`, wherever an annotation map holds it (a Secret applied with
 *   kubectl carries its data there): replaced by the marker. The planner never reads it.
 * - Image URLs (ADR 0018): the Machine's `spec.os.imageID` and `isoUri`, the plan's DataVolume sources and every
 *   `vitistack.io/image-source` are recorded in their display form (`redactUrl`), credentials masked; so are URLs in
 *   the Machine's status texts and in an execution failure. The planner depends on an image URL only through its
 *   display form (what it records, shows and hashes) and whether it parses (which masking preserves), so the
 *   replayed plan is the recorded one exactly; replay compares it in display form (`redactPlan`).
 */
import { Schema } from "effect"
import { ActionTag } from "./Action.ts"
import { renderedOf } from "./cloudInitPayload.ts"
import { IMAGE_SOURCE_ANNOTATION } from "./DataVolumeSpec.ts"
import { renderCloudInit } from "./desired.ts"
import { Machine } from "./Machine.ts"
import { ObservedState } from "./ObservedState.ts"
import { allActions, Plan } from "./Plan.ts"
import { PLANNER_VERSION } from "./planHash.ts"
import { redactPlan } from "./redactPlan.ts"
import { REDACTED, redactUrl, redactUrlsIn } from "./redactUrl.ts"
import { renderAction } from "./render.ts"
import { Settings } from "./Settings.ts"

/** The trace format's version; bump it on any change a reader of the old one would misread. */
export const TRACE_SCHEMA = "kubevirt-operator/decision-trace/v1"

/** What a redacted value is replaced with (defined with the URL display form). */
export { REDACTED }

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

const Str = Schema.String

export const TraceInput = Schema.Struct({
  machine: Machine,
  observed: ObservedState,
  settings: Settings,
  /** RFC 3339: the time the planner was given. */
  now: Schema.optionalKey(Str)
})
export type TraceInput = typeof TraceInput.Type

export const TraceResult = Schema.Struct({
  executed: Schema.Array(Schema.Struct({ action: ActionTag, target: Str })),
  failed: Schema.optionalKey(Schema.Struct({ action: ActionTag, target: Str, reason: Str, message: Str })),
  skipped: Schema.Number
})
export type TraceResult = typeof TraceResult.Type

export const DecisionTrace = Schema.Struct({
  schema: Schema.Literal(TRACE_SCHEMA),
  /** `namespace/name`. */
  machine: Str,
  plannerVersion: Str,
  input: TraceInput,
  plan: Plan,
  /** What executing the plan did (absent: not executed, e.g. recorded by `plan`). */
  result: Schema.optionalKey(TraceResult),
  /** The reconcile's outcome (`Done`, `Requeue`, `Backoff: <reason>`, ...) and whether status was written. */
  outcome: Schema.optionalKey(Str),
  statusWritten: Schema.optionalKey(Schema.Boolean),
  /** Milliseconds spent observing, planning, executing, and in the whole reconcile. */
  timings: Schema.Struct({ observe: Schema.Number, plan: Schema.Number, execute: Schema.Number, total: Schema.Number })
})
export type DecisionTrace = typeof DecisionTrace.Type

export const DecisionTraceJson = Schema.toCodecJson(DecisionTrace)
export const encodeDecisionTrace = Schema.encodeSync(DecisionTraceJson)
const decodeTrace = Schema.decodeUnknownResult(DecisionTraceJson)

/**
 * The Machine as recorded: inline cloud-init and kubectl's copy of the manifest replaced by the marker, image URLs in
 * display form, URLs in its status texts too (an older operator may have written one there).
 */
export const redactMachine = (m: Machine): Machine => {
  const mask = (v: string | undefined) => (v === undefined || v === "" ? v : REDACTED)
  const ci = m.spec.cloudInit
  const os = m.spec.os
  const annotations = m.metadata.annotations
  const status = m.status
  return Machine.make({
    ...m,
    metadata: {
      ...m.metadata,
      ...(annotations === undefined ? {} : { annotations: maskAnnotations(annotations) })
    },
    ...(status === undefined ? {} : { status: redactStatus(status) }),
    spec: {
      ...m.spec,
      ...(os === undefined
        ? {}
        : {
            os: {
              ...os,
              ...(os.imageID === undefined ? {} : { imageID: redactUrl(os.imageID) }),
              ...(os.isoUri === undefined ? {} : { isoUri: redactUrl(os.isoUri) })
            }
          }),
      ...(m.spec.userData === undefined ? {} : { userData: mask(m.spec.userData)! }),
      ...(ci === undefined
        ? {}
        : {
            cloudInit: {
              ...ci,
              ...(ci.userData === undefined ? {} : { userData: mask(ci.userData)! }),
              ...(ci.userDataBase64 === undefined ? {} : { userDataBase64: mask(ci.userDataBase64)! }),
              ...(ci.networkData === undefined ? {} : { networkData: mask(ci.networkData)! }),
              ...(ci.networkDataBase64 === undefined ? {} : { networkDataBase64: mask(ci.networkDataBase64)! })
            }
          })
    }
  })
}

const maskAnnotations = (a: Readonly<Record<string, string>>): Record<string, string> =>
  a[LAST_APPLIED] === undefined ? { ...a } : { ...a, [LAST_APPLIED]: REDACTED }

type MachineStatus = NonNullable<Machine["status"]>

/** The status texts with URLs in display form (the planner reads only the conditions' types, statuses and times). */
const redactStatus = (s: MachineStatus): MachineStatus => ({
  ...s,
  ...(s.message === undefined ? {} : { message: redactUrlsIn(s.message) }),
  ...(s.failureMessage === undefined ? {} : { failureMessage: redactUrlsIn(s.failureMessage) }),
  ...(s.conditions === undefined
    ? {}
    : { conditions: s.conditions.map((c) => ({ ...c, message: redactUrlsIn(c.message) })) })
})

/** How a value under a key of any annotation map is recorded, when not as it is. */
const MASKED_KEYS: Readonly<Record<string, (v: string) => string>> = {
  [LAST_APPLIED]: () => REDACTED,
  [IMAGE_SOURCE_ANNOTATION]: redactUrl
}

/** Every annotation map in a JSON value, with kubectl's copy of the manifest masked and image sources shown. */
const maskDeep = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(maskDeep)
  if (value === null || typeof value !== "object") return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      const masked = Object.hasOwn(MASKED_KEYS, k) ? MASKED_KEYS[k] : undefined
      return masked !== undefined && typeof v === "string" ? [k, masked(v)] : [k, maskDeep(v)]
    })
  )
}

/**
 * The planner's input as recorded: the cloud-init rendering in place of the source values (computed from the
 * original Machine, before its inline values are masked), the Machine redacted.
 */
export const redactInput = (input: TraceInput): TraceInput => {
  const { cloudInitSources, ...observed } = input.observed
  const rendered =
    input.observed.cloudInitRendered ??
    renderedOf(renderCloudInit(input.machine, cloudInitSources, input.observed.vitistack))
  return {
    ...input,
    machine: redactMachine(input.machine),
    observed: ObservedState.make({
      ...observed,
      ...(rendered.result === "None" && rendered.diagnostics.length === 0 ? {} : { cloudInitRendered: rendered })
    })
  }
}

/** The execution result with URLs in the failure message in display form (an API server may echo the object). */
const redactResult = (r: TraceResult): TraceResult =>
  r.failed === undefined ? r : { ...r, failed: { ...r.failed, message: redactUrlsIn(r.failed.message) } }

/** One trace as a JSON line: redacted input, plan and result, encoded through the schema. */
export const traceLine = (trace: DecisionTrace): string =>
  JSON.stringify(
    maskDeep(
      encodeDecisionTrace({
        ...trace,
        input: redactInput(trace.input),
        plan: redactPlan(trace.plan),
        ...(trace.result === undefined ? {} : { result: redactResult(trace.result) })
      })
    )
  )

export type TraceParse =
  | { readonly _tag: "Trace"; readonly trace: DecisionTrace }
  | { readonly _tag: "Skip" }
  | { readonly _tag: "Bad"; readonly problem: string }

/**
 * One line of a trace file: a trace, a line to skip (empty, or a log line that is not a trace), or a problem (a
 * trace of another schema version, or one that does not decode). A log line written by the operator
 * (`DECISION_TRACE=log`) carries the trace as its message.
 */
export const parseTraceLine = (line: string): TraceParse => {
  const text = line.trim()
  if (text === "") return { _tag: "Skip" }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { _tag: "Bad", problem: "not JSON" }
  }
  const candidate = unwrapLogLine(json)
  if (candidate === undefined) return { _tag: "Skip" }
  const schema = (candidate as { schema?: unknown }).schema
  if (schema !== TRACE_SCHEMA)
    return { _tag: "Bad", problem: `schema ${JSON.stringify(schema)} is not ${TRACE_SCHEMA}` }
  const decoded = decodeTrace(candidate)
  return decoded._tag === "Success"
    ? { _tag: "Trace", trace: decoded.success }
    : { _tag: "Bad", problem: decoded.failure.message }
}

/** The trace in a JSON value: the value itself, or the message of one of our JSON log lines. */
const unwrapLogLine = (json: unknown): unknown => {
  if (json === null || typeof json !== "object") return undefined
  if ("schema" in json) return json
  const message = (json as { message?: unknown }).message
  const inner = Array.isArray(message) ? message[0] : message
  if (typeof inner === "string" && inner.startsWith("{")) {
    try {
      return unwrapLogLine(JSON.parse(inner))
    } catch {
      return undefined
    }
  }
  return inner !== null && typeof inner === "object" && "schema" in inner ? inner : undefined
}

/** The lines a reviewer compares: each action (held ones with their gate), then each diagnostic. */
const decisionLines = (p: Plan): ReadonlyArray<string> => [
  ...p.actions.map((a) => renderAction(a).trim()),
  ...(p.held ?? []).map((h) => `${renderAction(h.action).trim()}  [held: ${h.gate}]`),
  ...p.diagnostics.map(
    (d) => `! ${d.severity} ${d.reason}${d.field === undefined ? "" : ` [${d.field}]`}: ${d.message}`
  ),
  ...(p.cluster === undefined ? [] : [`cluster ${p.cluster}`]),
  ...(p.recheckAfterSeconds === undefined ? [] : [`recheck after ${p.recheckAfterSeconds}s`])
]

const canonical = (p: Plan, withHash: boolean): string => {
  const { hash, ...rest } = p
  return JSON.stringify(Schema.encodeSync(Schema.toCodecJson(Plan))(Plan.make(withHash ? p : rest)))
}

/**
 * What differs between a recorded plan and the one the planner makes now from the same input, as lines: `- ` only
 * in the recorded plan, `+ ` only in the replayed one; the hash when both come from the same planner version (another
 * version always hashes differently). Empty: the same decision, exactly.
 */
export const planDifferences = (recorded: Plan, replayed: Plan, sameVersion: boolean): ReadonlyArray<string> => {
  if (canonical(recorded, sameVersion) === canonical(replayed, sameVersion)) return []
  const before = decisionLines(recorded)
  const after = decisionLines(replayed)
  const out = [
    ...before.filter((l) => !after.includes(l)).map((l) => `- ${l}`),
    ...after.filter((l) => !before.includes(l)).map((l) => `+ ${l}`)
  ]
  if (sameVersion && recorded.hash !== replayed.hash)
    out.push(`~ plan hash ${recorded.hash ?? "(none)"} -> ${replayed.hash ?? "(none)"}`)
  // Equal as lines but not as values (order, a field no line shows): say so rather than report nothing.
  if (out.length === 0) out.push(`~ ${allActions(recorded).length} action(s): same lines, different order or detail`)
  return out
}

/** The planner version that made a trace's plan, compared with this one. */
export const sameVersion = (trace: DecisionTrace): boolean => trace.plannerVersion === PLANNER_VERSION
