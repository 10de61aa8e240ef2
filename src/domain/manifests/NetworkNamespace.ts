/**
 * Projects a live vitistack NetworkNamespace onto what the operator reads (ADR 0013): the allocation type, the static
 * pool and the provisioned VLAN. Domain layer: pure.
 */
import type { KubeObject } from "../KubeObject.ts"
import type { ObservedNetworkNamespace } from "../NetworkNamespaceSpec.ts"
import { asNumber, asRecord, asString, asStringArray } from "./jsonPath.ts"

export const observeNetworkNamespace = (o: KubeObject): ObservedNetworkNamespace => {
  const allocation = asRecord(asRecord(o.spec).ipAllocation)
  const type = asString(allocation.type)
  const staticBlock = allocation.static
  const pool = asRecord(staticBlock)
  const cidr = asString(pool.ipv4CIDR)
  const gateway = asString(pool.ipv4Gateway)
  const vlanId = asNumber(asRecord(o.status).vlanId)
  return {
    name: o.metadata.name,
    ...(type === undefined ? {} : { ipAllocationType: type }),
    ...(staticBlock !== null && typeof staticBlock === "object"
      ? {
          static: {
            ...(cidr === undefined ? {} : { ipv4CIDR: cidr }),
            ...(gateway === undefined ? {} : { ipv4Gateway: gateway }),
            dns: asStringArray(pool.dns)
          }
        }
      : {}),
    ...(vlanId === undefined ? {} : { vlanId }),
    deleting: o.metadata.deletionTimestamp !== undefined
  }
}
