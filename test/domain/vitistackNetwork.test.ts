/**
 * Vitistack networking through the planner (ADR 0013, reference F29, F30): which NetworkNamespace a Machine's network
 * comes from (named, the legacy lookup, ambiguity, missing, not provisioned, Unknown), the network it decides
 * (`vlan<id>`, `bridge-br0`, the pod network), and the VLAN NAD: waited for by default, created with the opt-in,
 * deleted on Machine deletion only when ours and unused.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Action } from "../../src/domain/Action.ts"
import { unknown } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, ownerLabels } from "../../src/domain/labels.ts"
import type { Machine } from "../../src/domain/Machine.ts"
import { deriveMac } from "../../src/domain/macAddress.ts"
import { bridgeConfig, networkAttachmentManifest } from "../../src/domain/manifests/NetworkAttachmentDefinition.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import type { Plan } from "../../src/domain/Plan.ts"
import { hasErrors } from "../../src/domain/Plan.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { aCluster, aNetworkConfiguration, aNetworkNamespace } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const NS = "team-a"
const nad = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "k8s.cni.cncf.io/v1",
  kind: "NetworkAttachmentDefinition",
  metadata: { name, namespace: NS, labels, resourceVersion: "3" },
  spec: { config: "{}" }
})
const vmUsing = (name: string, networkName: string): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name, namespace: NS, resourceVersion: "9" },
  spec: { template: { spec: { networks: [{ name: "n", multus: { networkName } }] } } }
})

const machine = (spec: Machine["spec"]["network"] = undefined, name = "vm-a") =>
  aMachine()
    .named(name)
    .inNamespace(NS)
    .withFinalizer()
    .placedOn("remote-a")
    .withSpec(spec === undefined ? {} : { network: spec })
    .build()

const macOf = (name: string, iface: string, counter = 0) =>
  deriveMac({ cluster: "remote-a", namespace: NS, machine: name, iface }, counter, "12")

const run = (
  m: Machine,
  options: {
    readonly supervisor?: ReadonlyArray<KubeObject>
    readonly remote?: ReadonlyArray<KubeObject>
    readonly settings?: Settings
  } = {}
): Plan => {
  const settings = options.settings ?? defaultSettings
  return plan({
    machine: m,
    observed: aCluster()
      .withNamespace(NS)
      .withObjects(...(options.remote ?? []))
      .withSupervisor(...(options.supervisor ?? []))
      .build(m, undefined, settings),
    settings
  })
}

const tags = (p: Plan) => p.actions.map((a) => a._tag)
const find = <T extends Action["_tag"]>(p: Plan, tag: T) =>
  p.actions.find((a): a is Extract<Action, { _tag: T }> => a._tag === tag)
const diag = (p: Plan, reason: string) => p.diagnostics.find((d) => d.reason === reason)

describe("vitistack networking: the NetworkNamespace and the network", () => {
  it("no NetworkNamespace in the namespace: the pod network and no NetworkConfiguration (as before)", () => {
    const p = run(machine())
    assert.deepStrictEqual(tags(p), ["CreatePvc", "CreateVirtualMachine"])
    assert.deepStrictEqual(find(p, "CreateVirtualMachine")?.after.networks, [{ name: "default", bootOrder: 2 }])
  })

  it("a named NetworkNamespace with VLAN 2101: the NetworkConfiguration records the MAC, then the VM on vlan2101", () => {
    const p = run(machine({ networkNamespaceName: "net" }), {
      supervisor: [aNetworkNamespace("net", NS, { vlanId: 2101 })],
      remote: [nad("vlan2101")]
    })
    assert.deepStrictEqual(tags(p), ["CreateNetworkConfiguration", "CreatePvc", "CreateVirtualMachine"])
    const mac = macOf("vm-a", "vlan2101")
    assert.match(mac, /^02:12:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/)
    const vm = find(p, "CreateVirtualMachine")!.after
    assert.deepStrictEqual(vm.networks, [{ name: "vlan2101", nad: "vlan2101", macAddress: mac, bootOrder: 2 }])
    const spec = (vmManifest(vm).spec as any).template.spec
    assert.deepStrictEqual(spec.networks, [{ name: "vlan2101", multus: { networkName: "vlan2101" } }])
    assert.deepStrictEqual(spec.domain.devices.interfaces, [
      { name: "vlan2101", model: "virtio", bridge: {}, bootOrder: 2, macAddress: mac }
    ])
    const nc = find(p, "CreateNetworkConfiguration")!.after
    assert.deepStrictEqual(nc.interfaces, [{ name: "vlan2101", macAddress: mac }])
    assert.strictEqual(nc.networkNamespaceName, "net")
    assert.strictEqual(nc.description, "Network configuration for machine vm-a")
    assert.deepStrictEqual(nc.labels, ownerLabels("vm-a"))
  })

  it("a named NetworkNamespace that does not exist: a wait naming the field, nothing remote, no NetworkConfiguration", () => {
    const p = run(machine({ networkNamespaceName: "net" }), { supervisor: [aNetworkNamespace("other", NS)] })
    assert.deepStrictEqual(tags(p), [])
    const d = diag(p, "NetworkNamespaceMissing")
    assert.strictEqual(d?.effect, "Waits")
    assert.strictEqual(d?.field, "spec.network.networkNamespaceName")
    assert.include(d?.message, "team-a/net does not exist")
    assert.isFalse(hasErrors(p))
  })

  it("a NetworkNamespace without a VLAN in its status is not provisioned yet: a wait", () => {
    const p = run(machine({ networkNamespaceName: "net" }), { supervisor: [aNetworkNamespace("net", NS)] })
    assert.deepStrictEqual(tags(p), [])
    assert.strictEqual(diag(p, "NetworkNamespaceNotProvisioned")?.effect, "Waits")
  })

  it("NetworkNamespaces that cannot be read are Unknown: a wait, nothing remote", () => {
    const m = machine({ networkNamespaceName: "net" })
    const p = plan({
      machine: m,
      observed: aCluster()
        .withNamespace(NS)
        .mapVitistack((v) => ({ ...v, networkNamespaces: unknown("forbidden") }))
        .build(m),
      settings: defaultSettings
    })
    assert.deepStrictEqual(tags(p), [])
    assert.include(diag(p, "NetworkNamespaceUnknown")?.message, "forbidden")
  })

  it("legacy lookup: the only NetworkNamespace of the namespace", () => {
    const p = run(machine(), { supervisor: [aNetworkNamespace("net", NS, { vlanId: 7 })], remote: [nad("vlan7")] })
    assert.strictEqual(find(p, "CreateNetworkConfiguration")?.after.networkNamespaceName, "net")
    assert.strictEqual(find(p, "CreateVirtualMachine")?.after.networks[0]?.nad, "vlan7")
  })

  it("legacy lookup: among several, the one named like the Machine", () => {
    const p = run(machine(), {
      supervisor: [aNetworkNamespace("aaa", NS, { vlanId: 5 }), aNetworkNamespace("vm-a", NS, { vlanId: 6 })],
      remote: [nad("vlan6")]
    })
    assert.strictEqual(find(p, "CreateVirtualMachine")?.after.networks[0]?.nad, "vlan6")
  })

  it("legacy lookup: several and none named like the Machine is an Error asking to name one (never a silent first)", () => {
    const p = run(machine(), {
      supervisor: [aNetworkNamespace("aaa", NS, { vlanId: 5 }), aNetworkNamespace("bbb", NS, { vlanId: 6 })]
    })
    assert.deepStrictEqual(tags(p), [])
    const d = diag(p, "AmbiguousNetworkNamespace")
    assert.strictEqual(d?.effect, "Blocks")
    assert.strictEqual(d?.field, "spec.network.networkNamespaceName")
    assert.include(d?.message, "aaa, bbb")
  })

  it("legacy lookup: the NetworkNamespace the NetworkConfiguration recorded keeps the Machine on its network", () => {
    const mac = macOf("vm-a", "vlan5")
    const p = run(machine(), {
      supervisor: [
        aNetworkNamespace("aaa", NS, { vlanId: 5 }),
        aNetworkNamespace("bbb", NS, { vlanId: 6 }),
        {
          ...aNetworkConfiguration("vm-a", NS, [{ name: "vlan5", macAddress: mac }], { owner: "vm-a" }),
          spec: { networkNamespaceName: "aaa", networkInterfaces: [{ name: "vlan5", macAddress: mac }] }
        }
      ],
      remote: [nad("vlan5")]
    })
    assert.isFalse(hasErrors(p))
    assert.deepStrictEqual(find(p, "CreateVirtualMachine")?.after.networks[0], {
      name: "vlan5",
      nad: "vlan5",
      macAddress: mac,
      bootOrder: 2
    })
  })

  it("DHCP without a VLAN: the pod network, whose MAC is recorded too", () => {
    const p = run(machine(), { supervisor: [aNetworkNamespace("net", NS, { vlanId: 0 })] })
    const mac = macOf("vm-a", "default")
    assert.deepStrictEqual(find(p, "CreateVirtualMachine")?.after.networks, [
      { name: "default", macAddress: mac, bootOrder: 2 }
    ])
    assert.deepStrictEqual(find(p, "CreateNetworkConfiguration")?.after.interfaces, [
      { name: "default", macAddress: mac }
    ])
  })

  it("static without a VLAN: the untagged bridge `bridge-br0`", () => {
    const p = run(machine(), {
      supervisor: [
        aNetworkNamespace("net", NS, {
          vlanId: 0,
          type: "static",
          static: { ipv4CIDR: "10.0.1.0/24", ipv4Gateway: "10.0.1.1" }
        })
      ],
      settings: Settings.make({ ...defaultSettings, createNetworkAttachments: true })
    })
    const create = find(p, "CreateNetworkAttachmentDefinition")
    assert.strictEqual(create?.target.name, "bridge-br0")
    assert.isUndefined(create?.after.vlanId)
    assert.deepStrictEqual(JSON.parse(bridgeConfig(create!.after)).plugins, [
      { type: "bridge", bridge: "br0", ipam: {} }
    ])
  })

  it("a static NetworkNamespace without its static block is an Error naming the field; nothing is written", () => {
    const p = run(machine(), { supervisor: [aNetworkNamespace("net", NS, { vlanId: 10, type: "static" })] })
    assert.deepStrictEqual(tags(p), [])
    const d = diag(p, "StaticIpConfigMissing")
    assert.strictEqual(d?.effect, "Blocks")
    assert.include(d?.field, "spec.ipAllocation.static")
    assert.include(d?.message, "NetworkNamespace team-a/net")
  })

  it("a name that cannot be a NetworkNamespace is an Error", () => {
    const p = run(machine({ networkNamespaceName: "Not_A_Name" }))
    assert.strictEqual(diag(p, "InvalidNetworkNamespaceName")?.field, "spec.network.networkNamespaceName")
    assert.deepStrictEqual(tags(p), [])
  })

  it("an interface that claims primary next to a VLAN NetworkNamespace is an Error", () => {
    const p = run(machine({ networkNamespaceName: "net", interfaces: [{ name: "lan", subnet: "x", primary: true }] }), {
      supervisor: [aNetworkNamespace("net", NS, { vlanId: 3 })]
    })
    assert.strictEqual(diag(p, "NetworkNamespaceConflict")?.field, "spec.network.interfaces[0].primary")
    assert.isFalse(p.actions.some((a) => a._tag === "CreateNetworkConfiguration"))
  })

  it("custom networks come after the NetworkNamespace's, each with a recorded MAC", () => {
    const p = run(machine({ networkNamespaceName: "net", interfaces: [{ name: "lan", subnet: "storage" }] }), {
      supervisor: [aNetworkNamespace("net", NS, { vlanId: 3 })],
      remote: [nad("vlan3"), nad("storage")]
    })
    const networks = find(p, "CreateVirtualMachine")!.after.networks
    assert.deepStrictEqual(
      networks.map((n) => [n.name, n.nad, n.macAddress]),
      [
        ["vlan3", "vlan3", macOf("vm-a", "vlan3")],
        ["lan", "storage", macOf("vm-a", "lan")]
      ]
    )
    assert.deepStrictEqual(
      find(p, "CreateNetworkConfiguration")!.after.interfaces.map((i) => i.name),
      ["vlan3", "lan"]
    )
  })
})

describe("vitistack networking: the VLAN NetworkAttachmentDefinition", () => {
  const net = aNetworkNamespace("net", NS, { vlanId: 2101 })
  const optIn = Settings.make({ ...defaultSettings, createNetworkAttachments: true })

  it("by default a missing NAD is waited for (the namespace, the PVC and the NetworkConfiguration are created)", () => {
    const p = run(machine({ networkNamespaceName: "net" }), { supervisor: [net] })
    assert.deepStrictEqual(tags(p), ["CreateNetworkConfiguration", "CreatePvc"])
    const d = diag(p, "NetworkAttachmentMissing")
    assert.strictEqual(d?.field, "spec.network.networkNamespaceName")
    assert.include(d?.message, "team-a/vlan2101")
    assert.include(d?.message, "--create-network-attachments")
  })

  it("with the opt-in a missing NAD is created with the Go operator's bridge config and our labels, before the VM", () => {
    const p = run(machine({ networkNamespaceName: "net" }), { supervisor: [net], settings: optIn })
    assert.deepStrictEqual(tags(p), [
      "CreateNetworkConfiguration",
      "CreatePvc",
      "CreateNetworkAttachmentDefinition",
      "CreateVirtualMachine"
    ])
    const manifest = networkAttachmentManifest(find(p, "CreateNetworkAttachmentDefinition")!.after)
    assert.deepStrictEqual(manifest.metadata, {
      name: "vlan2101",
      namespace: NS,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, "vitistack.io/vlan-id": "2101" }
    })
    assert.deepStrictEqual(JSON.parse((manifest.spec as { config: string }).config), {
      cniVersion: "1.0.0",
      name: "br0",
      plugins: [{ type: "bridge", bridge: "br0", ipam: {}, vlan: 2101 }]
    })
  })

  it("an existing NAD, the cluster owner's, is used as it is: no write to it even with the opt-in", () => {
    const p = run(machine({ networkNamespaceName: "net" }), {
      supervisor: [net],
      remote: [nad("vlan2101")],
      settings: optIn
    })
    assert.isFalse(p.actions.some((a) => a._tag.includes("NetworkAttachment")))
    assert.include(tags(p), "CreateVirtualMachine")
  })

  it("a NAD that cannot be read: the VM waits", () => {
    const m = machine({ networkNamespaceName: "net" })
    const p = plan({
      machine: m,
      observed: aCluster()
        .withNamespace(NS)
        .withSupervisor(net)
        .mapRemote((r) => ({ ...r, nads: unknown("503") }))
        .build(m),
      settings: optIn
    })
    assert.isFalse(p.actions.some((a) => a._tag === "CreateVirtualMachine" || a._tag.includes("NetworkAttachment")))
    assert.strictEqual(diag(p, "NetworkAttachmentUnknown")?.effect, "Waits")
  })

  const deleting = () =>
    aMachine().named("vm-a").inNamespace(NS).withFinalizer().placedOn("remote-a").deleting().build()

  it("deletion with the opt-in: our NAD that no VM of the namespace names is deleted; one in use and a foreign one stay", () => {
    const ours = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }
    const p = run(deleting(), {
      remote: [nad("vlan1", ours), nad("vlan2", ours), nad("vlan3"), vmUsing("other", `${NS}/vlan2`)],
      settings: optIn
    })
    assert.deepStrictEqual(
      p.actions.filter((a) => a._tag === "DeleteNetworkAttachmentDefinition").map((a) => a.target.name),
      ["vlan1"]
    )
    assert.include(tags(p), "RemoveFinalizer")
  })

  it("deletion without the opt-in reads and deletes no NAD (no such rights are asked for)", () => {
    const p = run(deleting(), { remote: [nad("vlan1", { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE })] })
    assert.isFalse(p.actions.some((a) => a._tag === "DeleteNetworkAttachmentDefinition"))
  })

  it("deletion: the NAD is not deleted while the VM that uses it is still there", () => {
    const ours = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }
    const vm: KubeObject = {
      ...vmUsing("vm-a", "vlan1"),
      metadata: { ...vmUsing("vm-a", "vlan1").metadata, labels: ownerLabels("vm-a") }
    }
    const p = run(deleting(), { remote: [nad("vlan1", ours), vm], settings: optIn })
    assert.deepStrictEqual(tags(p), ["DeleteVirtualMachine"])
  })
})
