/**
 * The desired remote objects of a Machine: its PVCs and its VirtualMachine, with names, labels and sizing
 * (design 3.4), or the diagnostics that say why the Machine cannot be satisfied. Domain layer: pure and total.
 */
import { advisory, type Diagnostic, error, info, isBlocking, waiting } from "./Diagnostic.ts"
import type { Fact } from "./Fact.ts"
import { ownerAnnotations, ownerLabels } from "./labels.ts"
import { type Machine, type MachineDisk, requestedClass } from "./Machine.ts"
import type { MachineClass } from "./MachineClass.ts"
import type { PvcSpec } from "./PvcSpec.ts"
import { parseQuantity, toMebibytes } from "./Quantity.ts"
import type { Settings } from "./Settings.ts"
import { POD_NETWORK, type VmDisk, type VmNetwork, type VmSpec } from "./VmSpec.ts"

export interface Desired {
  readonly pvcs: ReadonlyArray<PvcSpec>
  readonly vm: VmSpec
}

export type DesiredResult =
  | { readonly _tag: "Ok"; readonly desired: Desired; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Invalid"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Waiting"; readonly diagnostics: ReadonlyArray<Diagnostic> }

const DEFAULT_DISK_GB = 10
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const BUSES = ["virtio", "sata", "scsi"] as const

/** A DNS-1123 subdomain as the apiserver checks object names: the pattern, at most 253 characters. */
const isDnsSubdomain = (s: string): boolean => DNS_SUBDOMAIN.test(s) && s.length <= 253

const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max

interface DiskPlan {
  readonly disk: VmDisk
  readonly sizeGB: number
}

/** Disk and PVC names of the Go operator (reference F14, F16); the boot disk's PVC is named like the Machine. */
const planDisks = (name: string, disks: ReadonlyArray<MachineDisk>, diags: Array<Diagnostic>): Array<DiskPlan> => {
  if (disks.length === 0)
    return [{ disk: { name: "root", bus: "virtio", bootOrder: 1, claimName: name }, sizeGB: DEFAULT_DISK_GB }]
  if (disks.filter((d) => d.boot === true).length > 1)
    diags.push(error("MultipleBootDisks", "only one disk may have boot: true", "spec.disks"))
  return disks.map((d, i) => {
    const field = `spec.disks[${i}]`
    if (d.name !== undefined && (!DNS_LABEL.test(d.name) || d.name.length > 63))
      diags.push(error("InvalidDiskName", `disk name '${d.name}' is not a DNS-1123 label`, `${field}.name`))
    if (d.sizeGB === undefined) diags.push(error("MissingDiskSize", "sizeGB is required", `${field}.sizeGB`))
    else if (!isInt(d.sizeGB, 1, 65536))
      diags.push(error("InvalidDiskSize", `sizeGB ${d.sizeGB} is not an integer in 1..65536`, `${field}.sizeGB`))
    const bus = BUSES.find((b) => b === (d.type ?? "virtio").toLowerCase())
    if (bus === undefined)
      diags.push(
        advisory("UnknownDiskBus", `disk type '${d.type}' is not virtio, sata or scsi; using virtio`, `${field}.type`)
      )
    const diskName = d.name ?? (i === 0 ? "root" : `disk${i}`)
    const claimName = d.boot === true ? name : d.name !== undefined ? `${name}-${d.name}` : `${name}-disk${i}`
    return {
      disk: { name: diskName, bus: bus ?? "virtio", ...(d.boot === true ? { bootOrder: 1 } : {}), claimName },
      sizeGB: d.sizeGB ?? 0
    }
  })
}

/**
 * The VM's networks (ADR 0007): the pod network, plus one bridge interface per `spec.network.interfaces[]` entry
 * with a `subnet`, which names a NetworkAttachmentDefinition in the Machine's namespace on the remote. An entry
 * marked `primary` replaces the pod network. Entries without a subnet attach nothing.
 */
const planNetworks = (machine: Machine, diags: Array<Diagnostic>): Array<VmNetwork> => {
  const networkNamespace = machine.spec.network?.networkNamespaceName
  if (networkNamespace !== undefined && networkNamespace !== "")
    diags.push(
      info(
        "NetworkNamespaceIgnored",
        `spec.network.networkNamespaceName '${networkNamespace}' is not used; custom networks come from spec.network.interfaces[].subnet (ADR 0007)`
      )
    )
  const requested = (machine.spec.network?.interfaces ?? [])
    .map((iface, i) => ({ iface, i, field: `spec.network.interfaces[${i}]` }))
    .filter(({ iface }) => iface.subnet !== undefined && iface.subnet !== "")
  if (requested.length === 0) return [{ name: POD_NETWORK }]
  const primaries = requested.filter(({ iface }) => iface.primary === true)
  if (primaries.length > 1)
    diags.push(
      error("MultiplePrimaryInterfaces", "only one interface may have primary: true", "spec.network.interfaces")
    )
  const custom = requested.map(({ iface, i, field }): VmNetwork => {
    const name = iface.name === undefined || iface.name === "" ? `net${i}` : iface.name
    if (!DNS_LABEL.test(name) || name.length > 63)
      diags.push(error("InvalidInterfaceName", `interface name '${name}' is not a DNS-1123 label`, `${field}.name`))
    const nad = iface.subnet!
    if (!isDnsSubdomain(nad))
      diags.push(
        error(
          "InvalidNetworkAttachment",
          `subnet '${nad}' is not a NetworkAttachmentDefinition name (DNS-1123 subdomain)`,
          `${field}.subnet`
        )
      )
    return { name, nad, ...(iface.primary === true ? { primary: true } : {}) }
  })
  const networks: Array<VmNetwork> = primaries.length > 0 ? custom : [{ name: POD_NETWORK }, ...custom]
  const names = networks.map((n) => n.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined)
    diags.push(error("DuplicateInterfaceName", `two networks are named '${dup}'`, "spec.network.interfaces"))
  // The primary network comes first, as the VM's first interface.
  return networks.sort((a, b) => Number(b.primary === true) - Number(a.primary === true))
}

/**
 * The NetworkAttachmentDefinitions a Machine's networks need (observe reads these, even for an otherwise invalid
 * Machine; a name that cannot be one is not read).
 */
export const networkAttachmentNames = (machine: Machine): ReadonlyArray<string> =>
  [
    ...new Set(
      planNetworks(machine, [])
        .map((n) => n.nad)
        .filter((n): n is string => n !== undefined && isDnsSubdomain(n))
    )
  ].sort()

interface Sizing {
  readonly cores: number
  readonly sockets: number
  readonly threads: number
  readonly memory: string
}

const sizing = (machine: Machine, machineClass: Fact<MachineClass>, diags: Array<Diagnostic>): Sizing | "Waiting" => {
  let cores = 2
  let sockets = 1
  let threads = 1
  let memory = "2Gi"
  const className = requestedClass(machine)
  if (className !== undefined) {
    const field = machine.spec.machineClass !== undefined ? "spec.machineClass" : "spec.instanceType"
    if (machineClass._tag === "Unknown") {
      diags.push(
        waiting("MachineClassUnknown", `cannot read MachineClass '${className}': ${machineClass.reason}`, field)
      )
      return "Waiting"
    }
    if (machineClass._tag === "Absent" || machineClass.value.metadata.name !== className) {
      diags.push(error("MachineClassNotFound", `MachineClass '${className}' does not exist`, field))
    } else {
      const mc = machineClass.value
      if (mc.spec.enabled === false)
        diags.push(error("MachineClassDisabled", `MachineClass '${className}' is not enabled`, field))
      if (parseQuantity(mc.spec.memory.quantity) === undefined)
        diags.push(
          error("InvalidMachineClass", `MachineClass '${className}' has an invalid spec.memory.quantity`, field)
        )
      memory = String(mc.spec.memory.quantity)
      cores = mc.spec.cpu.cores
      if ((mc.spec.cpu.sockets ?? 0) > 0) sockets = mc.spec.cpu.sockets!
      if ((mc.spec.cpu.threads ?? 0) > 0) threads = mc.spec.cpu.threads!
    }
  }
  const cpu = machine.spec.cpu
  const override = (value: number | undefined, field: string, max: number, current: number): number => {
    if (value === undefined || value === 0) return current
    if (!isInt(value, 1, max)) {
      diags.push(error("InvalidCpu", `${value} is not an integer in 1..${max}`, field))
      return current
    }
    return value
  }
  cores = override(cpu?.cores, "spec.cpu.cores", 256, cores)
  sockets = override(cpu?.sockets, "spec.cpu.sockets", 16, sockets)
  threads = override(cpu?.threadsPerCore, "spec.cpu.threadsPerCore", 8, threads)
  if (!isInt(cores, 1, 256))
    diags.push(error("InvalidCpu", `cores ${cores} is not an integer in 1..256`, "spec.cpu.cores"))
  const bytes = machine.spec.memory
  if (bytes !== undefined && bytes !== 0) {
    if (!Number.isInteger(bytes) || bytes < 2 ** 20)
      diags.push(
        error("InvalidMemory", `memory ${bytes} is not a whole number of bytes of at least 1Mi`, "spec.memory")
      )
    else memory = toMebibytes(bytes)
  }
  return { cores, sockets, threads, memory }
}

/**
 * Builds the desired objects of a Machine.
 *
 * Guarantees: total (any decodable Machine gives a result), deterministic. Invalid input gives `Invalid` with one
 * diagnostic per bad field; an unreadable MachineClass gives `Waiting`.
 */
export const desiredFor = (machine: Machine, machineClass: Fact<MachineClass>, settings: Settings): DesiredResult => {
  const diags: Array<Diagnostic> = []
  const { name, namespace } = machine.metadata
  if (!isDnsSubdomain(name))
    diags.push(error("InvalidName", `Machine name '${name}' is not a DNS-1123 subdomain`, "metadata.name"))
  if (!DNS_LABEL.test(namespace) || namespace.length > 63)
    diags.push(error("InvalidNamespace", `namespace '${namespace}' is not a DNS-1123 label`, "metadata.namespace"))
  if (machine.spec.instanceType !== undefined && machine.spec.machineClass === undefined)
    diags.push(
      advisory(
        "InstanceTypeAlias",
        "spec.instanceType is not in the Machine CRD; read as spec.machineClass",
        "spec.instanceType"
      )
    )
  const size = sizing(machine, machineClass, diags)
  const disks = planDisks(name, machine.spec.disks ?? [], diags)
  const networks = planNetworks(machine, diags)
  const claims = disks.map((d) => d.disk.claimName)
  const diskNames = disks.map((d) => d.disk.name)
  const dupClaim = claims.find((c, i) => claims.indexOf(c) !== i)
  if (dupClaim !== undefined)
    diags.push(error("DuplicateDiskName", `two disks map to the same PVC '${dupClaim}'`, "spec.disks"))
  const dupDisk = diskNames.find((c, i) => diskNames.indexOf(c) !== i)
  if (dupDisk !== undefined && dupClaim === undefined)
    diags.push(error("DuplicateDiskName", `two disks have the same name '${dupDisk}'`, "spec.disks"))
  const tooLong = claims.find((c) => c.length > 253)
  if (tooLong !== undefined)
    diags.push(error("InvalidDiskName", `PVC name '${tooLong}' is longer than 253 characters`, "spec.disks"))

  if (diags.some(isBlocking)) return { _tag: "Invalid", diagnostics: diags }
  if (size === "Waiting") return { _tag: "Waiting", diagnostics: diags }

  const labels = ownerLabels(name)
  const annotations = ownerAnnotations(name)
  const pvcs = disks.map(
    (d): PvcSpec => ({
      name: d.disk.claimName,
      namespace,
      labels,
      annotations,
      storage: `${d.sizeGB}Gi`,
      ...(settings.storageClassName === undefined ? {} : { storageClassName: settings.storageClassName }),
      volumeMode: settings.pvcVolumeMode,
      accessModes: [settings.pvcAccessMode]
    })
  )
  const vm: VmSpec = {
    name,
    namespace,
    labels,
    annotations,
    runStrategy: "Always",
    cpu: { cores: size.cores, sockets: size.sockets, threads: size.threads, model: settings.cpuModel },
    memory: size.memory,
    disks: disks.map((d) => d.disk),
    networks
  }
  return { _tag: "Ok", desired: { pvcs, vm }, diagnostics: diags }
}

/** The PVC names a Machine's disks map to, even when the Machine is otherwise invalid (observe reads these). */
export const diskClaimNames = (machine: Machine): ReadonlyArray<string> =>
  planDisks(machine.metadata.name, machine.spec.disks ?? [], []).map((d) => d.disk.claimName)
