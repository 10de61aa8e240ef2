/**
 * A vitistack NetworkNamespace (supervisor, `vitistack.io/v1alpha1`) as the operator reads it (ADR 0013): how its
 * addresses are allocated, its static pool when it has one, and the VLAN the network operator provisioned for it.
 * Domain layer: pure schema; `manifests/NetworkNamespace.ts` projects a live object onto it.
 */
import { Schema } from "effect"

const Str = Schema.String

/** `spec.ipAllocation.static`: the subnet a static-IP operator allocates from. */
export const StaticPool = Schema.Struct({
  ipv4CIDR: Schema.optionalKey(Str),
  ipv4Gateway: Schema.optionalKey(Str),
  dns: Schema.Array(Str)
})
export type StaticPool = typeof StaticPool.Type

export const ObservedNetworkNamespace = Schema.Struct({
  name: Str,
  /** `spec.ipAllocation.type`: `dhcp`, `static`, or absent (DHCP, the CRD's default behaviour). */
  ipAllocationType: Schema.optionalKey(Str),
  /** `spec.ipAllocation.static`; absent when the NetworkNamespace has no such block. */
  static: Schema.optionalKey(StaticPool),
  /** `status.vlanId`; absent while the network operator has not provisioned the namespace. */
  vlanId: Schema.optionalKey(Schema.Number),
  deleting: Schema.Boolean
})
export type ObservedNetworkNamespace = typeof ObservedNetworkNamespace.Type
