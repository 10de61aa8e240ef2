/**
 * The vitistack manifests (ADR 0013): a NetworkConfiguration rendered and projected back, a NetworkNamespace's
 * projection, the NADs a VM names, and the VM interface's MAC through the VirtualMachine manifest and back.
 */
import { assert, describe, it } from "@effect/vitest"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { networkAttachmentsUsedBy } from "../../../src/domain/manifests/NetworkAttachmentDefinition.ts"
import {
  missingInterfaces,
  networkConfigurationManifest,
  observeNetworkConfiguration,
  recordsMac
} from "../../../src/domain/manifests/NetworkConfiguration.ts"
import { observeNetworkNamespace } from "../../../src/domain/manifests/NetworkNamespace.ts"
import { observeVm, vmManifest } from "../../../src/domain/manifests/VirtualMachine.ts"
import { desiredOf } from "../../fixtures/desiredObjects.ts"

const spec = {
  name: "vm-a",
  namespace: "team-a",
  labels: { "managed-by": "vitistack-kubevirt-operator", "source-machine": "vm-a" },
  annotations: {},
  owner: { name: "vm-a", uid: "u-1" },
  shortName: "vm-a",
  description: "Network configuration for machine vm-a",
  networkNamespaceName: "net",
  interfaces: [{ name: "vlan7", macAddress: "02:12:00:00:00:07" }]
}

describe("NetworkConfiguration manifest", () => {
  it("round trip: what the operator writes is what it reads back", () => {
    const o = {
      ...networkConfigurationManifest(spec),
      metadata: { ...networkConfigurationManifest(spec).metadata, resourceVersion: "4" }
    }
    const observed = observeNetworkConfiguration({
      ...o,
      status: { networkInterfaces: [{ macAddress: "02:12:00:00:00:07", ipv4Addresses: ["10.0.0.7"] }] }
    })
    assert.deepStrictEqual(observed, {
      name: "vm-a",
      labels: spec.labels,
      machineOwners: ["u-1"],
      resourceVersion: "4",
      networkNamespaceName: "net",
      interfaces: [{ name: "vlan7", macAddress: "02:12:00:00:00:07" }],
      allocated: [{ macAddress: "02:12:00:00:00:07", ipv4Addresses: ["10.0.0.7"], ipv6Addresses: [] }],
      deleting: false
    })
    assert.deepStrictEqual(missingInterfaces(observed, spec.interfaces), [])
    assert.deepStrictEqual(missingInterfaces(observed, [{ name: "vlan7", macAddress: "02:12:00:00:00:08" }]), [
      { name: "vlan7", macAddress: "02:12:00:00:00:08" }
    ])
    assert.isTrue(recordsMac(o, "02:12:00:00:00:07"))
    assert.isFalse(recordsMac(o, "02:12:00:00:00:08"))
  })

  it("a NetworkNamespace: allocation type, static block (only when present), provisioned VLAN", () => {
    const nn = (spec: unknown, status?: unknown): KubeObject => ({
      apiVersion: "vitistack.io/v1alpha1",
      kind: "NetworkNamespace",
      metadata: { name: "net", namespace: "team-a" },
      spec,
      ...(status === undefined ? {} : { status })
    })
    assert.deepStrictEqual(observeNetworkNamespace(nn({ ipAllocation: { type: "dhcp" } }, { vlanId: 12 })), {
      name: "net",
      ipAllocationType: "dhcp",
      vlanId: 12,
      deleting: false
    })
    assert.deepStrictEqual(
      observeNetworkNamespace(
        nn({ ipAllocation: { type: "static", static: { ipv4CIDR: "10.0.0.0/24", ipv4Gateway: "10.0.0.1" } } })
      ),
      {
        name: "net",
        ipAllocationType: "static",
        static: { ipv4CIDR: "10.0.0.0/24", ipv4Gateway: "10.0.0.1", dns: [] },
        deleting: false
      }
    )
  })

  it("the NADs a VM names: plain names and this namespace's `ns/name`", () => {
    const vm: KubeObject = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "x", namespace: "team-a" },
      spec: {
        template: {
          spec: {
            networks: [
              { name: "a", multus: { networkName: "vlan1" } },
              { name: "b", multus: { networkName: "team-a/vlan2" } },
              { name: "c", multus: { networkName: "other/vlan3" } },
              { name: "default", pod: {} }
            ]
          }
        }
      }
    }
    assert.deepStrictEqual(networkAttachmentsUsedBy(vm), ["vlan1", "vlan2"])
  })

  it("a VM interface's MAC is rendered and read back", () => {
    const base = desiredOf().vm
    const vm = { ...base, networks: [{ name: "vlan7", nad: "vlan7", macAddress: "02:12:00:00:00:07" }] }
    assert.deepStrictEqual(observeVm(vmManifest(vm)).spec.networks, vm.networks)
  })
})
