/**
 * Vitistack networking end to end on the real apiservers (ADR 0013), with the shipped RBAC (the restricted `operator`
 * identity on both clusters; the extra remote ClusterRole only where the opt-in is tested), the real NetworkNamespace,
 * NetworkConfiguration and Multus CRDs, and the KubeVirt stand-in: a Machine on a VLAN NetworkNamespace waits for
 * NAD `vlan<id>`, then runs on it with the MAC its NetworkConfiguration records, which survives an operator restart
 * and goes with the Machine; with --create-network-attachments the operator creates the NAD and removes it after the
 * namespace's last Machine; on a static NetworkNamespace a stand-in for the static-IP operator writes an address into
 * the NetworkConfiguration's status and the remote cloud-init Secret then holds the rendered network-config.
 */
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { rbacDir } from "../harness/identities.ts"
import { runKubectl } from "../harness/kubectl.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  released as releasedFrom,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const config = `remote-vnet-${id}`
let supervisor: KubeApiService
let remote: KubeApiService
let standin: { stop: () => Promise<void> }

const machine = (name: string, ns: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace: ns, annotations: { "vitistack.io/kubevirt-config": config } },
  spec: { provider: "kubevirt", disks: [{ name: "root", sizeGB: 1, boot: true }], ...spec }
})

/** A NetworkNamespace with its status written as the network operator would (status is a subresource). */
const networkNamespace = async (
  name: string,
  ns: string,
  ipAllocation: Record<string, unknown>,
  vlanId: number | undefined
) => {
  const created = await upsert(supervisor, {
    apiVersion: "vitistack.io/v1alpha1",
    kind: "NetworkNamespace",
    metadata: { name, namespace: ns },
    spec: { datacenterIdentifier: "dc1", supervisorIdentifier: "sup1", ipAllocation }
  })
  if (vlanId !== undefined)
    await run(
      supervisor.updateStatus(
        refOf("NetworkNamespace", name, ns),
        { vlanId },
        { resourceVersion: created.metadata.resourceVersion ?? "" }
      )
    )
}

const statusOf = async (name: string, ns: string) =>
  (await getObject(supervisor, "Machine", name, ns))?.status as Record<string, any> | undefined
const running = (name: string, ns: string) =>
  eventually(
    `${name} Running`,
    async () => ((await statusOf(name, ns))?.phase === "Running" ? true : undefined),
    90_000
  )
const recordedMac = async (name: string, ns: string) =>
  ((await getObject(supervisor, "NetworkConfiguration", name, ns))!.spec as any)?.networkInterfaces?.[0]?.macAddress as
    | string
    | undefined
const vmInterface = async (name: string, ns: string) =>
  ((await getObject(remote, "VirtualMachine", name, ns))!.spec as any)?.template.spec.domain.devices.interfaces[0]
const released = (name: string, ns: string) => releasedFrom(supervisor, name, ns, 90_000)

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
  standin = startStandIn(remote)
})
afterAll(async () => {
  await standin?.stop()
})

describe("vitistack networking on real apiservers", () => {
  it("a VLAN NetworkNamespace: the Machine waits for NAD vlan<id>, runs on it with the recorded MAC, which survives a restart and goes with the Machine", async () => {
    const ns = `e2e-vlan-${id}`
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await networkNamespace("net", ns, { type: "dhcp" }, 2101)
    let op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(supervisor, machine("vlan-vm", ns, { network: { networkNamespaceName: "net" } }))
      await eventually("the Machine waits for the NAD", async () =>
        /NetworkAttachmentDefinition .*vlan2101 .*does not exist/.test(String((await statusOf("vlan-vm", ns))?.message))
          ? true
          : undefined
      )
      expect((await statusOf("vlan-vm", ns))?.phase).not.toBe("Failed")
      expect(await getObject(remote, "VirtualMachine", "vlan-vm", ns)).toBeUndefined()
      const mac = await eventually("the NetworkConfiguration records a MAC", () => recordedMac("vlan-vm", ns))
      expect(mac).toMatch(/^02:12(:[0-9a-f]{2}){4}$/)
      // The cluster owner creates the NAD: the Machine runs on it.
      await upsert(remote, {
        apiVersion: "k8s.cni.cncf.io/v1",
        kind: "NetworkAttachmentDefinition",
        metadata: { name: "vlan2101", namespace: ns },
        spec: { config: '{"cniVersion":"1.0.0","name":"br0","plugins":[{"type":"bridge","bridge":"br0","vlan":2101}]}' }
      })
      await running("vlan-vm", ns)
      const vm = await getObject(remote, "VirtualMachine", "vlan-vm", ns)
      expect((vm!.spec as any).template.spec.networks).toEqual([
        { name: "vlan2101", multus: { networkName: "vlan2101" } }
      ])
      expect(await vmInterface("vlan-vm", ns)).toEqual({
        name: "vlan2101",
        model: "virtio",
        bridge: {},
        bootOrder: 2,
        macAddress: mac
      })
      expect((await statusOf("vlan-vm", ns))?.networkInterfaces[0].macAddress).toBe(mac)
      const nc = await getObject(supervisor, "NetworkConfiguration", "vlan-vm", ns)
      const machineUid = (await getObject(supervisor, "Machine", "vlan-vm", ns))?.metadata.uid
      expect(nc?.metadata.ownerReferences).toEqual([
        { apiVersion: "vitistack.io/v1alpha1", kind: "Machine", name: "vlan-vm", uid: machineUid, controller: true }
      ])
      expect((nc!.spec as any).networkNamespaceName).toBe("net")
      expect((nc!.spec as any).name).toBe("vlan-vm")

      // An operator restart keeps the MAC: nothing is rewritten.
      const before = [nc?.metadata.resourceVersion, vm?.metadata.resourceVersion]
      await op.stop()
      op = startOperator(ctx.supervisor.operatorKubeconfig)
      await op.port
      await new Promise((r) => setTimeout(r, 3000))
      expect(await recordedMac("vlan-vm", ns)).toBe(mac)
      expect([
        (await getObject(supervisor, "NetworkConfiguration", "vlan-vm", ns))?.metadata.resourceVersion,
        (await getObject(remote, "VirtualMachine", "vlan-vm", ns))?.metadata.resourceVersion
      ]).toEqual(before)

      // Deletion: the VM goes; the NetworkConfiguration goes with the Machine (garbage collection of the owner
      // reference); the cluster owner's NAD stays.
      await run(supervisor.delete(refOf("Machine", "vlan-vm", ns)))
      await released("vlan-vm", ns)
      await eventually("the NetworkConfiguration collected", async () =>
        (await getObject(supervisor, "NetworkConfiguration", "vlan-vm", ns)) === undefined ? true : undefined
      )
      expect(await getObject(remote, "NetworkAttachmentDefinition", "vlan2101", ns)).toBeDefined()
    } finally {
      await op.stop()
    }
  })

  it("with --create-network-attachments the operator creates the NAD and removes it after the namespace's last Machine", async () => {
    const ns = `e2e-nad-${id}`
    const kubectl = (args: ReadonlyArray<string>) => runKubectl(ctx.kubectl, ctx.remote.adminKubeconfig, args)
    const role = join(rbacDir, "remote-networkattachments-clusterrole.yaml")
    const binding = join(rbacDir, "remote-networkattachments-clusterrolebinding.yaml")
    await kubectl(["apply", "-f", role, "-f", binding])
    await eventually("the extra remote role is effective", async () => {
      const r = await runKubectl(
        ctx.kubectl,
        ctx.remote.operatorKubeconfig,
        ["auth", "can-i", "create", "network-attachment-definitions.k8s.cni.cncf.io", "-n", ns],
        { check: false }
      )
      return r.stdout.trim() === "yes" ? true : undefined
    })
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await networkNamespace("net", ns, { type: "dhcp" }, 2102)
    const op = startOperator(ctx.supervisor.operatorKubeconfig, {
      settings: Settings.make({ ...defaultSettings, createNetworkAttachments: true })
    })
    try {
      // No name: the legacy lookup finds the namespace's only NetworkNamespace.
      await upsert(supervisor, machine("one", ns))
      await upsert(supervisor, machine("two", ns))
      await running("one", ns)
      await running("two", ns)
      const nad = await getObject(remote, "NetworkAttachmentDefinition", "vlan2102", ns)
      expect(nad?.metadata.labels).toEqual({
        "managed-by": "vitistack-kubevirt-operator",
        "vitistack.io/vlan-id": "2102"
      })
      expect(JSON.parse((nad!.spec as any).config)).toEqual({
        cniVersion: "1.0.0",
        name: "br0",
        plugins: [{ type: "bridge", bridge: "br0", ipam: {}, vlan: 2102 }]
      })
      const macs = [await recordedMac("one", ns), await recordedMac("two", ns)]
      expect(new Set(macs).size).toBe(2)

      await run(supervisor.delete(refOf("Machine", "one", ns)))
      await released("one", ns)
      expect(await getObject(remote, "NetworkAttachmentDefinition", "vlan2102", ns)).toBeDefined()
      await run(supervisor.delete(refOf("Machine", "two", ns)))
      await released("two", ns)
      await eventually("the NAD removed after the last Machine", async () =>
        (await getObject(remote, "NetworkAttachmentDefinition", "vlan2102", ns)) === undefined ? true : undefined
      )
    } finally {
      await op.stop()
      await kubectl(["delete", "--ignore-not-found", "-f", binding, "-f", role])
    }
  })

  it("static: after a stand-in for the static-IP operator writes an address, the remote cloud-init Secret holds the network-config", async () => {
    const ns = `e2e-static-${id}`
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await networkNamespace(
      "pool",
      ns,
      { type: "static", static: { ipv4CIDR: "10.20.0.0/24", ipv4Gateway: "10.20.0.1", dns: ["10.20.0.53"] } },
      2103
    )
    await upsert(remote, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await upsert(remote, {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name: "vlan2103", namespace: ns },
      spec: { config: "{}" }
    })
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(supervisor, machine("static-vm", ns, { network: { networkNamespaceName: "pool" } }))
      await eventually("the Machine waits for its static IP", async () => {
        const s = await statusOf("static-vm", ns)
        return s?.conditions?.find((c: any) => c.type === "Ready")?.reason === "WaitingForStaticIP" ? s : undefined
      })
      expect((await statusOf("static-vm", ns))?.phase).not.toBe("Failed")
      expect(await getObject(remote, "VirtualMachine", "static-vm", ns)).toBeUndefined()
      expect(await getObject(remote, "Secret", "static-vm-cloudinit", ns)).toBeUndefined()
      const mac = await eventually("the MAC recorded", () => recordedMac("static-vm", ns))
      // The static-IP operator's stand-in allocates an address for the MAC.
      const nc = await getObject(supervisor, "NetworkConfiguration", "static-vm", ns)
      await run(
        supervisor.updateStatus(
          refOf("NetworkConfiguration", "static-vm", ns),
          { networkInterfaces: [{ macAddress: mac, ipv4Addresses: ["10.20.0.7"], allocationMethod: "static" }] },
          { resourceVersion: nc?.metadata.resourceVersion ?? "" }
        )
      )
      await running("static-vm", ns)
      const secret = await getObject(remote, "Secret", "static-vm-cloudinit", ns)
      const data = Object.fromEntries(
        Object.entries((secret?.data ?? {}) as Record<string, string>).map(([k, v]) => [
          k,
          Buffer.from(v, "base64").toString()
        ])
      )
      expect(data.userdata).toBe("#cloud-config\n")
      expect(data.networkdata).toBe(
        [
          "version: 1",
          "config:",
          "  - type: physical",
          "    name: vlan2103",
          `    mac_address: "${mac}"`,
          "    subnets:",
          "      - type: static",
          "        address: 10.20.0.7",
          "        netmask: 255.255.255.0",
          "        gateway: 10.20.0.1",
          "        dns_nameservers:",
          "          - 10.20.0.53",
          ""
        ].join("\n")
      )
      const volumes = ((await getObject(remote, "VirtualMachine", "static-vm", ns))!.spec as any).template.spec.volumes
      expect(volumes.at(-1)).toEqual({
        name: "cloudinitdisk",
        cloudInitNoCloud: {
          secretRef: { name: "static-vm-cloudinit" },
          networkDataSecretRef: { name: "static-vm-cloudinit" }
        }
      })
      await run(supervisor.delete(refOf("Machine", "static-vm", ns)))
      await released("static-vm", ns)
    } finally {
      await op.stop()
    }
  })
})
