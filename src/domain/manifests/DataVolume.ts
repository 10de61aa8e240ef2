/**
 * CDI DataVolume manifests from a `DataVolumeSpec`, and the projection of a live DataVolume back to observed facts.
 * Domain layer: pure. Uses CDI's `storage` API (not `pvc`): CDI fills access and volume modes from the StorageProfile
 * of the class, so the operator never guesses them for imported disks. What is observed holds no image credential
 * (ADR 0018): CDI's failure message and an older operator's `vitistack.io/image-source` show URLs in display form.
 */
import { type DataVolumeSpec, IMAGE_SOURCE_ANNOTATION, type ObservedDataVolume } from "../DataVolumeSpec.ts"
import type { KubeObject } from "../KubeObject.ts"
import { redactUrl, redactUrlsIn } from "../redactUrl.ts"
import { asArray, asRecord, asString } from "./jsonPath.ts"

export const CDI_API_VERSION = "cdi.kubevirt.io/v1beta1"

const sourceFields = (d: DataVolumeSpec): Record<string, unknown> => {
  switch (d.source._tag) {
    case "Http":
      return { source: { http: { url: d.source.url } } }
    case "Registry":
      return { source: { registry: { url: d.source.url } } }
    case "DataSource":
      return { sourceRef: { kind: "DataSource", namespace: d.source.namespace, name: d.source.name } }
  }
}

export const dataVolumeManifest = (d: DataVolumeSpec): KubeObject => ({
  apiVersion: CDI_API_VERSION,
  kind: "DataVolume",
  metadata: {
    name: d.name,
    namespace: d.namespace,
    labels: { ...d.labels },
    ...(Object.keys(d.annotations).length > 0 ? { annotations: { ...d.annotations } } : {})
  },
  spec: {
    ...sourceFields(d),
    storage: {
      resources: { requests: { storage: d.storage } },
      ...(d.storageClassName === undefined ? {} : { storageClassName: d.storageClassName })
    }
  }
})

/** Running=False reasons of an import that is starting normally (the importer pod's container on its way). */
const STARTING = ["Completed", "Pending", "", "ContainerCreating", "PodInitializing"]

/** CDI's failing condition: Running=False with a reason other than the normal ones, or Ready=False on Failed. */
const failureOf = (status: Record<string, unknown>): ObservedDataVolume["failure"] => {
  const phase = asString(status.phase)
  for (const c of asArray(status.conditions)) {
    const cond = asRecord(c)
    const reason = asString(cond.reason)
    if (reason === undefined || cond.status !== "False") continue
    if (phase === "Failed" || (cond.type === "Running" && !STARTING.includes(reason)))
      // Masked before it is cut, so a cut cannot leave half a credential unrecognised (Go's errors quote the URL).
      return { reason, message: redactUrlsIn(asString(cond.message) ?? "").slice(0, 512) }
  }
  return phase === "Failed" ? { reason: "Failed", message: "" } : undefined
}

/** The annotations as observed, `vitistack.io/image-source` in display form (DataVolumes made before held the URL). */
const shownAnnotations = (a: Readonly<Record<string, string>> | undefined): Record<string, string> => {
  const source = a?.[IMAGE_SOURCE_ANNOTATION]
  return source === undefined ? { ...(a ?? {}) } : { ...a, [IMAGE_SOURCE_ANNOTATION]: redactUrl(source) }
}

export const observeDataVolume = (o: KubeObject): ObservedDataVolume => {
  const status = asRecord(o.status)
  const phase = asString(status.phase)
  const progress = asString(status.progress)
  const failure = failureOf(status)
  const ownerVm = o.metadata.ownerReferences?.find((r) => r.kind === "VirtualMachine")?.name
  return {
    name: o.metadata.name,
    labels: { ...(o.metadata.labels ?? {}) },
    annotations: shownAnnotations(o.metadata.annotations),
    resourceVersion: o.metadata.resourceVersion ?? "",
    ...(phase === undefined ? {} : { phase }),
    ...(progress === undefined ? {} : { progress }),
    ...(failure === undefined ? {} : { failure }),
    deleting: o.metadata.deletionTimestamp !== undefined,
    ...(ownerVm === undefined ? {} : { ownerVm })
  }
}

/** A DataVolume a VM may be created against: imported, or waiting for its first consumer (WFFC storage). */
export const isUsable = (d: ObservedDataVolume): boolean =>
  d.phase === "Succeeded" || d.phase === "WaitForFirstConsumer" || d.phase === "PendingPopulation"
