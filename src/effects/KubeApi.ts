/**
 * The cluster service: one interface for the supervisor and for every remote cluster (get, list, create,
 * patch, apply, delete, watch, updateStatus, discover), with typed `KubeApiError`s, and its tag. Effects layer.
 * This file holds the interface and the tag only; the implementations and decorators import it and export their own
 * layers (`kube/liveApi.ts`, `kube/inMemoryApi.ts`, `kube/readOnly.ts`, `kube/FaultInjection.ts`,
 * `kube/instrumented.ts`), and `src/runtime` reaches them through one entry point, `kube/clients.ts` (ADR 0008).
 */
import { Context, type Effect, type Option, type Stream } from "effect"
import type { ServedVersion } from "../domain/ApiDiscovery.ts"
import type { KubeObject } from "../domain/KubeObject.ts"
import type { ObjectRef } from "../domain/ObjectRef.ts"
import type { KubeApiError } from "./KubeApiError.ts"
import type { KindRef } from "./kube/KindTable.ts"
import type { LabelSelector } from "./kube/labelSelector.ts"

export interface ListOptions {
  /** Omit to list across all namespaces (or for cluster-scoped kinds). */
  readonly namespace?: string | undefined
  /** Equality selector: every key must have exactly this value. */
  readonly labelSelector?: LabelSelector | undefined
}

export interface ListResult {
  readonly items: ReadonlyArray<KubeObject>
  /** The collection's resourceVersion: watch from it to see every later change. */
  readonly resourceVersion: string
}

/** A JSON merge patch (RFC 7386): objects merge, `null` deletes, arrays replace. */
export type MergePatch = { readonly [field: string]: unknown }

export interface PatchOptions {
  /**
   * Precondition: the patch applies only if the object still has this resourceVersion; otherwise Conflict.
   * A stale plan therefore fails instead of overwriting a newer object.
   */
  readonly resourceVersion?: string | undefined
}

export interface ApplyOptions {
  /** Server-side apply field manager (required by the apiserver). */
  readonly fieldManager: string
  /** Take ownership of fields owned by other managers instead of failing with Conflict. */
  readonly force?: boolean | undefined
}

export interface DeleteOptions {
  /** Precondition on the resourceVersion: Conflict if the object changed since it was read. */
  readonly resourceVersion?: string | undefined
  /** Precondition on the uid: Conflict if the name now belongs to a different object. */
  readonly uid?: string | undefined
  readonly propagationPolicy?: "Background" | "Foreground" | "Orphan" | undefined
}

/**
 * `Deleted`: the object is gone. `Finalizing`: it has a deletionTimestamp and stays until its finalizers
 * are removed (namespaces always pass through this state).
 */
export type DeleteResult = { readonly _tag: "Deleted" } | { readonly _tag: "Finalizing"; readonly object: KubeObject }

export interface WatchOptions extends ListOptions {
  /**
   * Deliver changes after this resourceVersion (usually the list's). Omitted: first an ADDED event per
   * existing object, then changes. Too old: the stream fails with reason Gone; relist, then watch again.
   */
  readonly resourceVersion?: string | undefined
  /** Ask for BOOKMARK events (live layer only), which carry a newer resourceVersion to resume from. */
  readonly allowBookmarks?: boolean | undefined
  /** Server-side timeout of one watch request (live layer); the stream then ends normally. */
  readonly timeoutSeconds?: number | undefined
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"

export interface WatchEvent {
  readonly type: WatchEventType
  /** The object after the change (for DELETED, its last state). BOOKMARK objects carry only metadata. */
  readonly object: KubeObject
}

export interface UpdateStatusOptions {
  /** Required precondition: status writes never overwrite a status computed from an older object. */
  readonly resourceVersion: string
}

/** The operations every layer implements. */
export interface KubeApiService {
  /** The object, or `Option.none()` when it does not exist (404). */
  readonly get: (ref: ObjectRef) => Effect.Effect<Option.Option<KubeObject>, KubeApiError>
  readonly list: (kind: KindRef, options?: ListOptions) => Effect.Effect<ListResult, KubeApiError>
  /** Creates `body` at `ref` (name/namespace taken from `ref` when the body omits them). */
  readonly create: (ref: ObjectRef, body: KubeObject) => Effect.Effect<KubeObject, KubeApiError>
  /** JSON merge patch; `.status` is ignored for kinds with a status subresource. */
  readonly patch: (ref: ObjectRef, patch: MergePatch, options?: PatchOptions) => Effect.Effect<KubeObject, KubeApiError>
  /** Server-side apply: creates or updates `ref` from the desired `body`. */
  readonly apply: (ref: ObjectRef, body: KubeObject, options: ApplyOptions) => Effect.Effect<KubeObject, KubeApiError>
  readonly delete: (ref: ObjectRef, options?: DeleteOptions) => Effect.Effect<DeleteResult, KubeApiError>
  /** One watch request as a stream; it ends when the server closes it, fails with Gone when too old. */
  readonly watch: (kind: KindRef, options?: WatchOptions) => Stream.Stream<WatchEvent, KubeApiError>
  /** Replaces `.status` (and nothing else) through the status subresource. */
  readonly updateStatus: (
    ref: ObjectRef,
    status: unknown,
    options: UpdateStatusOptions
  ) => Effect.Effect<KubeObject, KubeApiError>
  /**
   * API discovery: the versions of the named API group `group` (`kubevirt.io`) the server serves, each with its
   * resources (`GET /apis/<group>`, then `/apis/<group>/<version>`), or none when it serves no such group. Discovery
   * needs no RBAC rule of the operator's: every authenticated identity has the default `system:discovery` role.
   */
  readonly discover: (group: string) => Effect.Effect<Option.Option<ReadonlyArray<ServedVersion>>, KubeApiError>
}

/** The cluster service. Provide one instance per cluster (supervisor, each remote). */
export class KubeApi extends Context.Service<KubeApi, KubeApiService>()("kubevirt-operator/effects/KubeApi") {}
