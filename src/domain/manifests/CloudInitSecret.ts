/**
 * The cloud-init Secret's manifest (from the desired spec and the payload it was planned for) and the projection of a
 * live Secret to what the planner compares: labels, annotations (the digest), never the data. Domain layer: pure.
 * The keys are KubeVirt's (`userdata`, `networkdata`), read by the VM's `secretRef` / `networkDataSecretRef`.
 */
import { Redacted } from "effect"
import { Base64 } from "effect/encoding"
import type { CloudInitSecretSpec, ObservedSecret } from "../CloudInitSecretSpec.ts"
import type { CloudInitPayload } from "../cloudInitPayload.ts"
import type { KubeObject } from "../KubeObject.ts"

/** The annotation that records which payload a Secret holds. */
export const CLOUD_INIT_DIGEST_ANNOTATION = "vitistack.io/cloud-init-digest"

/** The Secret's `data`: base64 of each part. The only place the content leaves `Redacted`, on its way to the API. */
export const cloudInitSecretData = (payload: CloudInitPayload): Record<string, string> => ({
  userdata: Base64.encode(Redacted.value(payload.userdata)),
  ...(payload.networkdata === undefined ? {} : { networkdata: Base64.encode(Redacted.value(payload.networkdata)) })
})

export const cloudInitSecretManifest = (s: CloudInitSecretSpec, payload: CloudInitPayload): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: s.name, namespace: s.namespace, labels: { ...s.labels }, annotations: { ...s.annotations } },
  type: "Opaque",
  data: cloudInitSecretData(payload)
})

/** The merge patch that replaces the payload (data replaced whole: `null` drops a network data key no longer wanted). */
export const cloudInitSecretPatch = (s: CloudInitSecretSpec, payload: CloudInitPayload) => ({
  metadata: { labels: { ...s.labels }, annotations: { ...s.annotations } },
  data: { networkdata: null, ...cloudInitSecretData(payload) }
})

export const observeSecret = (o: KubeObject): ObservedSecret => ({
  name: o.metadata.name,
  labels: { ...(o.metadata.labels ?? {}) },
  annotations: { ...(o.metadata.annotations ?? {}) },
  resourceVersion: o.metadata.resourceVersion ?? "",
  deleting: o.metadata.deletionTimestamp !== undefined
})
