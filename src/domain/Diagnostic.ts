/**
 * A finding of the planner that is not an action: a bad field, a name clash, a wait. Domain layer: pure schema.
 * Severity Error means the Machine cannot be satisfied as written (no remote write is planned); Warning means the
 * planner is waiting or refused one change; Info is for reviewers. `reason` is CamelCase and becomes the
 * condition reason; `field` names the offending field when there is one.
 */
import { Schema } from "effect"

export const Diagnostic = Schema.Struct({
  severity: Schema.Literals(["Error", "Warning", "Info"]),
  reason: Schema.String,
  message: Schema.String,
  field: Schema.optionalKey(Schema.String)
})
export type Diagnostic = typeof Diagnostic.Type

export const error = (reason: string, message: string, field?: string): Diagnostic => ({
  severity: "Error",
  reason,
  message,
  ...(field === undefined ? {} : { field })
})
export const warning = (reason: string, message: string, field?: string): Diagnostic => ({
  severity: "Warning",
  reason,
  message,
  ...(field === undefined ? {} : { field })
})
export const info = (reason: string, message: string): Diagnostic => ({ severity: "Info", reason, message })

/**
 * Warnings that advise without blocking or waiting (an alias used, a refused shrink, an unknown bus): they do not
 * make the reconcile back off and are not what the status message reports as the thing being waited for.
 */
export const ADVISORY_WARNINGS: ReadonlySet<string> = new Set([
  "InstanceTypeAlias",
  "PvcShrinkRefused",
  "UnknownDiskBus"
])

/** A Warning that means the operator is waiting for something. */
export const isWaiting = (d: Diagnostic): boolean => d.severity === "Warning" && !ADVISORY_WARNINGS.has(d.reason)
