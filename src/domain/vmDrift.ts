/**
 * Compares a live VirtualMachine's owned fields with the desired ones (design 3.7). Domain layer: pure.
 * Only our label and annotation keys are compared (others belong to users or KubeVirt); quantities are compared by
 * value, so "2Gi" and "2048Mi" are no drift.
 */
import { parseQuantity } from "./Quantity.ts"
import type { VmSpec } from "./VmSpec.ts"

export interface VmChange {
  readonly field: string
  readonly before: string
  readonly after: string
  /** The running guest only sees this change after a restart. */
  readonly restart: boolean
}

const show = (v: unknown): string => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v))

const subsetDiff = (
  field: string,
  observed: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>
): Array<VmChange> =>
  Object.keys(desired)
    .sort()
    .filter((k) => observed[k] !== desired[k])
    .map((k) => ({ field: `${field}.${k}`, before: show(observed[k]), after: desired[k]!, restart: false }))

const canonicalDisk = (d: VmSpec["disks"][number]) => [
  d.name,
  d.bus,
  d.bootOrder ?? null,
  d.claimName,
  d.dataVolume === true,
  d.cdrom === true
]
/** The drift field of a change of the cloud-init volume (which Secret, which kind). */
export const CLOUD_INIT_FIELD = "spec.template.spec.volumes[cloudinitdisk]"

/** The drift field of a change of networks (it also decides whether a patch rewrites the interfaces). */
export const NETWORKS_FIELD = "spec.template.spec.networks"

/**
 * A NIC's boot order and its MAC address are set at creation only (network boot, reference F27; stable MACs, ADR
 * 0013): patching them would rewrite the interfaces and change the guest's address, so a VM keeps its interfaces
 * until its networks change (and then the patch carries the recorded MACs).
 */
const canonicalNetwork = (n: VmSpec["networks"][number]) => [n.name, n.nad ?? null, n.primary === true]

const cloudInitText = (v: VmSpec) =>
  v.cloudInit === undefined
    ? "(none)"
    : `${v.cloudInit.kind} Secret ${v.cloudInit.secretName}${v.cloudInit.networkData ? " with network data" : ""}`

const features = (v: VmSpec) => show((v.cpu.features ?? []).map((f) => `${f.name}=${f.policy}`))

/** The drift field of `spec.dataVolumeTemplates` (a VM adopted from the Go operator has its ISO there). */
export const DATA_VOLUME_TEMPLATES_FIELD = "spec.dataVolumeTemplates"

/** A patch's reason: each change as `field before→after`, and whether the guest sees it only after a restart. */
export const describeDrift = (changes: ReadonlyArray<VmChange>): string =>
  `VmSpecDrift: ${changes.map((c) => `${c.field} ${c.before}→${c.after}`).join("; ")}${changes.some((c) => c.restart) ? " (takes effect after a restart)" : ""}`

/** The differences, in a fixed field order; empty means no write. */
export const vmDrift = (observed: VmSpec, desired: VmSpec): ReadonlyArray<VmChange> => {
  const changes: Array<VmChange> = [
    ...subsetDiff("metadata.labels", observed.labels, desired.labels),
    ...subsetDiff("metadata.annotations", observed.annotations, desired.annotations)
  ]
  if (observed.runStrategy !== desired.runStrategy)
    changes.push({
      field: "spec.runStrategy",
      before: observed.runStrategy,
      after: desired.runStrategy,
      restart: false
    })
  const domain = "spec.template.spec.domain"
  for (const k of ["cores", "sockets", "threads", "model"] as const)
    if (observed.cpu[k] !== desired.cpu[k])
      changes.push({
        field: `${domain}.cpu.${k}`,
        before: show(observed.cpu[k]),
        after: show(desired.cpu[k]),
        restart: true
      })
  if (features(observed) !== features(desired))
    changes.push({
      field: `${domain}.cpu.features`,
      before: features(observed),
      after: features(desired),
      restart: true
    })
  if (observed.architecture !== desired.architecture)
    changes.push({
      field: "spec.template.spec.architecture",
      before: show(observed.architecture),
      after: show(desired.architecture),
      restart: true
    })
  const om = parseQuantity(observed.memory)
  if (om === undefined || om !== parseQuantity(desired.memory))
    changes.push({ field: `${domain}.memory.guest`, before: observed.memory, after: desired.memory, restart: true })
  if (JSON.stringify(observed.disks.map(canonicalDisk)) !== JSON.stringify(desired.disks.map(canonicalDisk)))
    changes.push({
      field: `${domain}.devices.disks`,
      before: show(observed.disks),
      after: show(desired.disks),
      restart: true
    })
  if (
    JSON.stringify(observed.networks.map(canonicalNetwork)) !== JSON.stringify(desired.networks.map(canonicalNetwork))
  )
    changes.push({
      field: NETWORKS_FIELD,
      before: show(observed.networks),
      after: show(desired.networks),
      restart: true
    })
  const templates = (v: VmSpec) => show(v.dataVolumeTemplates ?? [])
  if (templates(observed) !== templates(desired))
    changes.push({
      // Outside the VM's template: KubeVirt needs no restart; the DataVolume is not deleted with it.
      field: DATA_VOLUME_TEMPLATES_FIELD,
      before: templates(observed),
      after: templates(desired),
      restart: false
    })
  if (cloudInitText(observed) !== cloudInitText(desired))
    changes.push({
      field: CLOUD_INIT_FIELD,
      before: cloudInitText(observed),
      after: cloudInitText(desired),
      restart: true
    })
  return changes
}
