/**
 * Boot media end to end on the real apiservers (ADR 0010), with the shipped RBAC (the restricted `operator` identity
 * on both clusters), the real KubeVirt and CDI CRDs, and the stand-ins playing KubeVirt and CDI on the remote: an image
 * imported into the boot disk before the VM runs; a failed import imported again once the Machine's URL is signed
 * again; an installer ISO on a CD-ROM, removed with its DataVolume once the
 * OS is installed; cloud-init from inline data, a supervisor Secret and a ConfigMap in the remote Secret the VM
 * references, following edits; access modes from a StorageProfile; deletion in order.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  released,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const ns = `e2e-boot-${id}`
const config = `remote-boot-${id}`
let supervisor: KubeApiService
let remote: KubeApiService
let standin: { stop: () => Promise<void> }

const machine = (
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {}
): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace: ns, annotations: { "vitistack.io/kubevirt-config": config, ...annotations } },
  spec: { provider: "kubevirt", disks: [{ name: "root", sizeGB: 1, boot: true }], ...spec }
})
const statusOf = async (name: string) =>
  (await getObject(supervisor, "Machine", name, ns))?.status as Record<string, any> | undefined
const running = (name: string) =>
  eventually(`${name} Running`, async () => ((await statusOf(name))?.phase === "Running" ? true : undefined), 90_000)
const remoteSecretData = async (name: string) => {
  const s = await getObject(remote, "Secret", name, ns)
  return Object.fromEntries(
    Object.entries((s?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()])
  )
}

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
  await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
  standin = startStandIn(remote)
})
afterAll(async () => {
  await standin?.stop()
})

describe("boot media on real apiservers", () => {
  it("an image is imported into the boot disk before the VM runs; deletion goes VM, DataVolume, claim, Secret", async () => {
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        machine("img", {
          os: { imageID: "https://images.example/noble.qcow2" },
          cloudInit: { userData: "#cloud-config\npackages: [nginx]\n" }
        })
      )
      // The import is visible on the Machine before the VM exists.
      await eventually("import progress on the Machine", async () =>
        /importing boot image/.test(String((await statusOf("img"))?.message)) ? true : undefined
      )
      await running("img")
      const dv = await getObject(remote, "DataVolume", "img", ns)
      expect((dv?.status as any)?.phase).toBe("Succeeded")
      expect((dv!.spec as any).source).toEqual({ http: { url: "https://images.example/noble.qcow2" } })
      const vm = await getObject(remote, "VirtualMachine", "img", ns)
      const tspec = (vm!.spec as any).template.spec
      expect(tspec.volumes).toEqual([
        { name: "root", dataVolume: { name: "img" } },
        { name: "cloudinitdisk", cloudInitNoCloud: { secretRef: { name: "img-cloudinit" } } }
      ])
      expect(JSON.stringify(vm)).not.toContain("nginx")
      expect((await remoteSecretData("img-cloudinit")).userdata).toBe("#cloud-config\npackages: [nginx]\n")

      // Deletion in order: record when each object is first seen gone.
      const gone: Record<string, number> = {}
      const objects = [
        ["VirtualMachine", "img"],
        ["DataVolume", "img"],
        ["PersistentVolumeClaim", "img"],
        ["Secret", "img-cloudinit"]
      ] as const
      await run(supervisor.delete(refOf("Machine", "img", ns)))
      await eventually(
        "every remote object gone",
        async () => {
          for (const [kind, name] of objects)
            if (gone[kind] === undefined && (await getObject(remote, kind, name, ns)) === undefined)
              gone[kind] = Date.now()
          return Object.keys(gone).length === objects.length ? true : undefined
        },
        90_000
      )
      const order = Object.entries(gone)
        .sort((a, b) => a[1] - b[1])
        .map(([k]) => k)
      expect(order.indexOf("VirtualMachine")).toBeLessThan(order.indexOf("DataVolume"))
      expect(order.indexOf("DataVolume")).toBeLessThan(order.indexOf("Secret"))
      expect(order.indexOf("PersistentVolumeClaim")).toBeLessThan(order.indexOf("Secret"))
      await released(supervisor, "img", ns)
    } finally {
      await op.stop()
    }
  })

  it("a failed import is imported again from the Machine's URL once its spec changes (a URL signed again)", async () => {
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    // The CDI stand-in fails a URL that contains "bad"; the signature is a credential, masked everywhere but the spec.
    const signed = (sig: string) => `https://b.s3.example/noble.qcow2?X-Amz-Expires=3600&X-Amz-Signature=${sig}`
    try {
      await upsert(supervisor, machine("resign", { os: { imageID: signed("Zq1expiredbad") } }))
      await eventually("the import fails and the Machine says how to retry it", async () => {
        const message = String((await statusOf("resign"))?.message)
        return /import failed/.test(message) && /signed again/.test(message) ? true : undefined
      })
      const failed = await getObject(remote, "DataVolume", "resign", ns)
      const generation = (await getObject(supervisor, "Machine", "resign", ns))?.metadata.generation
      expect(failed?.metadata.annotations?.["vitistack.io/machine-generation"]).toBe(String(generation))
      // Nothing happens to the failed import while the Machine's spec stays as it is.
      await new Promise((r) => setTimeout(r, 1500))
      expect((await getObject(remote, "DataVolume", "resign", ns))?.metadata.uid).toBe(failed?.metadata.uid)

      await run(
        supervisor.patch(refOf("Machine", "resign", ns), { spec: { os: { imageID: signed("Zq2fresh") } } } as never)
      )
      await running("resign")
      const again = await getObject(remote, "DataVolume", "resign", ns)
      expect(again?.metadata.uid).not.toBe(failed?.metadata.uid)
      expect((again!.spec as any).source).toEqual({ http: { url: signed("Zq2fresh") } })
      const newGeneration = (await getObject(supervisor, "Machine", "resign", ns))?.metadata.generation
      expect(newGeneration).toBeGreaterThan(generation!)
      expect(again?.metadata.annotations?.["vitistack.io/machine-generation"]).toBe(String(newGeneration))
      // Neither signature shows in the Machine's status or its Events.
      const events = await run(supervisor.list({ apiVersion: "v1", kind: "Event" }, { namespace: ns }))
      const shown = JSON.stringify([await statusOf("resign"), events.items])
      expect(shown).toContain("importing again")
      for (const sig of ["Zq1expiredbad", "Zq2fresh"]) expect(shown).not.toContain(sig)
      await run(supervisor.delete(refOf("Machine", "resign", ns)))
      await released(supervisor, "resign", ns)
    } finally {
      await op.stop()
    }
  })

  it("an installer ISO is a CD-ROM; os-installed removes it, then its DataVolume, and marks the Machine", async () => {
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        machine("inst", { os: { isoUri: "https://cd.example/debian.iso" } }, { "vitistack.io/iso-size": "1Gi" })
      )
      await running("inst")
      const disks = async () =>
        ((await getObject(remote, "VirtualMachine", "inst", ns))!.spec as any).template.spec.domain.devices.disks
      expect(await disks()).toEqual([
        { name: "root", disk: { bus: "virtio" }, bootOrder: 1 },
        { name: "cdrom-iso", cdrom: { bus: "sata" }, bootOrder: 2 }
      ])
      expect(
        ((await getObject(remote, "DataVolume", "inst-iso", ns))!.spec as any).storage.resources.requests.storage
      ).toBe("1Gi")
      await run(
        supervisor.patch(refOf("Machine", "inst", ns), {
          metadata: { annotations: { "vitistack.io/os-installed": "true" } }
        })
      )
      await eventually("the ISO DataVolume deleted and the Machine marked", async () => {
        const m = await getObject(supervisor, "Machine", "inst", ns)
        return m?.metadata.annotations?.["vitistack.io/iso-cleaned-up"] === "true" &&
          (await getObject(remote, "DataVolume", "inst-iso", ns)) === undefined
          ? true
          : undefined
      })
      expect((await disks()).map((d: any) => d.name)).toEqual(["root"])
      await run(supervisor.delete(refOf("Machine", "inst", ns)))
      await released(supervisor, "inst", ns)
    } finally {
      await op.stop()
    }
  })

  it("cloud-init from a supervisor Secret and ConfigMap lands in the remote Secret; an edit reaches it", async () => {
    await upsert(supervisor, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "ud", namespace: ns },
      data: { userdata: Buffer.from("#cloud-config\nhostname: one\n").toString("base64") }
    })
    await upsert(supervisor, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "net", namespace: ns },
      data: { networkdata: "version: 2\nethernets: {}\n" }
    })
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        machine("ci", {
          cloudInit: { userDataSecretRef: { name: "ud" }, networkDataConfigMapRef: { name: "net" } },
          sshKeys: ["ssh-ed25519 AAAAexample e2e@test"]
        })
      )
      await running("ci")
      const first = await remoteSecretData("ci-cloudinit")
      expect(first.userdata).toContain("hostname: one")
      expect(first.userdata).toContain('ssh_authorized_keys:\n  - "ssh-ed25519 AAAAexample e2e@test"')
      expect(first.networkdata).toBe("version: 2\nethernets: {}\n")
      const volumes = ((await getObject(remote, "VirtualMachine", "ci", ns))!.spec as any).template.spec.volumes
      expect(volumes.at(-1)).toEqual({
        name: "cloudinitdisk",
        cloudInitNoCloud: { secretRef: { name: "ci-cloudinit" }, networkDataSecretRef: { name: "ci-cloudinit" } }
      })
      // Secret values are not in the Machine's status or events.
      expect(JSON.stringify(await statusOf("ci"))).not.toContain("hostname")
      // An edit of the supervisor Secret reaches the remote one (the Secret watch wakes the Machine).
      await upsert(supervisor, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "ud", namespace: ns },
        data: { userdata: Buffer.from("#cloud-config\nhostname: two\n").toString("base64") }
      })
      await eventually("the remote Secret follows the edit", async () =>
        (await remoteSecretData("ci-cloudinit")).userdata?.includes("hostname: two") ? true : undefined
      )
      const events = await run(supervisor.list({ apiVersion: "v1", kind: "Event" }, { namespace: ns }))
      expect(JSON.stringify(events.items)).not.toContain("hostname")
      await run(supervisor.delete(refOf("Machine", "ci", ns)))
      await released(supervisor, "ci", ns)
      expect(await getObject(remote, "Secret", "ci-cloudinit", ns)).toBeUndefined()
    } finally {
      await op.stop()
    }
  })

  it("a StorageProfile that lists only ReadWriteOnce Block gives a ReadWriteOnce PVC", async () => {
    const klass = `e2e-rwo-${id}`
    await upsert(remote, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: klass },
      provisioner: "example.com/none"
    } as KubeObject)
    const profile = await upsert(remote, {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "StorageProfile",
      metadata: { name: klass },
      spec: {}
    })
    await run(
      remote.updateStatus(
        refOf("StorageProfile", klass),
        { claimPropertySets: [{ accessModes: ["ReadWriteOnce"], volumeMode: "Block" }] },
        { resourceVersion: profile.metadata.resourceVersion ?? "" }
      )
    )
    const op = startOperator(ctx.supervisor.operatorKubeconfig, {
      settings: Settings.make({ ...defaultSettings, storageClassName: klass })
    })
    try {
      await upsert(supervisor, machine("rwo", {}))
      const pvc = await eventually("the PVC", () => getObject(remote, "PersistentVolumeClaim", "rwo", ns))
      expect((pvc.spec as any).accessModes).toEqual(["ReadWriteOnce"])
      expect((pvc.spec as any).storageClassName).toBe(klass)
      await run(supervisor.delete(refOf("Machine", "rwo", ns)))
      await released(supervisor, "rwo", ns)
    } finally {
      await op.stop()
      await run(remote.delete(refOf("StorageProfile", klass)).pipe(Effect.ignore))
    }
  })
})
