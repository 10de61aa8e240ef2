/**
 * The VLAN NetworkAttachmentDefinition (Multus, `k8s.cni.cncf.io/v1`) the operator creates with the opt-in (ADR 0013):
 * the Go operator's bridge config (reference F30: bridge `br0`, empty IPAM, the VLAN tag; no `tuning` plugin, which
 * Talos nodes lack) with our labels; and the network names a live VirtualMachine uses. Domain layer: pure.
 */
import type { KubeObject } from "../KubeObject.ts"
import type { NetworkAttachmentSpec } from "../NetworkAttachmentSpec.ts"
import { asArray, asRecord, asString } from "./jsonPath.ts"

/** The CNI config, as the Go operator writes it (`vlan` left out for an untagged bridge). */
export const bridgeConfig = (s: Pick<NetworkAttachmentSpec, "cniVersion" | "vlanId">): string =>
  JSON.stringify({
    cniVersion: s.cniVersion,
    name: "br0",
    plugins: [{ type: "bridge", bridge: "br0", ipam: {}, ...(s.vlanId === undefined ? {} : { vlan: s.vlanId }) }]
  })

export const networkAttachmentManifest = (s: NetworkAttachmentSpec): KubeObject => ({
  apiVersion: "k8s.cni.cncf.io/v1",
  kind: "NetworkAttachmentDefinition",
  metadata: { name: s.name, namespace: s.namespace, labels: { ...s.labels } },
  spec: { config: bridgeConfig(s) }
})

/**
 * The NADs a VirtualMachine's networks name (`multus.networkName`, with or without a `namespace/` prefix; a prefix
 * for another namespace than the VM's does not count as this namespace's NAD).
 */
export const networkAttachmentsUsedBy = (vm: KubeObject): ReadonlyArray<string> =>
  asArray(asRecord(asRecord(asRecord(vm.spec).template).spec).networks).flatMap((raw) => {
    const name = asString(asRecord(asRecord(raw).multus).networkName)
    if (name === undefined) return []
    const slash = name.indexOf("/")
    if (slash < 0) return [name]
    return name.slice(0, slash) === vm.metadata.namespace ? [name.slice(slash + 1)] : []
  })
