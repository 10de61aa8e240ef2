/**
 * KubeVirt VirtualMachine (kubevirt.io/v1) manifests from a `VmSpec`, the merge patch that converges owned fields,
 * and the projections of a live VM and VMI back to observed facts. Domain layer: pure.
 * Shape follows the Go operator (reference F19-F27): runStrategy Always, EFI without secure boot, virtio NICs; the
 * pod network uses masquerade binding (KubeVirt's supported binding for the pod network; see ADR 0001), custom
 * networks (Multus NetworkAttachmentDefinitions) use bridge binding (ADR 0007).
 */
import type { KubeObject } from "../KubeObject.ts"
import type { ObservedVm, ObservedVmi } from "../ObservedState.ts"
import { parseQuantity } from "../Quantity.ts"
import { POD_NETWORK, type VmCloudInit, type VmDisk, type VmNetwork, type VmSpec } from "../VmSpec.ts"
import { DATA_VOLUME_TEMPLATES_FIELD, NETWORKS_FIELD, vmDrift } from "../vmDrift.ts"
import { asArray, asBoolean, asNumber, asRecord, asString, asStringArray } from "./jsonPath.ts"

/** The cloud-init disk's name (and its volume's), as in the Go operator. */
export const CLOUD_INIT_DISK = "cloudinitdisk"

const renderDisk = (d: VmDisk) => ({
  name: d.name,
  ...(d.cdrom === true ? { cdrom: { bus: d.bus } } : { disk: { bus: d.bus } }),
  ...(d.bootOrder === undefined ? {} : { bootOrder: d.bootOrder })
})

const renderVolume = (d: VmDisk) =>
  d.dataVolume === true
    ? { name: d.name, dataVolume: { name: d.claimName } }
    : { name: d.name, persistentVolumeClaim: { claimName: d.claimName } }

/** The cloud-init volume: Secret references only; the content never appears in the VM (ADR 0010). */
const renderCloudInit = (c: VmCloudInit) => {
  const source = {
    secretRef: { name: c.secretName },
    ...(c.networkData ? { networkDataSecretRef: { name: c.secretName } } : {})
  }
  return {
    name: CLOUD_INIT_DISK,
    ...(c.kind === "ConfigDrive" ? { cloudInitConfigDrive: source } : { cloudInitNoCloud: source })
  }
}

const disksOf = (v: VmSpec) => [
  ...v.disks.map(renderDisk),
  ...(v.cloudInit === undefined ? [] : [{ name: CLOUD_INIT_DISK, disk: { bus: "virtio" } }])
]
const volumesOf = (v: VmSpec) => [
  ...v.disks.map(renderVolume),
  ...(v.cloudInit === undefined ? [] : [renderCloudInit(v.cloudInit)])
]

const renderInterface = (n: VmNetwork) => ({
  name: n.name,
  model: "virtio",
  ...(n.nad === undefined ? { masquerade: {} } : { bridge: {} }),
  ...(n.bootOrder === undefined ? {} : { bootOrder: n.bootOrder }),
  ...(n.macAddress === undefined ? {} : { macAddress: n.macAddress })
})

const renderNetwork = (n: VmNetwork) =>
  n.nad === undefined
    ? { name: n.name, pod: {} }
    : { name: n.name, multus: { networkName: n.nad, ...(n.primary === true ? { default: true } : {}) } }

/** The owned part of `spec.template.spec.domain` and of `spec.template.spec`. */
const templateSpec = (v: VmSpec) => ({
  ...(v.architecture === undefined ? {} : { architecture: v.architecture }),
  domain: {
    cpu: {
      cores: v.cpu.cores,
      sockets: v.cpu.sockets,
      threads: v.cpu.threads,
      model: v.cpu.model,
      ...(v.cpu.features === undefined ? {} : { features: v.cpu.features.map((f) => ({ ...f })) })
    },
    memory: { guest: v.memory },
    firmware: { bootloader: { efi: { secureBoot: false } } },
    devices: {
      disks: disksOf(v),
      interfaces: v.networks.map(renderInterface),
      networkInterfaceMultiqueue: true
    }
  },
  networks: v.networks.map(renderNetwork),
  volumes: volumesOf(v)
})

const meta = (v: VmSpec) => ({
  name: v.name,
  namespace: v.namespace,
  labels: { ...v.labels },
  ...(Object.keys(v.annotations).length > 0 ? { annotations: { ...v.annotations } } : {})
})

export const vmManifest = (v: VmSpec): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: meta(v),
  spec: {
    runStrategy: v.runStrategy,
    template: { metadata: { labels: { ...v.labels } }, spec: templateSpec(v) }
  }
})

/**
 * The JSON merge patch from the observed owned state to the desired one. Labels and annotations are merged key by
 * key (others on the object survive); the owned arrays (disks, volumes) are replaced whole, as merge patch does.
 * Interfaces and networks are sent only when the networks changed: replacing them drops what others add to an
 * interface (a MAC address from kubemacpool or a user), and a new MAC on a bridged NIC means a new address.
 */
export const vmPatch = (before: VmSpec, after: VmSpec) => {
  const t = templateSpec(after)
  const { name: _name, namespace: _namespace, ...metadata } = meta(after)
  const drift = vmDrift(before, after)
  const networksChanged = drift.some((c) => c.field === NETWORKS_FIELD)
  // The Go operator's ISO template (ADR 0014): removed with the volume that names it, or KubeVirt's admission would
  // refuse the patch (a template must be referenced by a volume). Its DataVolume stays, adopted on its own.
  const dropTemplates =
    drift.some((c) => c.field === DATA_VOLUME_TEMPLATES_FIELD) && (after.dataVolumeTemplates ?? []).length === 0
  return {
    metadata,
    spec: {
      ...(dropTemplates ? { dataVolumeTemplates: null } : {}),
      runStrategy: after.runStrategy,
      template: {
        metadata: { labels: { ...after.labels } },
        spec: {
          // A merge patch cannot remove a key by omitting it: null removes an architecture no longer wanted.
          architecture: after.architecture ?? null,
          domain: {
            cpu: { ...t.domain.cpu, features: after.cpu.features === undefined ? null : t.domain.cpu.features },
            memory: t.domain.memory,
            devices: {
              disks: t.domain.devices.disks,
              ...(networksChanged ? { interfaces: t.domain.devices.interfaces } : {})
            }
          },
          ...(networksChanged ? { networks: t.networks } : {}),
          volumes: t.volumes
        }
      }
    }
  }
}

/** Projects a live VM onto the owned fields (missing fields project to neutral values, which then show as drift). */
export const observeVm = (o: KubeObject): ObservedVm => {
  const spec = asRecord(o.spec)
  const tspec = asRecord(asRecord(spec.template).spec)
  const domain = asRecord(tspec.domain)
  const cpu = asRecord(domain.cpu)
  const volumes = new Map(asArray(tspec.volumes).map((v) => [asString(asRecord(v).name) ?? "", asRecord(v)]))
  let cloudInit: VmCloudInit | undefined
  const disks = asArray(asRecord(domain.devices).disks).flatMap((d): Array<VmDisk> => {
    const r = asRecord(d)
    const name = asString(r.name) ?? ""
    const volume = volumes.get(name) ?? {}
    const ci = volume.cloudInitNoCloud ?? volume.cloudInitConfigDrive
    if (ci !== undefined) {
      const source = asRecord(ci)
      cloudInit = {
        kind: volume.cloudInitConfigDrive !== undefined ? "ConfigDrive" : "NoCloud",
        secretName: asString(asRecord(source.secretRef).name) ?? "",
        networkData: asString(asRecord(source.networkDataSecretRef).name) !== undefined
      }
      return []
    }
    const cdrom = r.cdrom !== undefined
    const bus = asString(asRecord(cdrom ? r.cdrom : r.disk).bus)
    const bootOrder = asNumber(r.bootOrder)
    const dataVolume = asString(asRecord(volume.dataVolume).name)
    return [
      {
        name,
        bus: bus === "sata" || bus === "scsi" ? bus : "virtio",
        ...(bootOrder === undefined ? {} : { bootOrder }),
        claimName: dataVolume ?? asString(asRecord(volume.persistentVolumeClaim).claimName) ?? "",
        ...(dataVolume === undefined ? {} : { dataVolume: true }),
        ...(cdrom ? { cdrom: true } : {})
      }
    ]
  })
  const interfaces = new Map(
    asArray(asRecord(domain.devices).interfaces).map((i) => [asString(asRecord(i).name) ?? "", asRecord(i)])
  )
  const features = asArray(cpu.features).map((f) => ({
    name: asString(asRecord(f).name) ?? "",
    policy: asString(asRecord(f).policy) ?? ""
  }))
  const architecture = asString(tspec.architecture)
  const listed = asArray(tspec.networks).map((raw): VmNetwork => {
    const n = asRecord(raw)
    const multus = asRecord(n.multus)
    const nad = asString(multus.networkName)
    const name = asString(n.name) ?? ""
    const iface = interfaces.get(name) ?? {}
    const bootOrder = asNumber(iface.bootOrder)
    const macAddress = asString(iface.macAddress)
    return {
      name,
      ...(nad === undefined ? {} : { nad }),
      ...(asBoolean(multus.default) === true ? { primary: true } : {}),
      ...(bootOrder === undefined ? {} : { bootOrder }),
      ...(macAddress === undefined ? {} : { macAddress })
    }
  })
  // A VM that lists no networks gets the pod network from KubeVirt (autoattachPodInterface), as ours do.
  const networks = listed.length === 0 ? [{ name: POD_NETWORK }] : listed
  const dataVolumeTemplates = asArray(spec.dataVolumeTemplates).map(
    (t) => asString(asRecord(asRecord(t).metadata).name) ?? ""
  )
  const status = asRecord(o.status)
  const printableStatus = asString(status.printableStatus)
  return {
    name: o.metadata.name,
    labels: { ...(o.metadata.labels ?? {}) },
    resourceVersion: o.metadata.resourceVersion ?? "",
    spec: {
      name: o.metadata.name,
      namespace: o.metadata.namespace ?? "",
      labels: { ...(o.metadata.labels ?? {}) },
      annotations: { ...(o.metadata.annotations ?? {}) },
      runStrategy: asString(spec.runStrategy) ?? "",
      cpu: {
        cores: asNumber(cpu.cores) ?? 0,
        sockets: asNumber(cpu.sockets) ?? 0,
        threads: asNumber(cpu.threads) ?? 0,
        model: asString(cpu.model) ?? "",
        ...(features.length === 0 ? {} : { features })
      },
      ...(architecture === undefined ? {} : { architecture }),
      memory: asString(asRecord(domain.memory).guest) ?? "",
      disks,
      networks,
      ...(cloudInit === undefined ? {} : { cloudInit }),
      ...(dataVolumeTemplates.length === 0 ? {} : { dataVolumeTemplates })
    },
    ...(printableStatus === undefined ? {} : { printableStatus }),
    deleting: o.metadata.deletionTimestamp !== undefined
  }
}

/** Projects a live VMI onto what status derivation reads: phase, interfaces with IPs, volumes with devices. */
export const observeVmi = (o: KubeObject): ObservedVmi => {
  const status = asRecord(o.status)
  const phase = asString(status.phase)
  return {
    ...(phase === undefined ? {} : { phase }),
    interfaces: asArray(status.interfaces).map((i) => {
      const r = asRecord(i)
      const name = asString(r.name)
      const mac = asString(r.mac)
      const linkState = asString(r.linkState)
      const infoSource = asString(r.infoSource)
      const ips = asStringArray(r.ipAddresses)
      const ip = asString(r.ipAddress)
      return {
        ...(name === undefined ? {} : { name }),
        ...(mac === undefined ? {} : { mac }),
        ipAddresses: ips.length > 0 ? ips : ip === undefined ? [] : [ip],
        ...(linkState === undefined ? {} : { linkState }),
        ...(infoSource === undefined ? {} : { infoSource })
      }
    }),
    volumes: asArray(status.volumeStatus).map((v) => {
      const r = asRecord(v)
      const pvc = asRecord(r.persistentVolumeClaimInfo)
      const target = asString(r.target)
      const pvcName = asString(pvc.claimName)
      const volumeMode = asString(pvc.volumeMode)
      const capacity = asString(asRecord(pvc.capacity).storage)
      const accessModes = asStringArray(pvc.accessModes)
      return {
        name: asString(r.name) ?? "",
        ...(target === undefined ? {} : { target }),
        ...(pvcName === undefined ? {} : { pvcName }),
        ...(volumeMode === undefined ? {} : { volumeMode }),
        ...(capacity === undefined ? {} : { capacity: parseCapacity(capacity) }),
        ...(accessModes.length > 0 ? { accessModes } : {})
      }
    })
  }
}

const parseCapacity = (q: string): number => parseQuantity(q) ?? 0
