/**
 * The desired remote objects of a Machine: its PVCs and its VirtualMachine, with names, labels and sizing
 * (design 3.4), or the diagnostics that say why the Machine cannot be satisfied. Domain layer: pure and total.
 * Sizing and the Machine's own names are checked here; the disks and networks come from their capability modules
 * (`disks.ts`, `networks.ts`). The planner computes this once and hands it to every step.
 */
import { ISO_DISK, plannedDataVolumes } from "./bootMedia.ts"
import { bootSourceOf } from "./bootSource.ts"
import { cloudInitSecretName, cloudInitSecretSpec } from "./cloudInit.ts"
import { type CloudInitDecision, cloudInitPayload, decisionOf, type SourceValues } from "./cloudInitPayload.ts"
import { advisory, type Diagnostic, error, isBlocking, isWaiting, waiting } from "./Diagnostic.ts"
import { planDisks } from "./disks.ts"
import { isDnsLabel, isDnsSubdomain } from "./dnsNames.ts"
import type { Fact } from "./Fact.ts"
import { ownerAnnotations, ownerLabels } from "./labels.ts"
import { type Machine, requestedClass } from "./Machine.ts"
import type { MachineClass } from "./MachineClass.ts"
import { assignMacs, desiredNetworkConfiguration, staticNetworkData } from "./networkConfiguration.ts"
import { planNetworks } from "./networks.ts"
import type { VitistackFacts } from "./ObservedState.ts"
import type { PvcSpec } from "./PvcSpec.ts"
import { parseQuantity, toMebibytes } from "./Quantity.ts"
import type { RenderedCloudInit } from "./RenderedCloudInit.ts"
import type { Settings } from "./Settings.ts"
import type { DesiredResult, VitistackDesired } from "./step.ts"
import type { VmCloudInit, VmNetwork, VmSpec } from "./VmSpec.ts"
import { networkAttachmentSpec, vitistackNetwork } from "./vitistackNetwork.ts"

export type { Desired, DesiredResult } from "./step.ts"

const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max

/**
 * Guest memory the operator will put in a VM: at least 1 MiB, at most 1 PiB (no host comes near it; beyond it the
 * value is a typo or an attack, and `1e308` bytes would render as an invalid quantity).
 */
const MIN_MEMORY_BYTES = 2 ** 20
const MAX_MEMORY_BYTES = 2 ** 50
const MEMORY_RANGE = "1Mi..1Pi"
const isMemorySize = (bytes: number) => bytes >= MIN_MEMORY_BYTES && bytes <= MAX_MEMORY_BYTES

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
      // The class's values reach the VM as they are: each is checked here, naming the class's own field.
      const invalidClass = (classField: string, problem: string) =>
        diags.push(error("InvalidMachineClass", `MachineClass '${className}' ${classField}: ${problem}`, field))
      const quantity = mc.spec.memory.quantity
      const bytes = parseQuantity(quantity)
      if (bytes === undefined) invalidClass("spec.memory.quantity", `'${String(quantity)}' is not a finite quantity`)
      else if (!isMemorySize(bytes))
        invalidClass("spec.memory.quantity", `'${String(quantity)}' is not in ${MEMORY_RANGE}`)
      memory = String(quantity)
      cores = mc.spec.cpu.cores
      if (!isInt(cores, 1, 256)) invalidClass("spec.cpu.cores", `${cores} is not an integer in 1..256`)
      const classSockets = mc.spec.cpu.sockets ?? 0
      if (classSockets !== 0 && !isInt(classSockets, 1, 16))
        invalidClass("spec.cpu.sockets", `${classSockets} is not an integer in 1..16`)
      else if (classSockets > 0) sockets = classSockets
      const classThreads = mc.spec.cpu.threads ?? 0
      if (classThreads !== 0 && !isInt(classThreads, 1, 8))
        invalidClass("spec.cpu.threads", `${classThreads} is not an integer in 1..8`)
      else if (classThreads > 0) threads = classThreads
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
  // The class's values were checked above; an override is checked as it is applied.
  cores = override(cpu?.cores, "spec.cpu.cores", 256, cores)
  sockets = override(cpu?.sockets, "spec.cpu.sockets", 16, sockets)
  threads = override(cpu?.threadsPerCore, "spec.cpu.threadsPerCore", 8, threads)
  const bytes = machine.spec.memory
  if (bytes !== undefined && bytes !== 0) {
    if (!Number.isInteger(bytes) || !isMemorySize(bytes))
      diags.push(
        error("InvalidMemory", `memory ${bytes} is not a whole number of bytes in ${MEMORY_RANGE}`, "spec.memory")
      )
    else memory = toMebibytes(bytes)
  }
  return { cores, sockets, threads, memory }
}

/**
 * What the supervisor side says beyond the MachineClass: cloud-init sources, the ISO size probe's answer, the
 * vitistack network facts (ADR 0013) with the placed cluster (part of every derived MAC) and the MACs the live VM has.
 */
export interface DesiredInputs {
  readonly cloudInitSources?: SourceValues | undefined
  /** A recorded rendering (a decision trace's), used instead of rendering from `cloudInitSources`. */
  readonly cloudInitRendered?: RenderedCloudInit | undefined
  readonly isoSize?: string | undefined
  readonly vitistack?: VitistackFacts | undefined
  readonly cluster?: string | undefined
  readonly liveMacs?: Readonly<Record<string, string>> | undefined
}

/** The CPU: arm64 guests get host-passthrough; host-model CPUs lose `ht` on KubeVirt >= 1.8 (reference W22). */
const cpuOf = (machine: Machine, settings: Settings, size: Sizing): VmSpec["cpu"] => {
  const arm = machine.spec.os?.architecture === "arm64"
  const model = arm ? "host-passthrough" : settings.cpuModel
  const features =
    settings.disableCpuHtFeature !== false && model === "host-model" ? [{ name: "ht", policy: "disable" }] : []
  return {
    cores: size.cores,
    sockets: size.sockets,
    threads: size.threads,
    model,
    ...(features.length === 0 ? {} : { features })
  }
}

/** The Machine's vitistack network and, for a static one, the network data its cloud-init carries (ADR 0013). */
const vitistackNetworkData = (machine: Machine, vitistack: DesiredInputs["vitistack"]) => {
  const vnet = vitistackNetwork(machine, vitistack)
  const resolved = vnet._tag === "Resolved" ? vnet : undefined
  const staticIp = resolved === undefined ? undefined : staticNetworkData(machine, vitistack, resolved)
  return { vnet, staticIp }
}

/**
 * The cloud-init payload exactly as `desiredFor` renders it from these inputs (sources, and the static address of a
 * vitistack network): what a decision trace records in place of the source values (ADR 0015).
 */
export const renderCloudInit = (
  machine: Machine,
  sources: SourceValues | undefined,
  vitistack: DesiredInputs["vitistack"]
) => {
  const { staticIp } = vitistackNetworkData(machine, vitistack)
  return cloudInitPayload(machine, sources ?? {}, staticIp?._tag === "Ready" ? staticIp.networkData : undefined)
}

/**
 * Builds the desired objects of a Machine.
 *
 * Guarantees: total (any decodable Machine gives a result), deterministic. Invalid input gives `Invalid` with one
 * diagnostic per bad field; an unreadable MachineClass or a cloud-init source not there yet gives `Waiting`.
 */
export const desiredFor = (
  machine: Machine,
  machineClass: Fact<MachineClass>,
  settings: Settings,
  inputs: DesiredInputs = {}
): DesiredResult => {
  const diags: Array<Diagnostic> = []
  const { name, namespace } = machine.metadata
  if (!isDnsSubdomain(name))
    diags.push(error("InvalidName", `Machine name '${name}' is not a DNS-1123 subdomain`, "metadata.name"))
  if (!isDnsLabel(namespace))
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
  const boot = bootSourceOf(machine)
  diags.push(...boot.diagnostics)
  const planned = planDisks(name, machine.spec.disks ?? [], diags)
  // The image goes into the boot disk: the one marked boot, else the first; it boots first.
  const bootIndex =
    boot.root === undefined
      ? -1
      : Math.max(
          0,
          planned.findIndex((d) => d.disk.bootOrder === 1)
        )
  const disks = planned.map((d, i) =>
    i === bootIndex ? { ...d, disk: { ...d.disk, bootOrder: 1, dataVolume: true } } : d
  )
  const arch = machine.spec.os?.architecture
  if (arch !== undefined && !["amd64", "arm64", "x86_64"].includes(arch))
    diags.push(
      error("InvalidArchitecture", `architecture '${arch}' is not amd64, arm64 or x86_64`, "spec.os.architecture")
    )
  // Vitistack networking (ADR 0013): the NetworkNamespace's network comes first; a static one's address goes into
  // the cloud-init network data once allocated.
  const { vnet, staticIp } = vitistackNetworkData(machine, inputs.vitistack)
  if (vnet._tag === "Invalid" || vnet._tag === "Waiting") diags.push(...vnet.diagnostics)
  const resolved = vnet._tag === "Resolved" ? vnet : undefined
  if (staticIp?._tag === "UserNetworkData") diags.push(staticIp.diagnostic)
  // A decision trace's recorded rendering stands in for the sources it was made from (ADR 0015).
  const cloudInit: CloudInitDecision =
    inputs.cloudInitRendered !== undefined
      ? decisionOf(inputs.cloudInitRendered)
      : cloudInitPayload(
          machine,
          inputs.cloudInitSources ?? {},
          staticIp?._tag === "Ready" ? staticIp.networkData : undefined
        )
  diags.push(...cloudInit.diagnostics)
  const plannedNetworks = planNetworks(
    machine,
    diags,
    resolved === undefined ? undefined : { network: resolved.primary, networkNamespace: resolved.networkNamespace.name }
  )
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
  if (size === "Waiting" || vnet._tag === "Waiting" || (cloudInit._tag === "Blocked" && diags.some(isWaiting)))
    return { _tag: "Waiting", diagnostics: diags }
  // Stable MACs for a Machine on a NetworkNamespace, once it is placed (the cluster is part of each derivation).
  let networks: ReadonlyArray<VmNetwork> = plannedNetworks
  if (resolved !== undefined && inputs.cluster !== undefined && inputs.vitistack !== undefined) {
    const macs = assignMacs({
      machine,
      cluster: inputs.cluster,
      settings,
      networks: plannedNetworks,
      networkConfiguration: inputs.vitistack.networkConfiguration,
      live: inputs.liveMacs ?? {},
      owners: inputs.vitistack.macOwners
    })
    diags.push(...macs.diagnostics)
    if (macs._tag === "Waiting") return { _tag: "Waiting", diagnostics: diags }
    networks = macs.networks
  }

  const labels = ownerLabels(name)
  const annotations = ownerAnnotations(name)
  const pvcs = disks
    .filter((d) => d.disk.dataVolume !== true)
    .map(
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
  const bootDisk = disks[bootIndex]
  const dataVolumes = plannedDataVolumes(
    machine,
    boot,
    bootDisk === undefined ? undefined : { claimName: bootDisk.disk.claimName, sizeGB: bootDisk.sizeGB },
    settings,
    inputs.isoSize
  )
  const iso = dataVolumes.find((d) => d.purpose === "iso")
  const vmDisks = [
    ...disks.map((d) => d.disk),
    ...(iso === undefined
      ? []
      : [{ name: ISO_DISK, bus: "sata" as const, bootOrder: 2, claimName: iso.name, dataVolume: true, cdrom: true }])
  ]
  // Network boot (reference F27): neither image nor ISO, so the first NIC boots after the disks.
  const lastBoot = Math.max(0, ...vmDisks.map((d) => d.bootOrder ?? 0))
  const vmNetworks = networks.map((n, i) => (boot.networkBoot && i === 0 ? { ...n, bootOrder: lastBoot + 1 } : n))
  // While a static address is awaited the Secret is not written (its network-config is not known); the VM, once
  // created, will read the network data from it.
  const staticWait = staticIp?._tag === "Waiting" ? [staticIp.diagnostic] : []
  const secret =
    cloudInit._tag === "Ready" && staticWait.length === 0 ? cloudInitSecretSpec(machine, cloudInit.payload) : undefined
  const vmCloudInit: VmCloudInit | undefined =
    staticWait.length > 0
      ? {
          kind: machine.spec.cloudInit?.type === "configDrive" ? "ConfigDrive" : "NoCloud",
          secretName: cloudInitSecretName(name),
          networkData: true
        }
      : secret === undefined
        ? undefined
        : { kind: secret.kind, secretName: secret.name, networkData: secret.networkdata !== undefined }
  const vitistack: VitistackDesired | undefined =
    resolved === undefined
      ? undefined
      : {
          networkNamespace: resolved.networkNamespace.name,
          nad:
            resolved.decision._tag === "Bridge"
              ? networkAttachmentSpec(namespace, resolved.decision, settings)
              : undefined,
          networkConfiguration: desiredNetworkConfiguration(machine, resolved.networkNamespace.name, networks),
          staticWait
        }
  const vm: VmSpec = {
    name,
    namespace,
    labels,
    annotations,
    runStrategy: "Always",
    cpu: cpuOf(machine, settings, size),
    ...(arch === "arm64" ? { architecture: "arm64" } : {}),
    memory: size.memory,
    disks: vmDisks,
    networks: vmNetworks,
    ...(vmCloudInit === undefined ? {} : { cloudInit: vmCloudInit })
  }
  return {
    _tag: "Ok",
    desired: { pvcs, dataVolumes, cloudInit: secret, boot, vm, ...(vitistack === undefined ? {} : { vitistack }) },
    diagnostics: diags
  }
}
