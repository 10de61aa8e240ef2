/**
 * A stand-in for CDI's import controller, next to the KubeVirt stand-in (tests, `npm start`, dev clusters): a new
 * DataVolume goes ImportScheduled (or CloneScheduled for a DataSource) → ImportInProgress with a progress
 * percentage → Succeeded, and gets its PVC (the DataVolume's labels, an owner reference to it, access and volume
 * modes from the class's StorageProfile as CDI's `storage` API fills them). An http source whose URL contains
 * `bad` fails like CDI does (phase Failed, Running=False with reason `Error`); a clone whose DataSource does not
 * exist stays Pending. When a DataVolume goes, its PVC goes (owner-reference garbage collection, which the
 * in-memory cluster does not run). Runtime layer (a development tool, not part of the operator).
 */
import { type Duration, Effect, FiberMap, Option } from "effect"
import type { KubeObject } from "../../domain/KubeObject.ts"
import { asArray, asRecord, asString } from "../../domain/manifests/jsonPath.ts"
import { Kinds, refOf } from "../../domain/ObjectRef.ts"
import type { KubeApiService } from "../../effects/KubeApi.ts"
import { conflictRetry } from "../../effects/retry.ts"
import { runInformer } from "../informer.ts"

export interface CdiStandInOptions {
  /** Time between import steps. Default 200 ms. */
  readonly step?: Duration.Input
}

const setStatus = (api: KubeApiService, dv: KubeObject, status: Record<string, unknown>) => {
  const ref = refOf("DataVolume", dv.metadata.name, dv.metadata.namespace)
  return Effect.gen(function* () {
    const fresh = yield* api.get(ref)
    if (Option.isNone(fresh) || fresh.value.metadata.deletionTimestamp !== undefined) return
    yield* api.updateStatus(ref, status, { resourceVersion: fresh.value.metadata.resourceVersion ?? "" })
  }).pipe(Effect.retry({ schedule: conflictRetry, while: (e) => e.reason._tag === "Conflict" }))
}

const condition = (type: string, status: "True" | "False", reason: string, message = "") => ({
  type,
  status,
  reason,
  message
})

/** Access and volume modes as CDI's `storage` API fills them: the class's profile, else ReadWriteOnce Filesystem. */
const modesFor = (api: KubeApiService, storageClass: string | undefined) =>
  Effect.gen(function* () {
    let className = storageClass
    if (className === undefined) {
      const classes = yield* api.list(Kinds.StorageClass)
      className = classes.items.find(
        (c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true"
      )?.metadata.name
    }
    const profile = className === undefined ? Option.none() : yield* api.get(refOf("StorageProfile", className))
    const first = Option.isSome(profile)
      ? asRecord(asArray(asRecord(profile.value.status).claimPropertySets)[0])
      : undefined
    const accessModes = first === undefined ? [] : asArray(first.accessModes)
    return {
      accessModes: accessModes.length > 0 ? accessModes : ["ReadWriteOnce"],
      volumeMode: asString(first?.volumeMode) ?? "Filesystem",
      ...(className === undefined ? {} : { storageClassName: className })
    }
  }).pipe(Effect.orElseSucceed(() => ({ accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem" })))

const pvcFor = (dv: KubeObject, modes: Record<string, unknown>): KubeObject => {
  const storage = asRecord(asRecord(dv.spec).storage)
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: dv.metadata.name,
      namespace: dv.metadata.namespace ?? "default",
      labels: { ...(dv.metadata.labels ?? {}) },
      ownerReferences: [
        {
          apiVersion: dv.apiVersion,
          kind: "DataVolume",
          name: dv.metadata.name,
          uid: dv.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true
        }
      ]
    },
    spec: { ...modes, resources: asRecord(storage.resources) }
  } as KubeObject
}

/** Runs the CDI stand-in against one cluster until interrupted. */
export const runCdiStandIn = (api: KubeApiService, options: CdiStandInOptions = {}) =>
  Effect.gen(function* () {
    const step = options.step ?? "200 millis"
    const imports = yield* FiberMap.make<string>()
    const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`

    const importing = (dv: KubeObject) =>
      Effect.gen(function* () {
        const spec = asRecord(dv.spec)
        const url = asString(asRecord(asRecord(spec.source).http).url) ?? ""
        const sourceRef = asRecord(spec.sourceRef)
        const clone = asString(sourceRef.name) !== undefined
        if (clone) {
          const ds = yield* api.get(
            refOf("DataSource", asString(sourceRef.name) ?? "", asString(sourceRef.namespace) ?? dv.metadata.namespace)
          )
          if (Option.isNone(ds))
            return yield* setStatus(api, dv, {
              phase: "Pending",
              conditions: [condition("Running", "False", "CloneWithoutSource", "DataSource not found")]
            })
        }
        yield* setStatus(api, dv, {
          phase: clone ? "CloneScheduled" : "ImportScheduled",
          progress: "N/A",
          conditions: [condition("Running", "False", "Pending")]
        })
        yield* Effect.sleep(step)
        if (url.includes("bad"))
          return yield* setStatus(api, dv, {
            phase: "Failed",
            progress: "N/A",
            conditions: [
              condition(
                "Running",
                "False",
                "Error",
                "Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found"
              ),
              condition("Ready", "False", "Error")
            ]
          })
        const modes = yield* modesFor(api, asString(asRecord(spec.storage).storageClassName))
        yield* api
          .create(refOf("PersistentVolumeClaim", dv.metadata.name, dv.metadata.namespace), pvcFor(dv, modes))
          .pipe(
            Effect.catchIf(
              (e) => e.reason._tag === "AlreadyExists",
              () => Effect.void
            )
          )
        for (const progress of ["0.00%", "43.20%", "100.0%"]) {
          yield* setStatus(api, dv, {
            phase: clone ? "CloneInProgress" : "ImportInProgress",
            progress,
            conditions: [condition("Running", "True", "Pod is running")]
          })
          yield* Effect.sleep(step)
        }
        yield* setStatus(api, dv, {
          phase: "Succeeded",
          progress: "100.0%",
          conditions: [condition("Running", "False", "Completed"), condition("Ready", "True", "")]
        })
      }).pipe(Effect.catch((e) => Effect.logWarning(`cdi stand-in: ${e.message}`)))

    const removeClaim = (dv: KubeObject) =>
      Effect.gen(function* () {
        const ref = refOf("PersistentVolumeClaim", dv.metadata.name, dv.metadata.namespace)
        const pvc = yield* api.get(ref)
        const owned =
          Option.isSome(pvc) &&
          (pvc.value.metadata.ownerReferences ?? []).some((o) => o.kind === "DataVolume" && o.name === dv.metadata.name)
        if (owned) yield* api.delete(ref)
      }).pipe(Effect.catch(() => Effect.void))

    yield* runInformer(
      api,
      Kinds.DataVolume,
      {},
      {
        onEvent: (type, dv) =>
          Effect.gen(function* () {
            const key = keyOf(dv)
            if (type === "DELETED" || dv.metadata.deletionTimestamp !== undefined) {
              yield* FiberMap.remove(imports, key)
              return yield* removeClaim(dv)
            }
            if (asString(asRecord(dv.status).phase) === undefined && !(yield* FiberMap.has(imports, key)))
              yield* FiberMap.run(imports, key, importing(dv))
          })
      },
      "standin/DataVolumes"
    )
  }).pipe(Effect.scoped)
