/**
 * The NetworkConfiguration of a Machine through the planner (ADR 0013, reference F28, F32, F34, F39): the recorded MAC
 * wins, a missing interface is patched in, a foreign one is reused read-only or is a name clash, a MAC another
 * NetworkConfiguration holds is skipped (said), the live VM's MAC is adopted; static addresses are waited for and
 * rendered into the cloud-init Secret; the short-name rule; IP_SOURCE.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import type { Action } from "../../src/domain/Action.ts"
import { cloudInitPayload } from "../../src/domain/cloudInitPayload.ts"
import { unknown } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { ownerLabels } from "../../src/domain/labels.ts"
import type { Machine } from "../../src/domain/Machine.ts"
import { deriveMac } from "../../src/domain/macAddress.ts"
import { mergeInterfaces, networkConfigurationManifest } from "../../src/domain/manifests/NetworkConfiguration.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import { generatedNetworkData, networkConfigurationShortName } from "../../src/domain/networkConfiguration.ts"
import type { Plan } from "../../src/domain/Plan.ts"
import { hasErrors } from "../../src/domain/Plan.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { deriveStatus } from "../../src/domain/status.ts"
import { aCluster, aNetworkConfiguration, aNetworkNamespace } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const NS = "team-a"
const VLAN = aNetworkNamespace("net", NS, { vlanId: 2101 })
const STATIC = aNetworkNamespace("net", NS, {
  vlanId: 2101,
  type: "static",
  static: { ipv4CIDR: "10.0.1.0/24", ipv4Gateway: "10.0.1.1", dns: ["10.0.0.53", "10.0.0.54"] }
})
const NAD: KubeObject = {
  apiVersion: "k8s.cni.cncf.io/v1",
  kind: "NetworkAttachmentDefinition",
  metadata: { name: "vlan2101", namespace: NS },
  spec: { config: "{}" }
}
const mac0 = (name = "vm-a", iface = "vlan2101", counter = 0) =>
  deriveMac({ cluster: "remote-a", namespace: NS, machine: name, iface }, counter, "12")

const machine = (spec: Partial<Machine["spec"]> = {}, name = "vm-a") =>
  aMachine()
    .named(name)
    .inNamespace(NS)
    .withFinalizer()
    .placedOn("remote-a")
    .withSpec({ network: { networkNamespaceName: "net" }, ...spec })
    .build()

const observedFor = (m: Machine, supervisor: ReadonlyArray<KubeObject>, remote: ReadonlyArray<KubeObject> = [NAD]) =>
  aCluster()
    .withNamespace(NS)
    .withObjects(...remote)
    .withSupervisor(...supervisor)
    .build(m)

const run = (m: Machine, supervisor: ReadonlyArray<KubeObject>, remote: ReadonlyArray<KubeObject> = [NAD]): Plan =>
  plan({ machine: m, observed: observedFor(m, supervisor, remote), settings: defaultSettings })

const find = <T extends Action["_tag"]>(p: Plan, tag: T) =>
  p.actions.find((a): a is Extract<Action, { _tag: T }> => a._tag === tag)
const tags = (p: Plan) => p.actions.map((a) => a._tag)

describe("NetworkConfiguration: MACs", () => {
  it("the MAC an existing NetworkConfiguration records wins over the derivation", () => {
    const recorded = "02:aa:bb:cc:dd:ee"
    const p = run(machine(), [
      VLAN,
      aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: recorded }], { owner: "vm-a" })
    ])
    assert.strictEqual(find(p, "CreateVirtualMachine")?.after.networks[0]?.macAddress, recorded)
    assert.isFalse(
      p.actions.some((a) => a._tag.includes("NetworkConfiguration")),
      "nothing to record"
    )
  })

  it("the same input gives the same MAC (derived, never random)", () => {
    const a = find(run(machine(), [VLAN]), "CreateNetworkConfiguration")?.after.interfaces
    const b = find(run(machine(), [VLAN]), "CreateNetworkConfiguration")?.after.interfaces
    assert.deepStrictEqual(a, [{ name: "vlan2101", macAddress: mac0() }])
    assert.deepStrictEqual(a, b)
    // Another Machine, another cluster, another interface: another MAC.
    assert.notStrictEqual(mac0("vm-b"), mac0())
    assert.notStrictEqual(
      deriveMac({ cluster: "remote-b", namespace: NS, machine: "vm-a", iface: "vlan2101" }, 0, "12"),
      mac0()
    )
  })

  it("MAC_SET is the second octet", () => {
    const m = machine()
    const p = plan({
      machine: m,
      observed: observedFor(m, [VLAN]),
      settings: Settings.make({ ...defaultSettings, macSet: "ab" })
    })
    assert.match(find(p, "CreateNetworkConfiguration")!.after.interfaces[0]!.macAddress, /^02:ab:/)
  })

  it("a MAC another NetworkConfiguration holds is skipped: the next derivation, said in a diagnostic", () => {
    const p = run(machine(), [
      VLAN,
      aNetworkConfiguration("other", "team-b", [{ name: "eth0", macAddress: mac0() }], { owner: "other" })
    ])
    const taken = find(p, "CreateNetworkConfiguration")!.after.interfaces[0]!.macAddress
    assert.strictEqual(taken, mac0("vm-a", "vlan2101", 1))
    const d = p.diagnostics.find((x) => x.reason === "MacAddressCollision")
    assert.include(d?.message, `${mac0()} is held by NetworkConfiguration team-b/other`)
    assert.include(d?.message, "took derivation 1")
  })

  it("the live VM's MAC is recorded when the NetworkConfiguration does not exist (the record matches the guest)", () => {
    const m = machine()
    const vm = vmManifest({
      name: "vm-a",
      namespace: NS,
      labels: ownerLabels("vm-a"),
      annotations: {},
      runStrategy: "Always",
      cpu: { cores: 2, sockets: 1, threads: 1, model: "host-model", features: [{ name: "ht", policy: "disable" }] },
      memory: "2Gi",
      disks: [{ name: "root", bus: "virtio", bootOrder: 1, claimName: "vm-a" }],
      networks: [{ name: "vlan2101", nad: "vlan2101", macAddress: "02:12:00:00:00:99", bootOrder: 2 }]
    })
    const p = run(m, [VLAN], [NAD, vm])
    assert.deepStrictEqual(find(p, "CreateNetworkConfiguration")?.after.interfaces, [
      { name: "vlan2101", macAddress: "02:12:00:00:00:99" }
    ])
    assert.isUndefined(find(p, "PatchVirtualMachine"), "a MAC is not drift")
  })

  it("an interface the NetworkConfiguration lacks is patched in; the IP operator's fields of the others are kept", () => {
    const m = machine({ network: { networkNamespaceName: "net", interfaces: [{ name: "lan", subnet: "vlan2101" }] } })
    const p = run(m, [
      VLAN,
      aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: mac0() }], { owner: "vm-a" })
    ])
    const patch = find(p, "PatchNetworkConfiguration")
    assert.strictEqual(patch?.before, `vlan2101=${mac0()}`)
    assert.deepStrictEqual(patch?.after.interfaces, [
      { name: "vlan2101", macAddress: mac0() },
      { name: "lan", macAddress: mac0("vm-a", "lan") }
    ])
    assert.deepStrictEqual(
      mergeInterfaces(
        [{ name: "vlan2101", macAddress: mac0(), ipv4Addresses: ["10.0.1.5"], vlan: "2101" }, { name: "gone" }],
        patch!.after.interfaces
      ),
      [
        { name: "vlan2101", macAddress: mac0(), ipv4Addresses: ["10.0.1.5"], vlan: "2101" },
        { name: "lan", macAddress: mac0("vm-a", "lan") }
      ]
    )
  })

  it("a NetworkConfiguration that is not ours but records every interface is reused read-only", () => {
    const p = run(machine(), [
      VLAN,
      aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: "02:12:01:02:03:04" }])
    ])
    assert.isFalse(hasErrors(p))
    assert.strictEqual(find(p, "CreateVirtualMachine")?.after.networks[0]?.macAddress, "02:12:01:02:03:04")
  })

  it("a NetworkConfiguration that is not ours and lacks an interface is a name clash; nothing is written", () => {
    const p = run(machine(), [
      VLAN,
      aNetworkConfiguration("vm-a", NS, [{ name: "eth9", macAddress: "02:12:01:02:03:04" }])
    ])
    assert.strictEqual(p.diagnostics.find((d) => d.reason === "NameClash")?.effect, "Blocks")
    assert.deepStrictEqual(tags(p), [])
  })

  it("the Go operator's NetworkConfiguration (a controller owner reference to the Machine) is ours: patched", () => {
    const withUid = aMachine()
      .named("vm-a")
      .inNamespace(NS)
      .withFinalizer()
      .placedOn("remote-a")
      .withSpec({ network: { networkNamespaceName: "net", interfaces: [{ name: "lan", subnet: "vlan2101" }] } })
      .build()
    const machineWithUid = { ...withUid, metadata: { ...withUid.metadata, uid: "uid-1" } } as Machine
    const nc: KubeObject = {
      ...aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: mac0() }]),
      metadata: {
        name: "vm-a",
        namespace: NS,
        resourceVersion: "2",
        ownerReferences: [
          { apiVersion: "vitistack.io/v1alpha1", kind: "Machine", name: "vm-a", uid: "uid-1", controller: true }
        ]
      }
    }
    const p = run(machineWithUid, [VLAN, nc])
    assert.isFalse(hasErrors(p))
    assert.isDefined(find(p, "PatchNetworkConfiguration"))
  })

  it("a NetworkConfiguration that cannot be read: a wait, nothing written", () => {
    const m = machine()
    const p = plan({
      machine: m,
      observed: aCluster()
        .withNamespace(NS)
        .withObjects(NAD)
        .withSupervisor(VLAN)
        .mapVitistack((v) => ({ ...v, networkConfiguration: unknown("timeout") }))
        .build(m),
      settings: defaultSettings
    })
    assert.deepStrictEqual(tags(p), [])
    assert.strictEqual(p.diagnostics.find((d) => d.reason === "NetworkConfigurationUnknown")?.effect, "Waits")
  })

  it("who holds the MACs cannot be told: a wait, never a guessed MAC", () => {
    const m = machine()
    const p = plan({
      machine: m,
      observed: aCluster()
        .withNamespace(NS)
        .withObjects(NAD)
        .withSupervisor(VLAN)
        .mapVitistack((v) => ({ ...v, macOwners: unknown("503") }))
        .build(m),
      settings: defaultSettings
    })
    assert.deepStrictEqual(tags(p), [])
    assert.strictEqual(p.diagnostics.find((d) => d.reason === "MacAddressesUnknown")?.effect, "Waits")
  })

  it("the manifest: Go's fields, our labels, a controller owner reference to the Machine", () => {
    const m = { ...machine(), metadata: { ...machine().metadata, uid: "uid-7" } } as Machine
    const p = run(m, [VLAN])
    const o = networkConfigurationManifest(find(p, "CreateNetworkConfiguration")!.after)
    assert.deepStrictEqual(o.metadata.ownerReferences, [
      { apiVersion: "vitistack.io/v1alpha1", kind: "Machine", name: "vm-a", uid: "uid-7", controller: true }
    ])
    assert.deepStrictEqual(o.spec, {
      name: "vm-a",
      description: "Network configuration for machine vm-a",
      networkNamespaceName: "net",
      networkInterfaces: [{ name: "vlan2101", macAddress: mac0() }]
    })
  })
})

describe("NetworkConfiguration: the short name (spec.name, the Go operator's rule)", () => {
  it.each([
    ["prod-worker-pool-3", "prod-wrk3"],
    ["prod-worker-default-pool-12", "prod-wrk12"],
    ["prod-worker-default-worker-pool-1", "prod-wrk1"],
    ["prod-control-plane-0", "prod-ctp0"],
    ["web", "web"],
    ["a-very-long-machine-name-that-exceeds-32-characters", "a-very-long-machine-name-that-ex"],
    [`${"x".repeat(30)}-worker-pool-123`, `${"x".repeat(30)}-w`],
    ["web.example", "web-example"],
    ["a", "a_"]
  ])("%s -> %s", (name, short) => {
    assert.strictEqual(networkConfigurationShortName(name), short)
    assert.match(short, /^[A-Za-z0-9_-]{2,32}$/)
  })
})

describe("static IPs", () => {
  const withAddress = (ip: string) =>
    aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: mac0() }], {
      owner: "vm-a",
      allocated: [{ macAddress: mac0().toUpperCase(), ipv4: ip }]
    })

  it("no NetworkConfiguration yet: it is created, the VM waits (WaitingForStaticIP), no cloud-init Secret yet", () => {
    const p = run(machine(), [STATIC])
    assert.deepStrictEqual(tags(p), ["CreateNetworkConfiguration", "CreatePvc"])
    const d = p.diagnostics.find((x) => x.reason === "WaitingForStaticIP")
    assert.strictEqual(d?.effect, "Waits")
    assert.include(d?.message, "does not record interface 'vlan2101'")
    const status = deriveStatus({ machine: machine(), observed: observedFor(machine(), [STATIC]), plan: p, now: "t" })
    assert.strictEqual(status.phase, "Creating")
    assert.strictEqual(status.conditions?.find((c) => c.type === "Ready")?.reason, "WaitingForStaticIP")
  })

  it("recorded without an address: still waiting, the message names the MAC", () => {
    const p = run(machine(), [
      STATIC,
      aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: mac0() }], { owner: "vm-a" })
    ])
    assert.isFalse(p.actions.some((a) => a._tag === "CreateVirtualMachine" || a._tag === "CreateSecret"))
    assert.include(p.diagnostics.find((x) => x.reason === "WaitingForStaticIP")?.message, mac0())
  })

  it("an address for the MAC: the network-config v1 goes into the cloud-init Secret, and the VM reads it", () => {
    const m = machine()
    const supervisor = [STATIC, withAddress("10.0.1.5")]
    const p = run(m, supervisor)
    assert.deepStrictEqual(tags(p), ["CreateSecret", "CreatePvc", "CreateVirtualMachine"])
    assert.deepStrictEqual(find(p, "CreateVirtualMachine")?.after.cloudInit, {
      kind: "NoCloud",
      secretName: "vm-a-cloudinit",
      networkData: true
    })
    const observed = observedFor(m, supervisor)
    const text = generatedNetworkData(m, observed.vitistack)
    assert.strictEqual(
      text,
      [
        "version: 1",
        "config:",
        "  - type: physical",
        "    name: vlan2101",
        `    mac_address: "${mac0()}"`,
        "    subnets:",
        "      - type: static",
        "        address: 10.0.1.5",
        "        netmask: 255.255.255.0",
        "        gateway: 10.0.1.1",
        "        dns_nameservers:",
        "          - 10.0.0.53",
        "          - 10.0.0.54",
        ""
      ].join("\n")
    )
    const result = cloudInitPayload(m, {}, text)
    assert.strictEqual(result._tag, "Ready")
    if (result._tag === "Ready") {
      assert.strictEqual(Redacted.value(result.payload.userdata), "#cloud-config\n")
      assert.strictEqual(Redacted.value(result.payload.networkdata!), text)
      assert.strictEqual(find(p, "CreateSecret")?.after.digest, result.payload.digest)
    }
  })

  it("the user's network data wins: nothing is rendered or awaited (Info)", () => {
    const m = machine({ cloudInit: { networkData: "version: 2\n" } })
    const p = run(m, [STATIC])
    assert.include(
      p.actions.map((a) => a._tag),
      "CreateVirtualMachine"
    )
    assert.isDefined(p.diagnostics.find((d) => d.reason === "StaticIpNotRendered"))
    assert.isUndefined(p.diagnostics.find((d) => d.reason === "WaitingForStaticIP"))
  })

  it("an existing VM is not patched while an address is awaited (its cloud-init volume stays)", () => {
    const m = machine()
    const first = run(m, [STATIC, withAddress("10.0.1.5")])
    const vm = find(first, "CreateVirtualMachine")!.after
    const p = run(
      m,
      [STATIC, aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: mac0() }], { owner: "vm-a" })],
      [NAD, { ...vmManifest(vm), metadata: { ...vmManifest(vm).metadata, resourceVersion: "5" } }]
    )
    assert.isUndefined(find(p, "PatchVirtualMachine"))
  })
})

describe("IP_SOURCE", () => {
  it("networkconfiguration: the public addresses are the NetworkConfiguration's; vmi: the VMI's named interfaces", () => {
    const m = machine()
    const observed = aCluster()
      .withNamespace(NS)
      .withObjects(NAD)
      .withSupervisor(
        VLAN,
        aNetworkConfiguration("vm-a", NS, [{ name: "vlan2101", macAddress: mac0() }], {
          owner: "vm-a",
          allocated: [{ macAddress: mac0(), ipv4: "10.0.1.5/24" }]
        })
      )
      .mapRemote((r) => ({
        ...r,
        vmi: {
          _tag: "Present",
          value: {
            phase: "Running",
            interfaces: [{ name: "vlan2101", mac: mac0(), ipAddresses: ["192.168.7.7"] }],
            volumes: []
          }
        }
      }))
      .build(m)
    const p = plan({ machine: m, observed, settings: defaultSettings })
    const fromNc = deriveStatus({ machine: m, observed, plan: p, now: "t", ipSource: "networkconfiguration" })
    assert.deepStrictEqual(fromNc.publicIPAddresses, ["10.0.1.5"])
    assert.deepStrictEqual(fromNc.ipAddresses, ["10.0.1.5"])
    const fromVmi = deriveStatus({ machine: m, observed, plan: p, now: "t" })
    assert.deepStrictEqual(fromVmi.publicIPAddresses, ["192.168.7.7"])
  })
})
