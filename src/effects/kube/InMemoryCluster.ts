/**
 * An in-process Kubernetes API server state with the semantics the operator depends on: resourceVersions
 * and optimistic concurrency, AlreadyExists/NotFound, namespace existence and termination, finalizers and
 * deletionTimestamp, label selectors, status subresources, generation, a watch history with Gone, request
 * counts and seeded fault injection. Effects layer (cluster service), served as a KubeApi by `inMemoryApi.ts`.
 * Every operation is synchronous, so each one is atomic; see docs/adr/0003-cluster-service.md.
 * Over 400 lines on purpose: it holds one concept (a fake apiserver's state) whose parts share private state;
 * banners mark them (inspection, operations, internals, the namespace controller).
 */
import { Option, Result } from "effect"
import type { ServedVersion } from "../../domain/ApiDiscovery.ts"
import { isDnsLabel, isDnsSubdomain } from "../../domain/dnsNames.ts"
import type { KubeObject, ObjectMeta } from "../../domain/KubeObject.ts"
import type { ObjectRef } from "../../domain/ObjectRef.ts"
import type {
  ApplyOptions,
  DeleteOptions,
  DeleteResult,
  ListOptions,
  ListResult,
  MergePatch,
  PatchOptions,
  UpdateStatusOptions,
  WatchEvent,
  WatchOptions
} from "../KubeApi.ts"
import {
  AlreadyExists,
  Conflict,
  Forbidden,
  Gone,
  Invalid,
  type KubeApiErrorReason,
  type KubeVerb,
  NotFound,
  writeVerbs
} from "../KubeApiError.ts"
import { type FaultConfig, FaultInjector } from "./FaultInjection.ts"
import { groupOf, type KindInfo, type KindRef, KindTable, qualifiedResource } from "./KindTable.ts"
import { matchesLabels, selectorProblem } from "./labelSelector.ts"
import { applyMergePatch, jsonEqual } from "./mergePatch.ts"
import { bodyForRef, stripServerFields } from "./requestBody.ts"

export interface InMemoryClusterOptions {
  /** Kinds the cluster serves; default `KindTable.default`. */
  readonly kinds?: KindTable | undefined
  /** How many change events the watch history keeps; older resourceVersions get Gone. Default 10000. */
  readonly historyLimit?: number | undefined
  /** Seeded failures injected by the in-memory KubeApi (requests are counted before injection). */
  readonly faults?: FaultConfig | undefined
}

/** One change, as recorded in the watch history. */
export interface ClusterEvent {
  readonly resourceVersion: number
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly object: KubeObject
  /** The object before the change (MODIFIED, DELETED), to decide selector transitions. */
  readonly previous: KubeObject | undefined
}

export interface RequestFilter {
  readonly verb?: KubeVerb | undefined
  readonly kind?: string | undefined
}

export interface ObjectFilter {
  readonly apiVersion?: string | undefined
  readonly kind?: string | undefined
  readonly namespace?: string | undefined
}

type Op<A> = Result.Result<A, KubeApiErrorReason>

const ok = <A>(a: A): Op<A> => Result.succeed(a)
const fail = (reason: KubeApiErrorReason): Op<never> => Result.fail(reason)

const NAMESPACE: KindRef = { apiVersion: "v1", kind: "Namespace" }

const isoSeconds = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

const objectKey = (apiVersion: string, kind: string, namespace: string | undefined, name: string): string =>
  `${apiVersion}|${kind}|${namespace ?? ""}|${name}`

const keyOfObject = (o: KubeObject): string => objectKey(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)

/** Core and built-in kinds carry no metadata.generation; custom resources do. */
const tracksGeneration = (info: KindInfo): boolean => {
  const group = groupOf(info.apiVersion)
  return group !== "" && !group.endsWith(".k8s.io")
}

/** The part of an object whose change bumps metadata.generation (as the CRD strategy computes it). */
const specPart = (info: KindInfo, o: KubeObject): Record<string, unknown> => {
  const { metadata: _m, status, ...rest } = o
  return info.statusSubresource || status === undefined ? rest : { ...rest, status }
}

const clone = <A>(a: A): A => structuredClone(a)

/** What the apiserver answers for a kind it does not serve (a CRD that is not installed). */
const notServed = (kind: KindRef) =>
  new NotFound({
    message: `the server could not find the requested resource (kind ${kind.kind} in ${kind.apiVersion} is not served)`,
    status: 404
  })

/** The stored objects by key, and by kind, so a list or watch of one kind does not scan every object. */
class IndexedStore {
  private readonly all = new Map<string, KubeObject>()
  private readonly byKind = new Map<string, Map<string, KubeObject>>()

  get(key: string): KubeObject | undefined {
    return this.all.get(key)
  }

  has(key: string): boolean {
    return this.all.has(key)
  }

  set(key: string, o: KubeObject): void {
    this.all.set(key, o)
    let kind = this.byKind.get(o.kind)
    if (kind === undefined) {
      kind = new Map()
      this.byKind.set(o.kind, kind)
    }
    kind.set(key, o)
  }

  delete(key: string): void {
    const o = this.all.get(key)
    if (o === undefined) return
    this.all.delete(key)
    this.byKind.get(o.kind)?.delete(key)
  }

  values(): IterableIterator<KubeObject> {
    return this.all.values()
  }

  /** The objects of one kind (any apiVersion). */
  ofKind(kind: string): IterableIterator<KubeObject> {
    return (this.byKind.get(kind) ?? new Map<string, KubeObject>()).values()
  }
}

/**
 * The in-memory cluster. Build one with `InMemoryCluster.make()`, seed it, give it to
 * `layerInMemoryFrom` (inMemoryApi.ts), then read `objects()` / `requestCount()` in assertions.
 */
export class InMemoryCluster {
  readonly kinds: KindTable
  readonly faults: FaultInjector | undefined
  private readonly historyLimit: number
  private readonly store = new IndexedStore()
  /** The watch history is `history` from `historyStart` on (dropping from the front is amortised O(1)). */
  private readonly history: Array<ClusterEvent> = []
  private historyStart = 0
  private readonly listeners = new Set<(event: ClusterEvent) => void>()
  private readonly counts = new Map<string, number>()
  private revision = 0
  /** Watches from a resourceVersion below this are Gone (their events were dropped from history). */
  private compactedThrough = 0
  private uids = 0

  private constructor(options: InMemoryClusterOptions) {
    this.kinds = options.kinds ?? KindTable.default
    this.historyLimit = options.historyLimit ?? 10_000
    this.faults = options.faults === undefined ? undefined : FaultInjector.make(options.faults)
  }

  static make(options: InMemoryClusterOptions = {}): InMemoryCluster {
    return new InMemoryCluster(options)
  }

  // ---------------------------------------------------------------- inspection (no counting, no faults)

  /** The current resourceVersion of the whole cluster (as a list would return it). */
  get resourceVersion(): string {
    return String(this.revision)
  }

  /** A copy of every stored object matching the filter, ordered by kind, namespace, name. */
  objects(filter: ObjectFilter = {}): ReadonlyArray<KubeObject> {
    return [...(filter.kind === undefined ? this.store.values() : this.store.ofKind(filter.kind))]
      .filter(
        (o) =>
          (filter.apiVersion === undefined || o.apiVersion === filter.apiVersion) &&
          (filter.namespace === undefined || o.metadata.namespace === filter.namespace)
      )
      .sort((a, b) => (keyOfObject(a) < keyOfObject(b) ? -1 : 1))
      .map(clone)
  }

  /** A copy of one stored object. */
  object(ref: ObjectRef): Option.Option<KubeObject> {
    return Option.map(
      Option.fromUndefinedOr(this.store.get(objectKey(ref.apiVersion, ref.kind, ref.namespace, ref.name))),
      clone
    )
  }

  /**
   * Puts objects into the cluster as they are (status included), bypassing admission: no namespace checks,
   * no counting. Missing uid/resourceVersion/creationTimestamp/generation are filled in. Emits ADDED or
   * MODIFIED events like any other change.
   */
  seed(objects: ReadonlyArray<KubeObject>, now = 0): void {
    for (const o of objects) {
      const previous = this.store.get(keyOfObject(o))
      const rv = ++this.revision
      const stored: KubeObject = {
        ...clone(o),
        metadata: {
          ...clone(o.metadata),
          uid: o.metadata.uid ?? previous?.metadata.uid ?? this.nextUid(),
          creationTimestamp: o.metadata.creationTimestamp ?? isoSeconds(now),
          resourceVersion: String(rv),
          ...(o.metadata.generation === undefined ? {} : { generation: o.metadata.generation })
        }
      }
      this.store.set(keyOfObject(stored), stored)
      this.emit({ resourceVersion: rv, type: previous === undefined ? "ADDED" : "MODIFIED", object: stored, previous })
    }
  }

  /** Requests served so far, by `verb kind` (e.g. `create VirtualMachine`). */
  requestCounts(): ReadonlyMap<string, number> {
    return new Map(this.counts)
  }

  /** Requests matching the filter (all when empty). */
  requestCount(filter: RequestFilter = {}): number {
    let n = 0
    for (const [key, count] of this.counts) {
      const [verb, kind] = key.split(" ") as [KubeVerb, string]
      if ((filter.verb === undefined || filter.verb === verb) && (filter.kind === undefined || filter.kind === kind)) {
        n += count
      }
    }
    return n
  }

  /** create + patch + apply + delete + updateStatus requests (optionally of one kind): "zero writes" checks. */
  writeCount(kind?: string): number {
    let n = 0
    for (const verb of writeVerbs) n += this.requestCount({ verb, kind })
    return n
  }

  resetRequestCounts(): void {
    this.counts.clear()
  }

  /** Drops the whole watch history: a watch from any earlier resourceVersion now fails with Gone. */
  compact(): void {
    this.history.length = 0
    this.historyStart = 0
    this.compactedThrough = this.revision
  }

  /** Counts one request (called by the in-memory KubeApi before fault injection). */
  recordRequest(verb: KubeVerb, kind: string): void {
    const key = `${verb} ${kind}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
  }

  // ---------------------------------------------------------------- API operations (synchronous, atomic)

  /** Discovery from the served kinds: the versions of `group` in table order, each with its resources. */
  discover(group: string): Op<Option.Option<ReadonlyArray<ServedVersion>>> {
    const versions = new Map<string, Array<ServedVersion["resources"][number]>>()
    for (const info of this.kinds.all()) {
      if (groupOf(info.apiVersion) !== group || group === "") continue
      const version = info.apiVersion.slice(group.length + 1)
      versions.set(version, [
        ...(versions.get(version) ?? []),
        { name: info.plural, kind: info.kind, namespaced: info.namespaced }
      ])
    }
    return ok(
      versions.size === 0
        ? Option.none()
        : Option.some([...versions].map(([version, resources]) => ({ version, resources })))
    )
  }

  get(ref: ObjectRef): Op<Option.Option<KubeObject>> {
    return Result.map(this.resolve(ref), () =>
      Option.map(Option.fromUndefinedOr(this.store.get(this.keyOfRef(ref))), clone)
    )
  }

  list(kind: KindRef, options: ListOptions = {}): Op<ListResult> {
    const checked = this.checkCollection(kind, options)
    if (Result.isFailure(checked)) return fail(checked.failure)
    const items = [...this.store.ofKind(kind.kind)]
      .filter((o) => this.inCollection(o, kind, options))
      .sort((a, b) => (keyOfObject(a) < keyOfObject(b) ? -1 : 1))
      .map(clone)
    return ok({ items, resourceVersion: String(this.revision) })
  }

  create(ref: ObjectRef, body: KubeObject, now: number): Op<KubeObject> {
    const resolved = this.resolve(ref)
    if (Result.isFailure(resolved)) return fail(resolved.failure)
    const info = resolved.success
    const checked = this.checkBody(info, ref, body)
    if (Result.isFailure(checked)) return fail(checked.failure)
    const admitted = this.admitCreate(info, ref)
    if (Result.isFailure(admitted)) return fail(admitted.failure)
    if (this.store.has(this.keyOfRef(ref))) {
      return fail(
        new AlreadyExists({ message: `${qualifiedResource(info)} "${ref.name}" already exists`, status: 409 })
      )
    }
    return ok(this.insert(info, ref, checked.success, now))
  }

  patch(ref: ObjectRef, patch: MergePatch, options: PatchOptions, now: number): Op<KubeObject> {
    const current = this.existing(ref)
    if (Result.isFailure(current)) return fail(current.failure)
    const [info, existing] = current.success
    const patchMeta = (patch as { readonly metadata?: { readonly resourceVersion?: unknown } }).metadata
    const wanted =
      options.resourceVersion ??
      (typeof patchMeta?.resourceVersion === "string" ? patchMeta.resourceVersion : undefined)
    const fresh = this.checkResourceVersion(info, existing, wanted)
    if (Result.isFailure(fresh)) return fail(fresh.failure)
    return this.update(info, existing, applyMergePatch(existing, patch) as KubeObject, now)
  }

  apply(ref: ObjectRef, body: KubeObject, options: ApplyOptions, now: number): Op<KubeObject> {
    const resolved = this.resolve(ref)
    if (Result.isFailure(resolved)) return fail(resolved.failure)
    const info = resolved.success
    if (options.fieldManager.trim() === "") {
      return fail(new Invalid({ message: "fieldManager is required for apply requests", status: 400 }))
    }
    const checked = this.checkBody(info, ref, body, true)
    if (Result.isFailure(checked)) return fail(checked.failure)
    const existing = this.store.get(this.keyOfRef(ref))
    if (existing === undefined) {
      const admitted = this.admitCreate(info, ref)
      if (Result.isFailure(admitted)) return fail(admitted.failure)
      return ok(this.insert(info, ref, checked.success, now))
    }
    const fresh = this.checkResourceVersion(info, existing, checked.success.metadata.resourceVersion)
    if (Result.isFailure(fresh)) return fail(fresh.failure)
    return this.update(info, existing, applyMergePatch(existing, checked.success) as KubeObject, now)
  }

  delete(ref: ObjectRef, options: DeleteOptions, now: number): Op<DeleteResult> {
    const current = this.existing(ref)
    if (Result.isFailure(current)) return fail(current.failure)
    const [info, existing] = current.success
    if (options.uid !== undefined && options.uid !== existing.metadata.uid) {
      return fail(
        new Conflict({
          message: `Precondition failed: UID in precondition: ${options.uid}, UID in object meta: ${existing.metadata.uid}`,
          status: 409
        })
      )
    }
    if (options.resourceVersion !== undefined && options.resourceVersion !== existing.metadata.resourceVersion) {
      return fail(
        new Conflict({
          message: `Precondition failed: ResourceVersion in precondition: ${options.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
          status: 409
        })
      )
    }
    if (existing.metadata.deletionTimestamp !== undefined) return ok({ _tag: "Finalizing", object: clone(existing) })
    const isNamespace = info.kind === "Namespace" && info.apiVersion === "v1"
    if (!isNamespace && (existing.metadata.finalizers ?? []).length === 0) {
      this.remove(existing)
      this.runNamespaceController(now)
      return ok({ _tag: "Deleted" })
    }
    const marked = this.markDeleting(existing, now)
    this.runNamespaceController(now)
    return ok({ _tag: "Finalizing", object: clone(marked) })
  }

  updateStatus(ref: ObjectRef, status: unknown, options: UpdateStatusOptions, _now?: number): Op<KubeObject> {
    const resolved = this.resolve(ref)
    if (Result.isFailure(resolved)) return fail(resolved.failure)
    if (!resolved.success.statusSubresource) {
      return fail(
        new NotFound({
          message: `the server could not find the requested resource (${qualifiedResource(resolved.success)}/status)`,
          status: 404
        })
      )
    }
    const current = this.existing(ref)
    if (Result.isFailure(current)) return fail(current.failure)
    const [info, existing] = current.success
    const fresh = this.checkResourceVersion(info, existing, options.resourceVersion)
    if (Result.isFailure(fresh)) return fail(fresh.failure)
    const next = { ...existing, status: clone(status) }
    if (jsonEqual(next, existing)) return ok(clone(existing))
    return ok(this.commit(next, existing))
  }

  /**
   * Registers a watch atomically: the events to deliver first (replayed history, or ADDED per object when
   * no resourceVersion is given) and a listener for every later change, already filtered and translated
   * for the selector (an object starting to match is ADDED, stopping to match is DELETED).
   */
  watch(
    kind: KindRef,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void
  ): Op<{ readonly initial: ReadonlyArray<WatchEvent>; readonly unsubscribe: () => void }> {
    const checked = this.checkCollection(kind, options)
    if (Result.isFailure(checked)) return fail(checked.failure)
    const from = options.resourceVersion
    let initial: Array<WatchEvent>
    if (from === undefined || from === "" || from === "0") {
      initial = [...this.store.ofKind(kind.kind)]
        .filter((o) => this.inCollection(o, kind, options))
        .sort((a, b) => (keyOfObject(a) < keyOfObject(b) ? -1 : 1))
        .map((o) => ({ type: "ADDED", object: clone(o) }))
    } else {
      const since = Number(from)
      if (!Number.isSafeInteger(since) || since < 0) {
        return fail(new Invalid({ message: `invalid resourceVersion "${from}"`, status: 400 }))
      }
      if (since < this.compactedThrough) {
        return fail(
          new Gone({
            message: `too old resource version: ${since} (${this.compactedThrough + 1})`,
            status: 410
          })
        )
      }
      initial = this.history
        .slice(this.historyStart)
        .filter((e) => e.resourceVersion > since)
        .flatMap((e) => this.translate(e, kind, options))
    }
    const listener = (event: ClusterEvent) => {
      for (const e of this.translate(event, kind, options)) onEvent(e)
    }
    this.listeners.add(listener)
    return ok({ initial, unsubscribe: () => this.listeners.delete(listener) })
  }

  // ---------------------------------------------------------------- internals

  private nextUid(): string {
    const n = ++this.uids
    return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`
  }

  private keyOfRef(ref: ObjectRef): string {
    return objectKey(ref.apiVersion, ref.kind, ref.namespace, ref.name)
  }

  /** The kind of `ref`, checking that the kind is served and the scope matches. */
  private resolve(ref: ObjectRef): Op<KindInfo> {
    const info = this.kinds.lookup(ref)
    if (Option.isNone(info)) {
      return fail(notServed(ref))
    }
    if (info.value.namespaced && ref.namespace === undefined) {
      return fail(new Invalid({ message: `${ref.kind} is namespaced: the reference needs a namespace`, status: 400 }))
    }
    if (!info.value.namespaced && ref.namespace !== undefined) {
      return fail(new Invalid({ message: `${ref.kind} is cluster-scoped: the reference must not have a namespace` }))
    }
    return ok(info.value)
  }

  private checkCollection(kind: KindRef, options: ListOptions): Op<KindInfo> {
    const info = this.kinds.lookup(kind)
    if (Option.isNone(info)) {
      return fail(notServed(kind))
    }
    if (!info.value.namespaced && options.namespace !== undefined) {
      return fail(new Invalid({ message: `${kind.kind} is cluster-scoped: cannot list it in a namespace` }))
    }
    const problem = options.labelSelector === undefined ? Option.none() : selectorProblem(options.labelSelector)
    if (Option.isSome(problem))
      return fail(new Invalid({ message: `invalid label selector: ${problem.value}`, status: 400 }))
    return ok(info.value)
  }

  private inCollection(o: KubeObject, kind: KindRef, options: ListOptions): boolean {
    return (
      o.apiVersion === kind.apiVersion &&
      o.kind === kind.kind &&
      (options.namespace === undefined || o.metadata.namespace === options.namespace) &&
      matchesLabels(options.labelSelector, o.metadata.labels)
    )
  }

  private translate(event: ClusterEvent, kind: KindRef, options: ListOptions): ReadonlyArray<WatchEvent> {
    const o = event.object
    if (o.apiVersion !== kind.apiVersion || o.kind !== kind.kind) return []
    if (options.namespace !== undefined && o.metadata.namespace !== options.namespace) return []
    const matchesNow = matchesLabels(options.labelSelector, o.metadata.labels)
    const matchedBefore =
      event.previous !== undefined && matchesLabels(options.labelSelector, event.previous.metadata.labels)
    switch (event.type) {
      case "ADDED":
        return matchesNow ? [{ type: "ADDED", object: clone(o) }] : []
      case "DELETED":
        return matchesNow || matchedBefore ? [{ type: "DELETED", object: clone(o) }] : []
      case "MODIFIED":
        if (matchesNow && matchedBefore) return [{ type: "MODIFIED", object: clone(o) }]
        if (matchesNow) return [{ type: "ADDED", object: clone(o) }]
        if (matchedBefore) return [{ type: "DELETED", object: clone(o) }]
        return []
    }
  }

  /** Body must agree with the URL (apiVersion, kind, name, namespace) and carry a valid name and labels. */
  private checkBody(info: KindInfo, ref: ObjectRef, body: KubeObject, keepResourceVersion = false): Op<KubeObject> {
    const prepared = bodyForRef(info, ref, body, { keepResourceVersion })
    if (Result.isFailure(prepared)) return fail(prepared.failure)
    const isNamespace = info.kind === "Namespace" && info.apiVersion === "v1"
    const valid = isNamespace ? isDnsLabel(ref.name) : isDnsSubdomain(ref.name)
    if (!valid) {
      return fail(
        new Invalid({
          message: `${ref.kind} "${ref.name}" is invalid: metadata.name: Invalid value: "${ref.name}": must be a lowercase RFC 1123 ${isNamespace ? "label" : "subdomain"}`,
          status: 422,
          causes: [{ reason: "FieldValueInvalid", field: "metadata.name", message: "Invalid value" }]
        })
      )
    }
    const problem = selectorProblem(body.metadata.labels ?? {})
    if (Option.isSome(problem)) {
      return fail(new Invalid({ message: `${ref.kind} "${ref.name}" is invalid: ${problem.value}`, status: 422 }))
    }
    return prepared
  }

  /** NamespaceLifecycle admission: the namespace must exist and must not be terminating. */
  private admitCreate(info: KindInfo, ref: ObjectRef): Op<void> {
    if (!info.namespaced || ref.namespace === undefined) return ok(undefined)
    const ns = this.store.get(objectKey(NAMESPACE.apiVersion, NAMESPACE.kind, undefined, ref.namespace))
    if (ns === undefined) {
      return fail(new NotFound({ message: `namespaces "${ref.namespace}" not found`, status: 404 }))
    }
    if (ns.metadata.deletionTimestamp !== undefined) {
      return fail(
        new Forbidden({
          message: `${qualifiedResource(info)} "${ref.name}" is forbidden: unable to create new content in namespace ${ref.namespace} because it is being terminated`,
          status: 403,
          causes: [
            { reason: "NamespaceTerminating", field: "metadata.namespace", message: "namespace is being terminated" }
          ]
        })
      )
    }
    return ok(undefined)
  }

  private existing(ref: ObjectRef): Op<readonly [KindInfo, KubeObject]> {
    const resolved = this.resolve(ref)
    if (Result.isFailure(resolved)) return fail(resolved.failure)
    const existing = this.store.get(this.keyOfRef(ref))
    if (existing === undefined) {
      return fail(
        new NotFound({ message: `${qualifiedResource(resolved.success)} "${ref.name}" not found`, status: 404 })
      )
    }
    return ok([resolved.success, existing] as const)
  }

  private checkResourceVersion(info: KindInfo, existing: KubeObject, wanted: string | undefined): Op<void> {
    if (wanted === undefined || wanted === existing.metadata.resourceVersion) return ok(undefined)
    return fail(
      new Conflict({
        message: `Operation cannot be fulfilled on ${qualifiedResource(info)} "${existing.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        status: 409
      })
    )
  }

  private insert(info: KindInfo, ref: ObjectRef, body: KubeObject, now: number): KubeObject {
    const { status, ...rest } = clone(body)
    const metadata: ObjectMeta = {
      ...stripServerFields(body.metadata),
      name: ref.name,
      ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
      uid: this.nextUid(),
      creationTimestamp: isoSeconds(now),
      ...(tracksGeneration(info) ? { generation: 1 } : {})
    }
    const isNamespace = info.kind === "Namespace" && info.apiVersion === "v1"
    const initialStatus = isNamespace
      ? { phase: "Active" }
      : info.kind === "PersistentVolumeClaim"
        ? { phase: "Pending" }
        : undefined
    const object: KubeObject = {
      ...rest,
      ...(isNamespace ? { spec: { finalizers: ["kubernetes"] } } : {}),
      metadata,
      ...(info.statusSubresource
        ? initialStatus === undefined
          ? {}
          : { status: initialStatus }
        : status === undefined
          ? {}
          : { status })
    }
    return this.commit(object, undefined)
  }

  /**
   * Applies a client update (patch/apply result) the way the apiserver's update path does: server fields
   * and `.status` (for status subresources) are kept, generation bumps on spec change, no new finalizers
   * while deleting, and a deleting object whose last finalizer went away is removed.
   */
  private update(info: KindInfo, existing: KubeObject, patched: KubeObject, now: number): Op<KubeObject> {
    const m = existing.metadata
    const metadata: ObjectMeta = {
      ...stripServerFields(patched.metadata ?? m),
      name: m.name,
      ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
      ...(m.uid === undefined ? {} : { uid: m.uid }),
      ...(m.creationTimestamp === undefined ? {} : { creationTimestamp: m.creationTimestamp }),
      ...(m.deletionTimestamp === undefined ? {} : { deletionTimestamp: m.deletionTimestamp }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
      ...(m.generation === undefined ? {} : { generation: m.generation })
    }
    const { status: patchedStatus, ...patchedRest } = patched
    const next: KubeObject = {
      ...patchedRest,
      apiVersion: existing.apiVersion,
      kind: existing.kind,
      metadata,
      ...(info.statusSubresource
        ? existing.status === undefined
          ? {}
          : { status: existing.status }
        : patchedStatus === undefined
          ? {}
          : { status: patchedStatus })
    }
    const problem = selectorProblem(metadata.labels ?? {})
    if (Option.isSome(problem)) {
      return fail(new Invalid({ message: `${m.name} is invalid: ${problem.value}`, status: 422 }))
    }
    if (m.deletionTimestamp !== undefined) {
      const before = new Set(m.finalizers ?? [])
      if ((metadata.finalizers ?? []).some((f) => !before.has(f))) {
        return fail(
          new Invalid({
            message: `${qualifiedResource(info)} "${m.name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted`,
            status: 422
          })
        )
      }
    }
    if (jsonEqual(next, existing)) return ok(clone(existing))
    const bumped: KubeObject =
      tracksGeneration(info) && !jsonEqual(specPart(info, next), specPart(info, existing))
        ? { ...next, metadata: { ...next.metadata, generation: (m.generation ?? 0) + 1 } }
        : next
    const committed = this.commit(bumped, existing)
    if (committed.metadata.deletionTimestamp !== undefined && (committed.metadata.finalizers ?? []).length === 0) {
      const isNamespace = info.kind === "Namespace" && info.apiVersion === "v1"
      if (!isNamespace) this.remove(committed)
      this.runNamespaceController(now)
    }
    return ok(committed)
  }

  /** Stores `object` with a new resourceVersion and emits ADDED (no previous) or MODIFIED. */
  private commit(object: KubeObject, previous: KubeObject | undefined): KubeObject {
    const rv = ++this.revision
    const stored: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } }
    this.store.set(keyOfObject(stored), stored)
    this.emit({ resourceVersion: rv, type: previous === undefined ? "ADDED" : "MODIFIED", object: stored, previous })
    return clone(stored)
  }

  private remove(object: KubeObject): void {
    const rv = ++this.revision
    const last: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } }
    this.store.delete(keyOfObject(object))
    this.emit({ resourceVersion: rv, type: "DELETED", object: last, previous: object })
  }

  private markDeleting(existing: KubeObject, now: number): KubeObject {
    const isNamespace = existing.kind === "Namespace" && existing.apiVersion === "v1"
    const marked: KubeObject = {
      ...existing,
      metadata: { ...existing.metadata, deletionTimestamp: isoSeconds(now) },
      ...(isNamespace ? { status: { ...(existing.status as object | undefined), phase: "Terminating" } } : {})
    }
    return this.commit(marked, existing)
  }

  /**
   * What kube-controller-manager's namespace controller does, synchronously: in a terminating namespace,
   * delete every object (those with finalizers get a deletionTimestamp and stay), and remove the
   * namespace once it is empty and has no metadata finalizers left.
   */
  private runNamespaceController(now: number): void {
    const terminating = [...this.store.ofKind(NAMESPACE.kind)].filter(
      (o) => o.apiVersion === "v1" && o.metadata.deletionTimestamp !== undefined
    )
    for (const ns of terminating) {
      const name = ns.metadata.name
      for (const o of [...this.store.values()]) {
        if (o.metadata.namespace !== name || o.metadata.deletionTimestamp !== undefined) continue
        if ((o.metadata.finalizers ?? []).length === 0) this.remove(o)
        else this.markDeleting(o, now)
      }
      const empty = ![...this.store.values()].some((o) => o.metadata.namespace === name)
      if (empty && (ns.metadata.finalizers ?? []).length === 0) {
        const current = this.store.get(keyOfObject(ns))
        if (current !== undefined) this.remove(current)
      }
    }
  }

  private emit(event: ClusterEvent): void {
    this.history.push(event)
    while (this.history.length - this.historyStart > this.historyLimit) {
      this.compactedThrough = this.history[this.historyStart]!.resourceVersion
      this.historyStart++
    }
    // Drop the consumed front in one go once it is as long as the window: amortised O(1) per event.
    if (this.historyStart > 0 && this.historyStart >= this.historyLimit) {
      this.history.splice(0, this.historyStart)
      this.historyStart = 0
    }
    for (const listener of [...this.listeners]) listener(event)
  }
}
