/**
 * The vitistack NetworkConfiguration a Machine's MACs are recorded in (ADR 0013): its manifest, the projection of a
 * live one, and the interface list an update writes. Domain layer: pure.
 * An update keeps what others wrote into an entry it does not own (addresses, gateways, allocation fields of the IP
 * operators) and only sets `name` and `macAddress`, so it never undoes an IP operator's work.
 */
import type { KubeObject } from "../KubeObject.ts"
import type {
  NetworkConfigurationSpec,
  ObservedNetworkConfiguration,
  RecordedInterface
} from "../NetworkConfigurationSpec.ts"
import { asArray, asRecord, asString, asStringArray } from "./jsonPath.ts"

export const networkConfigurationManifest = (s: NetworkConfigurationSpec): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "NetworkConfiguration",
  metadata: {
    name: s.name,
    namespace: s.namespace,
    labels: { ...s.labels },
    ...(Object.keys(s.annotations).length > 0 ? { annotations: { ...s.annotations } } : {}),
    // Controller reference without blockOwnerDeletion: the Machine's own finalizer already orders its deletion, and
    // blocking would need update rights on machines/finalizers for this object too.
    ownerReferences: [
      { apiVersion: "vitistack.io/v1alpha1", kind: "Machine", name: s.owner.name, uid: s.owner.uid, controller: true }
    ]
  },
  spec: {
    name: s.shortName,
    description: s.description,
    networkNamespaceName: s.networkNamespaceName,
    networkInterfaces: s.interfaces.map((i) => ({ name: i.name, macAddress: i.macAddress }))
  }
})

/**
 * `spec.networkInterfaces` after recording `wanted` over a live list: an entry of the same name keeps its other
 * fields and gets the MAC; entries for interfaces the VM no longer has are dropped; the order is the VM's.
 */
export const mergeInterfaces = (
  live: ReadonlyArray<unknown>,
  wanted: ReadonlyArray<RecordedInterface>
): Array<Record<string, unknown>> =>
  wanted.map((w) => {
    const existing = live.map(asRecord).find((e) => asString(e.name) === w.name)
    return { ...(existing ?? {}), name: w.name, macAddress: w.macAddress }
  })

/** The interfaces `wanted` holds that `observed` lacks or records with another MAC (what makes an update due). */
export const missingInterfaces = (
  observed: Pick<ObservedNetworkConfiguration, "interfaces">,
  wanted: ReadonlyArray<RecordedInterface>
): ReadonlyArray<RecordedInterface> =>
  wanted.filter(
    (w) =>
      !observed.interfaces.some(
        (i) => i.name === w.name && (i.macAddress ?? "").toLowerCase() === w.macAddress.toLowerCase()
      )
  )

export const observeNetworkConfiguration = (o: KubeObject): ObservedNetworkConfiguration => {
  const spec = asRecord(o.spec)
  const nn = asString(spec.networkNamespaceName)
  return {
    name: o.metadata.name,
    labels: { ...(o.metadata.labels ?? {}) },
    machineOwners: (o.metadata.ownerReferences ?? [])
      .filter((r) => r.kind === "Machine" && r.controller === true)
      .map((r) => r.uid),
    resourceVersion: o.metadata.resourceVersion ?? "",
    ...(nn === undefined || nn === "" ? {} : { networkNamespaceName: nn }),
    interfaces: asArray(spec.networkInterfaces).map((raw) => {
      const r = asRecord(raw)
      const name = asString(r.name)
      const mac = asString(r.macAddress)
      return { ...(name === undefined ? {} : { name }), ...(mac === undefined ? {} : { macAddress: mac }) }
    }),
    allocated: asArray(asRecord(o.status).networkInterfaces).map((raw) => {
      const r = asRecord(raw)
      const mac = asString(r.macAddress)
      return {
        ...(mac === undefined ? {} : { macAddress: mac }),
        ipv4Addresses: asStringArray(r.ipv4Addresses),
        ipv6Addresses: asStringArray(r.ipv6Addresses)
      }
    }),
    deleting: o.metadata.deletionTimestamp !== undefined
  }
}

/** Whether a live object records this MAC in `spec.networkInterfaces` (case-insensitive), for the fleet's index. */
export const recordsMac = (o: KubeObject, mac: string): boolean =>
  asArray(asRecord(o.spec).networkInterfaces).some(
    (raw) => (asString(asRecord(raw).macAddress) ?? "").toLowerCase() === mac
  )
