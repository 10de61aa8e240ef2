/**
 * A plan as it may be shown or stored outside the process (`plan --output json`, decision traces): image URLs in their
 * display form (ADR 0018). Domain layer: pure. The plan the interpreter runs keeps the URL as given, because the
 * DataVolume's spec needs it (CDI downloads it); everything that leaves the process goes through here or through
 * `describeSource`.
 */
import type { Action } from "./Action.ts"
import { IMAGE_SOURCE_ANNOTATION } from "./DataVolumeSpec.ts"
import { Plan } from "./Plan.ts"
import { redactUrl, redactUrlsIn } from "./redactUrl.ts"

/**
 * The action with any image URL in display form: a DataVolume's `source` and its `vitistack.io/image-source`
 * annotation. Other actions are returned as they are (the same object). The plan hash is taken over this form.
 */
export const redactAction = (a: Action): Action => {
  if (a._tag !== "CreateDataVolume" || a.after.source._tag === "DataSource") return a
  const source = a.after.source
  const recorded = a.after.annotations[IMAGE_SOURCE_ANNOTATION]
  const url = redactUrl(source.url)
  if (url === source.url && (recorded === undefined || redactUrl(recorded) === recorded)) return a
  return {
    ...a,
    after: {
      ...a.after,
      source: { ...source, url },
      annotations:
        recorded === undefined
          ? a.after.annotations
          : { ...a.after.annotations, [IMAGE_SOURCE_ANNOTATION]: redactUrl(recorded) }
    }
  }
}

const shownAction = (a: Action): Action => {
  const r = redactAction(a)
  const reason = redactUrlsIn(r.reason)
  return reason === r.reason ? r : { ...r, reason }
}

/**
 * The plan as shown: every action (held ones too) through `redactAction`, and the texts (reasons, diagnostics) with any
 * URL in display form. Idempotent; the hash is unchanged (it is over the display form already). A plan made from a
 * trace's redacted input equals the redacted plan made from the real one (`plan --replay` compares them so).
 */
export const redactPlan = (p: Plan): Plan =>
  Plan.make({
    ...p,
    actions: p.actions.map(shownAction),
    diagnostics: p.diagnostics.map((d) => {
      const message = redactUrlsIn(d.message)
      return message === d.message ? d : { ...d, message }
    }),
    ...(p.held === undefined ? {} : { held: p.held.map((h) => ({ ...h, action: shownAction(h.action) })) })
  })
