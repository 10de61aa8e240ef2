/**
 * The live KubeApi: raw REST requests built from the KindTable (so status subresources, preconditions and
 * server-side apply are explicit), authenticated by a ClusterAccess (a Secret's self-contained kubeconfig, the pod's
 * service account, or a person's kubeconfig file), sent over one HTTP/1.1 keep-alive transport per client
 * (transport.ts, ADR 0006), and watches read line by line from the same transport (watchStream.ts). Effects layer
 * (cluster service); its layers are in clients.ts.
 * Every non-2xx response goes through `reasonFromHttp`; nothing here logs requests, tokens or bodies.
 */
import { Duration, Effect, Option, Predicate, Result, Schema, Stream } from "effect"
import type { ServedVersion } from "../../domain/ApiDiscovery.ts"
import { KubeObject } from "../../domain/KubeObject.ts"
import type { ObjectRef } from "../../domain/ObjectRef.ts"
import type { DeleteResult, KubeApiService, ListOptions, ListResult } from "../KubeApi.ts"
import {
  describeCollection,
  describeGroup,
  describeObject,
  Invalid,
  type KubeApiError,
  KubeStatus,
  type KubeVerb,
  kubeApiError,
  NotFound,
  reasonFromHttp,
  reasonFromTransport,
  ServerError
} from "../KubeApiError.ts"
import type { ClusterAccess } from "./ClusterAccess.ts"
import { type KubeconfigFileOptions, loadKubeconfigFile } from "./clientNodeAccess.ts"
import { makeTransport } from "./clusterTransport.ts"
import { type InClusterOptions, loadInClusterAccess } from "./inClusterAccess.ts"
import { groupOf, type KindInfo, type KindRef, KindTable, qualifiedResource } from "./KindTable.ts"
import type { KubeconfigError } from "./KubeconfigError.ts"
import { selectorProblem, selectorString } from "./labelSelector.ts"
import { bodyForRef } from "./requestBody.ts"
import { loadSecretKubeconfig, type SecretKubeconfigOptions } from "./secretKubeconfig.ts"
import type { HttpMethod } from "./transport.ts"
import { watchStream } from "./watchStream.ts"

export interface LiveOptions extends SecretKubeconfigOptions {
  /** Kinds the client can address; default `KindTable.default`. */
  readonly kinds?: KindTable | undefined
  /** Deadline of one write request. Default 30 seconds. */
  readonly requestTimeout?: Duration.Input | undefined
  /**
   * Deadline of one read (get, list) and of a watch's response (its headers). Default 10 seconds, or
   * `requestTimeout` when that is shorter: a cluster that accepts connections and never answers holds a reconcile
   * for this long, not for a write's deadline (reads are cheap to repeat; an abandoned write may have happened).
   */
  readonly readTimeout?: Duration.Input | undefined
  /**
   * A watch that receives no bytes for this long is ended (the caller resumes it). Default 90 seconds: above the
   * apiserver's bookmark interval (one a minute), so a quiet watch still advances its resourceVersion. A watch
   * with no response within `requestTimeout` fails with Timeout.
   */
  readonly watchIdleTimeout?: Duration.Input | undefined
  /** Items per page of a list (`limit`, followed by `continue`). Default 500, as client-go's pager. */
  readonly listPageSize?: number | undefined
}

interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

interface Request {
  readonly method: HttpMethod
  readonly path: string
  readonly query?: Readonly<Record<string, string | undefined>> | undefined
  readonly body?: unknown
  readonly contentType?: string | undefined
}

const decodeObject = Schema.decodeUnknownOption(KubeObject)
const decodeJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))
const decodeStatus = Schema.decodeUnknownOption(KubeStatus)

const ListBody = Schema.Struct({
  metadata: Schema.optional(
    Schema.Struct({ resourceVersion: Schema.optional(Schema.String), continue: Schema.optional(Schema.String) })
  ),
  items: Schema.NullOr(Schema.Array(Schema.Record(Schema.String, Schema.Unknown)))
})
const decodeList = Schema.decodeUnknownOption(ListBody)

/** Discovery's APIGroup (`/apis/<group>`) and APIResourceList (`/apis/<group>/<version>`), as far as they are read. */
const ApiGroupBody = Schema.Struct({ versions: Schema.Array(Schema.Struct({ version: Schema.String })) })
const ApiResourceListBody = Schema.Struct({
  resources: Schema.NullOr(
    Schema.Array(Schema.Struct({ name: Schema.String, kind: Schema.String, namespaced: Schema.Boolean }))
  )
})
const decodeApiGroup = Schema.decodeUnknownOption(ApiGroupBody)
const decodeApiResourceList = Schema.decodeUnknownOption(ApiResourceListBody)

const apiRoot = (info: KindInfo): string =>
  groupOf(info.apiVersion) === "" ? `/api/${info.apiVersion}` : `/apis/${info.apiVersion}`

const collectionPath = (info: KindInfo, namespace: string | undefined): string =>
  `${apiRoot(info)}${info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${info.plural}`

const objectPath = (info: KindInfo, ref: ObjectRef): string =>
  `${collectionPath(info, ref.namespace)}/${encodeURIComponent(ref.name)}`

/** Lists and some watch events omit apiVersion/kind on items; the request says what they are. */
const withType = (kind: KindRef, raw: unknown): unknown =>
  Predicate.isObject(raw) ? { apiVersion: kind.apiVersion, kind: kind.kind, ...raw } : raw

/** Items per list response (client-go's pager's default). */
const LIST_PAGE = 500

const unexpectedBody = (what: string) => new ServerError({ message: `unexpected response body: ${what}` })

/** The live KubeApi for a cluster's access (see the loaders below). */
export const makeLiveApiFromAccess = (access: ClusterAccess, options: LiveOptions = {}): KubeApiService => {
  const pageSize = options.listPageSize ?? LIST_PAGE
  const kinds = options.kinds ?? KindTable.default
  const timeoutMillis = Duration.toMillis(Duration.fromInputUnsafe(options.requestTimeout ?? Duration.seconds(30)))
  const readMillis = Math.min(
    timeoutMillis,
    Duration.toMillis(Duration.fromInputUnsafe(options.readTimeout ?? Duration.seconds(10)))
  )
  const watchIdleMillis = Duration.toMillis(Duration.fromInputUnsafe(options.watchIdleTimeout ?? Duration.seconds(90)))
  const transport = makeTransport(access)

  const pathWithQuery = (path: string, query: Readonly<Record<string, string | undefined>> = {}): string => {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v)
    const q = params.toString()
    return q === "" ? path : `${path}?${q}`
  }

  const send = (verb: KubeVerb, target: string, request: Request): Effect.Effect<RawResponse, KubeApiError> =>
    Effect.tryPromise({
      try: async (signal) => {
        const response = await transport.send({
          method: request.method,
          path: pathWithQuery(request.path, request.query),
          contentType: request.body === undefined ? undefined : (request.contentType ?? "application/json"),
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(request.method === "GET" ? readMillis : timeoutMillis)])
        })
        return { status: response.status, headers: response.headers, text: response.body }
      },
      catch: (cause) => kubeApiError(verb, target, reasonFromTransport(cause))
    }).pipe(
      Effect.flatMap((response) =>
        response.status >= 200 && response.status < 300
          ? Effect.succeed(response)
          : Effect.fail(
              kubeApiError(
                verb,
                target,
                reasonFromHttp({ status: response.status, body: response.text, headers: response.headers })
              )
            )
      )
    )

  const parseObject = (verb: KubeVerb, target: string, kind: KindRef, text: string) =>
    Option.match(
      Option.flatMap(decodeJson(text), (json) => decodeObject(withType(kind, json))),
      {
        onNone: () => Effect.fail(kubeApiError(verb, target, unexpectedBody("not a Kubernetes object"))),
        onSome: (o) => Effect.succeed(o)
      }
    )

  const resolve = (verb: KubeVerb, target: string, kind: KindRef, namespace: string | undefined, single: boolean) => {
    const info = kinds.lookup(kind)
    if (Option.isNone(info)) {
      return Effect.fail(
        kubeApiError(
          verb,
          target,
          new NotFound({ message: `kind ${kind.kind} in ${kind.apiVersion} is not registered in the KindTable` })
        )
      )
    }
    if (single && info.value.namespaced && namespace === undefined) {
      return Effect.fail(
        kubeApiError(
          verb,
          target,
          new Invalid({ message: `${kind.kind} is namespaced: the reference needs a namespace` })
        )
      )
    }
    if (!info.value.namespaced && namespace !== undefined) {
      return Effect.fail(
        kubeApiError(verb, target, new Invalid({ message: `${kind.kind} is cluster-scoped: no namespace allowed` }))
      )
    }
    return Effect.succeed(info.value)
  }

  const prepared = (
    verb: KubeVerb,
    target: string,
    info: KindInfo,
    ref: ObjectRef,
    body: KubeObject,
    keepRv: boolean
  ) =>
    Result.match(bodyForRef(info, ref, body, { keepResourceVersion: keepRv }), {
      onSuccess: (b) => Effect.succeed(b),
      onFailure: (reason) => Effect.fail(kubeApiError(verb, target, reason))
    })

  const checkSelector = (verb: KubeVerb, target: string, selector: Readonly<Record<string, string>> | undefined) =>
    Option.match(selector === undefined ? Option.none() : selectorProblem(selector), {
      onNone: () => Effect.void,
      onSome: (problem) =>
        Effect.fail(kubeApiError(verb, target, new Invalid({ message: `invalid label selector: ${problem}` })))
    })

  /** Names the target on the current span and returns it. */
  const annotate = (target: string) => Effect.as(Effect.annotateCurrentSpan("kube.target", target), target)

  const get: KubeApiService["get"] = Effect.fn("KubeApi.get")(
    function* (ref) {
      const target = yield* annotate(describeObject(ref))
      const info = yield* resolve("get", target, ref, ref.namespace, true)
      const response = yield* send("get", target, { method: "GET", path: objectPath(info, ref) })
      return Option.some(yield* parseObject("get", target, ref, response.text))
    },
    // Only "this object does not exist" is None. A 404 for the resource itself (CRD not installed, wrong
    // group/version, a proxy) carries no details.name and stays an error, so it is never read as absent.
    (effect, ref) =>
      Effect.catchReason(effect, "KubeApiError", "NotFound", (reason, error) => {
        const status = Option.flatMap(Option.fromUndefinedOr(reason.cause), (c) => decodeStatus(c))
        const named = Option.exists(status, (s) => s.details?.name === ref.name)
        return named ? Effect.succeedNone : Effect.fail(error)
      })
  )

  /**
   * One page of a list (`limit` and `continue`, as client-go's pager): a response of `pageSize` items at most, so a
   * list of 10,000 Machines never holds its whole body as one string and its parse at once (ADR 0017, "Memory").
   */
  const listPage = (
    target: string,
    info: KindInfo,
    kind: KindRef,
    options: ListOptions,
    limit: number | undefined,
    token: string | undefined
  ) =>
    Effect.gen(function* () {
      const response = yield* send("list", target, {
        method: "GET",
        path: collectionPath(info, options.namespace),
        query: {
          labelSelector: selectorString(options.labelSelector),
          limit: limit === undefined ? undefined : String(limit),
          continue: token
        }
      })
      const body = Option.flatMap(decodeJson(response.text), decodeList)
      if (Option.isNone(body)) return yield* Effect.fail(kubeApiError("list", target, unexpectedBody("not a list")))
      const items: Array<KubeObject> = []
      for (const raw of body.value.items ?? []) {
        const o = decodeObject(withType(kind, raw))
        if (Option.isNone(o)) return yield* Effect.fail(kubeApiError("list", target, unexpectedBody("bad list item")))
        items.push(o.value)
      }
      const next = body.value.metadata?.continue
      return {
        items,
        resourceVersion: body.value.metadata?.resourceVersion ?? "",
        continue: next === undefined || next === "" ? undefined : next
      }
    })

  const list: KubeApiService["list"] = Effect.fn("KubeApi.list")(function* (kind, options = {}) {
    const target = yield* annotate(describeCollection(kind.kind, options.namespace))
    const info = yield* resolve("list", target, kind, options.namespace, false)
    yield* checkSelector("list", target, options.labelSelector)
    const items: Array<KubeObject> = []
    let page = yield* listPage(target, info, kind, options, pageSize, undefined)
    for (;;) {
      for (const o of page.items) items.push(o)
      if (page.continue === undefined) break
      const token = page.continue
      const next = yield* Effect.result(listPage(target, info, kind, options, pageSize, token))
      if (Result.isSuccess(next)) page = next.success
      else if (next.failure.reason._tag === "Gone") {
        // The continue token expired (the list took longer than etcd keeps its revision): as client-go's pager,
        // list everything in one response instead.
        items.length = 0
        page = yield* listPage(target, info, kind, options, undefined, undefined)
      } else return yield* Effect.fail(next.failure)
    }
    const result: ListResult = { items, resourceVersion: page.resourceVersion }
    return result
  })

  const create: KubeApiService["create"] = Effect.fn("KubeApi.create")(function* (ref, body) {
    const target = yield* annotate(describeObject(ref))
    const info = yield* resolve("create", target, ref, ref.namespace, true)
    const payload = yield* prepared("create", target, info, ref, body, false)
    const response = yield* send("create", target, {
      method: "POST",
      path: collectionPath(info, ref.namespace),
      body: payload
    })
    return yield* parseObject("create", target, ref, response.text)
  })

  const patch: KubeApiService["patch"] = Effect.fn("KubeApi.patch")(function* (ref, mergePatch, options = {}) {
    const target = yield* annotate(describeObject(ref))
    const info = yield* resolve("patch", target, ref, ref.namespace, true)
    const metadata = Predicate.isObject(mergePatch.metadata) ? mergePatch.metadata : {}
    // resourceVersion inside a merge patch is the apiserver's optimistic-concurrency precondition.
    const body =
      options.resourceVersion === undefined
        ? mergePatch
        : { ...mergePatch, metadata: { ...metadata, resourceVersion: options.resourceVersion } }
    const response = yield* send("patch", target, {
      method: "PATCH",
      path: objectPath(info, ref),
      body,
      contentType: "application/merge-patch+json"
    })
    return yield* parseObject("patch", target, ref, response.text)
  })

  const apply: KubeApiService["apply"] = Effect.fn("KubeApi.apply")(function* (ref, body, options) {
    const target = yield* annotate(describeObject(ref))
    const info = yield* resolve("apply", target, ref, ref.namespace, true)
    const payload = yield* prepared("apply", target, info, ref, body, true)
    const response = yield* send("apply", target, {
      method: "PATCH",
      path: objectPath(info, ref),
      query: { fieldManager: options.fieldManager, force: options.force === true ? "true" : undefined },
      body: payload,
      contentType: "application/apply-patch+yaml"
    })
    return yield* parseObject("apply", target, ref, response.text)
  })

  const del: KubeApiService["delete"] = Effect.fn("KubeApi.delete")(function* (ref, options = {}) {
    const target = yield* annotate(describeObject(ref))
    const info = yield* resolve("delete", target, ref, ref.namespace, true)
    const preconditions = {
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion })
    }
    const response = yield* send("delete", target, {
      method: "DELETE",
      path: objectPath(info, ref),
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        ...(Object.keys(preconditions).length === 0 ? {} : { preconditions }),
        ...(options.propagationPolicy === undefined ? {} : { propagationPolicy: options.propagationPolicy })
      }
    })
    const json = decodeJson(response.text)
    const isStatus = Option.exists(json, (j) => Predicate.isObject(j) && "kind" in j && j.kind === "Status")
    if (isStatus) return { _tag: "Deleted" } satisfies DeleteResult
    const object = yield* parseObject("delete", target, ref, response.text)
    const result: DeleteResult =
      object.metadata.deletionTimestamp === undefined ? { _tag: "Deleted" } : { _tag: "Finalizing", object }
    return result
  })

  const updateStatus: KubeApiService["updateStatus"] = Effect.fn("KubeApi.updateStatus")(
    function* (ref, status, options) {
      const target = yield* annotate(describeObject(ref))
      const info = yield* resolve("updateStatus", target, ref, ref.namespace, true)
      if (!info.statusSubresource) {
        return yield* Effect.fail(
          kubeApiError(
            "updateStatus",
            target,
            new NotFound({
              message: `the server could not find the requested resource (${qualifiedResource(info)}/status)`
            })
          )
        )
      }
      // A JSON patch that sets metadata.resourceVersion makes the update conditional on it (Conflict when
      // stale), and `add /status` replaces the whole status, so no field of an older status survives.
      const response = yield* send("updateStatus", target, {
        method: "PATCH",
        path: `${objectPath(info, ref)}/status`,
        body: [
          { op: "replace", path: "/metadata/resourceVersion", value: options.resourceVersion },
          { op: "add", path: "/status", value: status }
        ],
        contentType: "application/json-patch+json"
      })
      return yield* parseObject("updateStatus", target, ref, response.text)
    }
  )

  const watch: KubeApiService["watch"] = (kind, options = {}) => {
    const target = describeCollection(kind.kind, options.namespace)
    return Stream.unwrap(
      Effect.gen(function* () {
        const info = yield* resolve("watch", target, kind, options.namespace, false)
        yield* checkSelector("watch", target, options.labelSelector)
        const path = pathWithQuery(collectionPath(info, options.namespace), {
          watch: "true",
          resourceVersion: options.resourceVersion,
          allowWatchBookmarks: options.allowBookmarks === true ? "true" : undefined,
          timeoutSeconds: options.timeoutSeconds === undefined ? undefined : String(options.timeoutSeconds),
          labelSelector: selectorString(options.labelSelector)
        })
        // The deadline for the response headers is the request timeout; once streaming, silence ends the watch.
        return watchStream({
          open: (signal) => transport.open({ path, signal }),
          kind,
          target,
          responseTimeoutMillis: readMillis,
          idleTimeoutMillis: watchIdleMillis
        })
      })
    )
  }

  const discover: KubeApiService["discover"] = Effect.fn("KubeApi.discover")(function* (group) {
    const target = yield* annotate(describeGroup(group))
    // A 404 means the server does not serve the group (or, for one version, no longer does): not an error.
    const fetch = (path: string) =>
      send("discover", target, { method: "GET", path }).pipe(
        Effect.map((r) => Option.some(r.text)),
        Effect.catchReason("KubeApiError", "NotFound", () => Effect.succeedNone)
      )
    const groupText = yield* fetch(`/apis/${encodeURIComponent(group)}`)
    if (Option.isNone(groupText)) return Option.none()
    const body = Option.flatMap(decodeJson(groupText.value), decodeApiGroup)
    if (Option.isNone(body))
      return yield* Effect.fail(kubeApiError("discover", target, unexpectedBody("not an APIGroup")))
    const served: Array<ServedVersion> = []
    for (const { version } of body.value.versions) {
      const text = yield* fetch(`/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`)
      if (Option.isNone(text)) continue
      const list = Option.flatMap(decodeJson(text.value), decodeApiResourceList)
      if (Option.isNone(list))
        return yield* Effect.fail(kubeApiError("discover", target, unexpectedBody("not an APIResourceList")))
      served.push({
        version,
        resources: (list.value.resources ?? [])
          .filter((r) => !r.name.includes("/"))
          .map((r) => ({ name: r.name, kind: r.kind, namespaced: r.namespaced }))
      })
    }
    return Option.some(served)
  })

  return { get, list, create, patch, apply, delete: del, watch, updateStatus, discover }
}

/**
 * The live KubeApi for an untrusted kubeconfig (a Secret's): self-contained by rule, see `loadSecretKubeconfig`.
 */
export const makeLiveApi = (
  kubeconfigYaml: string,
  options: LiveOptions = {}
): Effect.Effect<KubeApiService, KubeconfigError> =>
  Effect.map(loadSecretKubeconfig(kubeconfigYaml, options), (access) => makeLiveApiFromAccess(access, options))

/** The live KubeApi for a person's kubeconfig file (file references allowed; exec only with `allowExecAuth`). */
export const makeLiveApiFromKubeconfigFile = (
  path: string,
  options: LiveOptions & KubeconfigFileOptions = {}
): Effect.Effect<KubeApiService, KubeconfigError> =>
  Effect.map(loadKubeconfigFile(path, options), (access) => makeLiveApiFromAccess(access, options))

/** The live KubeApi for the pod's service account. */
export const makeLiveApiInCluster = (
  options: LiveOptions & InClusterOptions = {}
): Effect.Effect<KubeApiService, KubeconfigError> =>
  Effect.map(loadInClusterAccess(options), (access) => makeLiveApiFromAccess(access, options))
