/**
 * A VLAN NetworkAttachmentDefinition the operator creates when it is allowed to (ADR 0013, opt-in), and what it reads
 * to delete its own once no VM uses them. Domain layer: pure schemas; `manifests/NetworkAttachmentDefinition.ts`
 * renders and projects them.
 */
import { Schema } from "effect"

const Str = Schema.String

export const NetworkAttachmentSpec = Schema.Struct({
  name: Str,
  namespace: Str,
  /** Ours (`managed-by`), and `vitistack.io/vlan-id` for a tagged VLAN (the Go operator's). */
  labels: Schema.Record(Str, Str),
  /** The bridge's VLAN tag; absent: an untagged bridge (`bridge-br0`). */
  vlanId: Schema.optionalKey(Schema.Number),
  /** `NETWORK_ATTACHMENT_DEFINITION_CNI_VERSION`. */
  cniVersion: Str
})
export type NetworkAttachmentSpec = typeof NetworkAttachmentSpec.Type

/** One NAD the operator created in a namespace (by our `managed-by` label). */
export const OwnNetworkAttachment = Schema.Struct({ name: Str, resourceVersion: Str, deleting: Schema.Boolean })
export type OwnNetworkAttachment = typeof OwnNetworkAttachment.Type

/** On deletion with the opt-in: the NADs we created in the Machine's namespace, and those any VM there still names. */
export const NetworkAttachmentUsage = Schema.Struct({
  ours: Schema.Array(OwnNetworkAttachment),
  inUse: Schema.Array(Str)
})
export type NetworkAttachmentUsage = typeof NetworkAttachmentUsage.Type
