/**
 * Custom networks (design 3.3, spec page note 3, ADR 0007): interfaces with a `subnet` attach the VM to that
 * NetworkAttachmentDefinition in the Machine's namespace on the remote; the VM waits until it exists.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Action } from "../../src/domain/Action.ts"
import { desiredFor } from "../../src/domain/desired.ts"
import { absent, unknown } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import type { Machine } from "../../src/domain/Machine.ts"
import { vmManifest, vmPatch } from "../../src/domain/manifests/VirtualMachine.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const nad = (name: string, namespace: string): KubeObject => ({
  apiVersion: "k8s.cni.cncf.io/v1",
  kind: "NetworkAttachmentDefinition",
  metadata: { name, namespace },
  spec: { config: "{}" }
})

const withInterfaces = (...interfaces: Array<{ name?: string; subnet?: string; primary?: boolean }>) =>
  aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").withSpec({ network: { interfaces } }).build()

const run = (m: Machine, ...objects: Array<KubeObject>) =>
  plan({
    machine: m,
    observed: aCluster()
      .withNamespace("team-a")
      .withObjects(...objects)
      .build(m),
    settings: defaultSettings
  })

const createdVm = (actions: ReadonlyArray<Action>) => {
  const create = actions.find((a) => a._tag === "CreateVirtualMachine")
  return create?._tag === "CreateVirtualMachine" ? create.after : undefined
}

describe("custom networks", () => {
  it("no interfaces: the pod network only, as before", () => {
    const p = run(aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build())
    // No image and no ISO: the first interface boots from the network after the disk (reference F27).
    assert.deepStrictEqual(createdVm(p.actions)?.networks, [{ name: "default", bootOrder: 2 }])
  })

  it("a NAD that exists in the Machine's namespace: pod network first, then a bridge interface on the NAD", () => {
    const p = run(withInterfaces({ name: "lan", subnet: "vlan100" }), nad("vlan100", "team-a"))
    const vm = createdVm(p.actions)
    assert.deepStrictEqual(vm?.networks, [
      { name: "default", bootOrder: 2 },
      { name: "lan", nad: "vlan100" }
    ])
    const spec = (vmManifest(vm!).spec as any).template.spec
    assert.deepStrictEqual(spec.networks, [
      { name: "default", pod: {} },
      { name: "lan", multus: { networkName: "vlan100" } }
    ])
    assert.deepStrictEqual(spec.domain.devices.interfaces, [
      { name: "default", model: "virtio", masquerade: {}, bootOrder: 2 },
      { name: "lan", model: "virtio", bridge: {} }
    ])
  })

  it("a NAD in another namespace does not count: the VM waits and the message says where to create it", () => {
    const p = run(withInterfaces({ name: "lan", subnet: "vlan100" }), nad("vlan100", "default"))
    assert.isUndefined(createdVm(p.actions))
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      ["CreatePvc"]
    )
    const d = p.diagnostics.find((x) => x.reason === "NetworkAttachmentMissing")
    assert.strictEqual(d?.severity, "Warning")
    assert.strictEqual(d?.field, "spec.network.interfaces[0].subnet")
    assert.include(d?.message, "team-a/vlan100")
    assert.include(d?.message, "create it in namespace 'team-a'")
  })

  it("primary: the NAD replaces the pod network and is marked default", () => {
    const m = withInterfaces({ name: "storage", subnet: "vlan200" }, { name: "lan", subnet: "vlan100", primary: true })
    const p = run(m, nad("vlan100", "team-a"), nad("vlan200", "team-a"))
    const vm = createdVm(p.actions)
    assert.deepStrictEqual(vm?.networks, [
      { name: "lan", nad: "vlan100", primary: true, bootOrder: 2 },
      { name: "storage", nad: "vlan200" }
    ])
    assert.deepStrictEqual((vmManifest(vm!).spec as any).template.spec.networks[0], {
      name: "lan",
      multus: { networkName: "vlan100", default: true }
    })
  })

  it("an unreadable NAD is Unknown: no VM is created from it", () => {
    const m = withInterfaces({ name: "lan", subnet: "vlan100" })
    const p = plan({
      machine: m,
      observed: aCluster()
        .withNamespace("team-a")
        .mapRemote((r) => ({ ...r, nads: unknown("forbidden") }))
        .build(m),
      settings: defaultSettings
    })
    assert.isUndefined(createdVm(p.actions))
    assert.isTrue(p.diagnostics.some((d) => d.reason === "NetworkAttachmentUnknown" && d.message.includes("forbidden")))
  })

  it("bad input names the field: two primaries, a subnet that cannot name a NAD, a name taken by the pod network", () => {
    const reasons = (m: Machine) => {
      const r = desiredFor(m, absent, defaultSettings)
      return r.diagnostics.filter((d) => d.severity === "Error").map((d) => [d.reason, d.field])
    }
    assert.deepStrictEqual(
      reasons(withInterfaces({ name: "a", subnet: "x", primary: true }, { name: "b", subnet: "y", primary: true })),
      [["MultiplePrimaryInterfaces", "spec.network.interfaces"]]
    )
    assert.deepStrictEqual(reasons(withInterfaces({ name: "a", subnet: "Not_A_Name" })), [
      ["InvalidNetworkAttachment", "spec.network.interfaces[0].subnet"]
    ])
    assert.deepStrictEqual(reasons(withInterfaces({ name: "default", subnet: "vlan100" })), [
      ["DuplicateInterfaceName", "spec.network.interfaces"]
    ])
    // An error plans no remote write at all.
    const p = run(withInterfaces({ name: "a", subnet: "Not_A_Name" }))
    assert.deepStrictEqual(
      p.actions.filter((a) => "cluster" in a),
      []
    )
  })

  it("interfaces without a subnet attach nothing; unnamed ones are net<i>", () => {
    const p = run(withInterfaces({ name: "eth0" }, { subnet: "vlan100" }), nad("vlan100", "team-a"))
    assert.deepStrictEqual(createdVm(p.actions)?.networks, [
      { name: "default", bootOrder: 2 },
      { name: "net1", nad: "vlan100" }
    ])
  })

  it("adding a network to a running VM is a patch that needs a restart, once its NAD exists", () => {
    const before = aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build()
    const d = desiredFor(before, absent, defaultSettings)
    if (d._tag !== "Ok") throw new Error("fixture must be valid")
    const live = {
      ...vmManifest(d.desired.vm),
      metadata: { ...vmManifest(d.desired.vm).metadata, resourceVersion: "7" }
    }
    const after = withInterfaces({ name: "lan", subnet: "vlan100" })
    const waiting = run(after, live)
    assert.isFalse(waiting.actions.some((a) => a._tag === "PatchVirtualMachine"))
    assert.isTrue(waiting.diagnostics.some((x) => x.reason === "NetworkAttachmentMissing"))
    const ready = run(after, live, nad("vlan100", "team-a"))
    const patch = ready.actions.find((a) => a._tag === "PatchVirtualMachine")
    assert.isTrue(patch?._tag === "PatchVirtualMachine" && patch.restartRequired)
    assert.include(patch?.reason, "spec.template.spec.networks")
  })

  it("a patch rewrites interfaces and networks only when the networks changed (MACs set by others survive)", () => {
    const vmOf = (m: Machine) => {
      const d = desiredFor(m, absent, defaultSettings)
      if (d._tag !== "Ok") throw new Error("fixture must be valid")
      return d.desired.vm
    }
    const plain = vmOf(withInterfaces())
    const bigger = { ...plain, cpu: { ...plain.cpu, cores: 8 } }
    const cpuOnly = vmPatch(plain, bigger).spec.template.spec as Record<string, any>
    assert.isUndefined(cpuOnly.networks)
    assert.isUndefined(cpuOnly.domain.devices.interfaces)
    assert.strictEqual(cpuOnly.domain.cpu.cores, 8)
    const withLan = vmOf(withInterfaces({ name: "lan", subnet: "vlan100" }))
    const networks = vmPatch(plain, withLan).spec.template.spec as Record<string, any>
    assert.deepStrictEqual(
      networks.networks.map((n: any) => n.name),
      ["default", "lan"]
    )
    assert.deepStrictEqual(
      networks.domain.devices.interfaces.map((i: any) => i.name),
      ["default", "lan"]
    )
  })
})
