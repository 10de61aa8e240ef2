/**
 * Failures of executing one action that are not plain API errors. Effects layer.
 * `NotOurs`: a create met an existing object without this Machine's labels (a name clash appeared between observe and
 * execute). Never retried: the next plan reports it as a condition.
 */
import { Schema } from "effect"
import type { RemoteUnavailable } from "./Clusters.ts"
import type { KubeApiError } from "./KubeApiError.ts"

export class NotOurs extends Schema.TaggedError<NotOurs>()("NotOurs", { target: Schema.String }) {
  override get message(): string {
    return `${this.target} exists and does not belong to this Machine`
  }
  get isRetryable(): boolean {
    return false
  }
}

/**
 * A cloud-init write met no content with the planned digest (the sources changed between plan and execute, or the
 * plan came from elsewhere): nothing is written; the next reconcile plans from fresh sources.
 */
export class ContentUnavailable extends Schema.TaggedError<ContentUnavailable>()("ContentUnavailable", {
  digest: Schema.String
}) {
  override get message(): string {
    return `no cloud-init content with digest ${this.digest.slice(0, 15)} is at hand (its sources changed); nothing written`
  }
  get isRetryable(): boolean {
    return true
  }
}

/**
 * A NetworkConfiguration write found a MAC it was planned with already held by another NetworkConfiguration (claimed
 * in the operator's index since the plan was made, ADR 0013): nothing is written; the next plan takes the next
 * derivation.
 */
export class MacAddressTaken extends Schema.TaggedError<MacAddressTaken>()("MacAddressTaken", {
  mac: Schema.String,
  owner: Schema.String
}) {
  override get message(): string {
    return `MAC address ${this.mac} is held by NetworkConfiguration ${this.owner}; nothing written`
  }
  get isRetryable(): boolean {
    return true
  }
}

export type ExecutionError = KubeApiError | RemoteUnavailable | NotOurs | ContentUnavailable | MacAddressTaken

/** The reason tag used in conditions and metrics for any execution error. */
export const reasonOf = (e: ExecutionError): string => (e._tag === "KubeApiError" ? e.reason._tag : e._tag)

/** Retryable: transient API reasons, and an unavailable remote (it may come back); each error says so itself. */
export const isRetryable = (e: ExecutionError): boolean => e.isRetryable
