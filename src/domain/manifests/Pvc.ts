/**
 * PersistentVolumeClaim manifests from a `PvcSpec`, and the projection of a live claim back to observed facts.
 * Domain layer: pure. The two functions are inverses on the owned fields (tested as a round trip).
 */
import type { KubeObject } from "../KubeObject.ts"
import type { ObservedPvc } from "../ObservedState.ts"
import type { PvcSpec } from "../PvcSpec.ts"
import { asRecord, asString, asStringArray } from "./jsonPath.ts"

export const pvcManifest = (p: PvcSpec): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: {
    name: p.name,
    namespace: p.namespace,
    labels: { ...p.labels },
    ...(Object.keys(p.annotations).length > 0 ? { annotations: { ...p.annotations } } : {})
  },
  spec: {
    accessModes: [...p.accessModes],
    volumeMode: p.volumeMode,
    resources: { requests: { storage: p.storage } },
    ...(p.storageClassName === undefined ? {} : { storageClassName: p.storageClassName })
  }
})

/** The merge patch that grows a claim's request (the only mutable field the operator changes). */
export const pvcExpandPatch = (storage: string) => ({ spec: { resources: { requests: { storage } } } })

export const observePvc = (o: KubeObject): ObservedPvc => {
  const spec = asRecord(o.spec)
  const storageClassName = asString(spec.storageClassName)
  const volumeMode = asString(spec.volumeMode)
  return {
    name: o.metadata.name,
    labels: { ...(o.metadata.labels ?? {}) },
    resourceVersion: o.metadata.resourceVersion ?? "",
    storage: asString(asRecord(asRecord(spec.resources).requests).storage) ?? "",
    ...(storageClassName === undefined ? {} : { storageClassName }),
    ...(volumeMode === undefined ? {} : { volumeMode }),
    accessModes: asStringArray(spec.accessModes),
    deleting: o.metadata.deletionTimestamp !== undefined
  }
}
