/**
 * Disks: a Machine's `spec.disks` become PVCs named like the Go operator's (design 3.4), read on the remote by our
 * labels and by their desired names, created, grown (never shrunk), and deleted on Machine deletion once the VM is
 * gone. Domain layer: pure. The step's converge half blocks the VM's creation while a claim it needs is someone
 * else's or still being deleted; PVCs no longer in the spec are kept (ADR 0001 §8).
 */

import type { Action } from "./Action.ts"
import { chooseAccessModes } from "./accessModes.ts"
import { bootSourceOf } from "./bootSource.ts"
import { advisory, type Diagnostic, error, info, waiting } from "./Diagnostic.ts"
import { isDnsLabel } from "./dnsNames.ts"
import { type Fact, present } from "./Fact.ts"
import { isOwnedBy, MANAGED_BY_LABEL, MANAGED_BY_VALUE, ownerLabels, sourceMachineKeys } from "./labels.ts"
import type { Machine, MachineDisk } from "./Machine.ts"
import { observePvc } from "./manifests/Pvc.ts"
import { Kinds, refKey, refOf } from "./ObjectRef.ts"
import type { ClaimPropertySet, ObservedPvc, StorageFacts } from "./ObservedState.ts"
import { parseQuantity } from "./Quantity.ts"
import type { RemoteWatch } from "./RemoteWatch.ts"
import { answerAt, type Reads, unionByName } from "./reads.ts"
import type { Settings } from "./Settings.ts"
import { halted, type RemoteStep, type StepResult } from "./step.ts"
import type { VmDisk } from "./VmSpec.ts"

const DEFAULT_DISK_GB = 10
const BUSES = ["virtio", "sata", "scsi"] as const

const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max

export interface DiskPlan {
  readonly disk: VmDisk
  readonly sizeGB: number
}

/**
 * The VM disks and their sizes, with a diagnostic per bad field. Disk and PVC names of the Go operator (reference
 * F14, F16): the boot disk's PVC is named like the Machine, others `<machine>-<disk>` or `<machine>-disk<i>`; one
 * 10 GB disk when `spec.disks` is empty.
 */
export const planDisks = (
  name: string,
  disks: ReadonlyArray<MachineDisk>,
  diags: Array<Diagnostic>
): Array<DiskPlan> => {
  if (disks.length === 0)
    return [{ disk: { name: "root", bus: "virtio", bootOrder: 1, claimName: name }, sizeGB: DEFAULT_DISK_GB }]
  if (disks.filter((d) => d.boot === true).length > 1)
    diags.push(error("MultipleBootDisks", "only one disk may have boot: true", "spec.disks"))
  return disks.map((d, i) => {
    const field = `spec.disks[${i}]`
    if (d.name !== undefined && !isDnsLabel(d.name))
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

/** The PVC names a Machine's disks map to, even when the Machine is otherwise invalid (observe reads these). */
export const diskClaimNames = (machine: Machine): ReadonlyArray<string> =>
  planDisks(machine.metadata.name, machine.spec.disks ?? [], []).map((d) => d.disk.claimName)

/**
 * The claims of the disks that are plain PVCs: every disk's but an imported boot disk's (a DataVolume's, ADR 0010),
 * chosen as `desired.ts` chooses it (the disk marked boot, else the first).
 */
export const plainClaimNames = (machine: Machine): ReadonlyArray<string> => {
  const plans = planDisks(machine.metadata.name, machine.spec.disks ?? [], [])
  if (bootSourceOf(machine).root === undefined) return plans.map((d) => d.disk.claimName)
  const bootIndex = Math.max(
    0,
    plans.findIndex((d) => d.disk.bootOrder === 1)
  )
  return plans.filter((_, i) => i !== bootIndex).map((d) => d.disk.claimName)
}

/** A plain disk's claim is absent: it is about to be created, so the storage facts are needed. */
export const unclaimedDisks = (machine: Machine, pvcs: Fact<ReadonlyArray<ObservedPvc>>): boolean =>
  pvcs._tag === "Present" && plainClaimNames(machine).some((c) => !pvcs.value.some((p) => p.name === c))

const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"

/**
 * Storage facts for new claims (`accessModes.ts`): the default StorageClass (unless `STORAGE_CLASS_NAME` names one)
 * and the StorageProfiles (CDI's: optional, a remote without CDI has none).
 */
export const storageReads = (settings: Settings): Reads<StorageFacts> => {
  const readsClasses = settings.storageClassName === undefined
  return {
    queries: [
      ...(readsClasses ? [{ _tag: "List" as const, kind: Kinds.StorageClass, labelSelector: {} }] : []),
      { _tag: "List", kind: Kinds.StorageProfile, labelSelector: {}, optional: true }
    ],
    fact: (answers) => {
      const classes = readsClasses ? answerAt(answers, 0) : undefined
      const profiles = answerAt(answers, readsClasses ? 1 : 0)
      const defaultClass: Fact<string | null> =
        classes === undefined
          ? present(null)
          : classes._tag === "Unknown"
            ? { _tag: "Unknown", reason: classes.reason }
            : present(
                classes.objects
                  .filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true")
                  .map((c) => c.metadata.name)
                  .sort()[0] ?? null
              )
      const className =
        settings.storageClassName ?? (defaultClass._tag === "Present" ? (defaultClass.value ?? undefined) : undefined)
      const profile: Fact<ReadonlyArray<ClaimPropertySet>> =
        profiles._tag === "Unknown"
          ? { _tag: "Unknown", reason: profiles.reason }
          : (() => {
              const found = profiles.objects.find((p) => p.metadata.name === className)
              if (found === undefined) return { _tag: "Absent" as const }
              const status = (found.status ?? {}) as { claimPropertySets?: unknown }
              const sets = Array.isArray(status.claimPropertySets) ? status.claimPropertySets : []
              return present(
                sets.map((raw): ClaimPropertySet => {
                  const r = (raw ?? {}) as { accessModes?: unknown; volumeMode?: unknown }
                  const accessModes = Array.isArray(r.accessModes)
                    ? r.accessModes.filter((m): m is string => typeof m === "string")
                    : []
                  return typeof r.volumeMode === "string" ? { accessModes, volumeMode: r.volumeMode } : { accessModes }
                })
              )
            })()
      return present({ defaultClass, profile })
    }
  }
}

/**
 * The Machine's PVCs on the remote: those with its labels, and those with its desired names whatever their labels (a
 * name clash the planner must see). The union, by name, sorted; Unknown when any read fails.
 */
export const diskReads = (machine: Machine): Reads<ReadonlyArray<ObservedPvc>> => {
  const { name, namespace } = machine.metadata
  return {
    queries: [
      { _tag: "List", kind: Kinds.PersistentVolumeClaim, namespace, labelSelector: ownerLabels(name) },
      ...diskClaimNames(machine).map((claim) => ({
        _tag: "Get" as const,
        ref: refOf("PersistentVolumeClaim", claim, namespace)
      }))
    ],
    fact: unionByName(observePvc)
  }
}

/** Our PVCs on each remote; a claim names its Machine in a label (or, for a long name, an annotation). */
export const diskWatches: ReadonlyArray<RemoteWatch> = [
  {
    kind: Kinds.PersistentVolumeClaim,
    labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    toKeys: sourceMachineKeys
  }
]

const unknownStorage = { _tag: "Unknown" as const, reason: "storage facts were not observed" }

const byName = (a: { readonly name: string }, b: { readonly name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0

export const disksStep: RemoteStep = {
  scope: "remote",
  name: "disks",
  converge: ({ machine: m, cluster, remote, desired, settings }): StepResult => {
    const ns = m.metadata.namespace
    const id = refKey(m.metadata)
    if (remote.pvcs._tag === "Unknown")
      return halted(waiting("PvcsUnknown", `cannot read PVCs in '${ns}' on '${cluster}': ${remote.pvcs.reason}`))
    const actions: Array<Action> = []
    const diagnostics: Array<Diagnostic> = []
    const observedPvcs = remote.pvcs._tag === "Present" ? remote.pvcs.value : []
    let vmBlocked = false
    for (const want of desired.pvcs) {
      const target = refOf("PersistentVolumeClaim", want.name, ns)
      const have = observedPvcs.find((p) => p.name === want.name)
      if (have === undefined) {
        // Access modes cannot change once the claim exists: from the StorageProfile, never guessed from an Unknown.
        const modes = chooseAccessModes(
          remote.storage ?? { defaultClass: unknownStorage, profile: unknownStorage },
          want.storageClassName,
          want.volumeMode,
          settings.pvcAccessMode
        )
        diagnostics.push(...modes.diagnostics)
        if (modes._tag === "Blocked") {
          vmBlocked = true
          continue
        }
        actions.push({
          _tag: "CreatePvc",
          cluster,
          target,
          after: { ...want, accessModes: modes.modes as typeof want.accessModes },
          reason: `disk claim absent (${want.storage}; access modes: ${modes.why})`
        })
        continue
      }
      if (!isOwnedBy(have.labels, m.metadata.name)) {
        diagnostics.push(
          error(
            "NameClash",
            `PVC ${ns}/${want.name} on '${cluster}' exists and does not belong to Machine ${id}`,
            "spec.disks"
          )
        )
        vmBlocked = true
        continue
      }
      if (have.deleting) {
        diagnostics.push(waiting("PvcTerminating", `PVC ${ns}/${want.name} is being deleted; waiting to recreate it`))
        vmBlocked = true
        continue
      }
      const before = parseQuantity(have.storage)
      const after = parseQuantity(want.storage)
      if (before === undefined || (after !== undefined && after > before))
        actions.push({
          _tag: "ExpandPvc",
          cluster,
          target,
          before: have.storage,
          after: want.storage,
          resourceVersion: have.resourceVersion,
          reason: `disk grew ${have.storage} → ${want.storage}`
        })
      else if (after !== undefined && after < before)
        diagnostics.push(
          advisory(
            "PvcShrinkRefused",
            `PVC ${ns}/${want.name} is ${have.storage}; shrinking to ${want.storage} is not possible`,
            "spec.disks"
          )
        )
      const drift = [
        have.volumeMode !== undefined && have.volumeMode !== want.volumeMode
          ? `volumeMode ${have.volumeMode}`
          : undefined,
        want.storageClassName !== undefined && have.storageClassName !== want.storageClassName
          ? `storageClassName ${have.storageClassName ?? "(none)"}`
          : undefined
      ].filter((s) => s !== undefined)
      if (drift.length > 0)
        diagnostics.push(
          info("PvcImmutableDrift", `PVC ${ns}/${want.name} keeps ${drift.join(", ")} (immutable fields)`)
        )
    }
    const wanted = new Set([...desired.pvcs.map((p) => p.name), ...desired.dataVolumes.map((d) => d.name)])
    for (const extra of observedPvcs
      .filter((p) => !wanted.has(p.name) && isOwnedBy(p.labels, m.metadata.name))
      .map((p) => p.name)
      .sort())
      diagnostics.push(
        info(
          "PvcNotInSpec",
          `PVC ${ns}/${extra} is no longer in the spec; kept (disks are never deleted while the Machine lives)`
        )
      )
    // A claim that is someone else's or on its way out: the VM is not created on it (it has said why already).
    return { actions, diagnostics, provides: [{ ready: !vmBlocked, waiting: [], gatesPatch: () => false }] }
  },
  // Runs after the VM's cleanup let the fold through (the VM is gone): our claims go, one round; the finalizer waits.
  cleanup: ({ machine: m, cluster, remote }): StepResult => {
    const ns = m.metadata.namespace
    if (remote.pvcs._tag === "Unknown")
      return halted(waiting("PvcsUnknown", `cannot read PVCs in '${ns}' on '${cluster}': ${remote.pvcs.reason}`))
    const ours = (remote.pvcs._tag === "Present" ? remote.pvcs.value : [])
      .filter((p) => isOwnedBy(p.labels, m.metadata.name))
      .sort(byName)
    if (ours.length === 0) return { actions: [], diagnostics: [] }
    return {
      actions: ours
        .filter((p) => !p.deleting)
        .map((p) => ({
          _tag: "DeletePvc" as const,
          cluster,
          target: refOf("PersistentVolumeClaim", p.name, ns),
          resourceVersion: p.resourceVersion,
          reason: "VirtualMachine is gone; Machine is being deleted"
        })),
      diagnostics: ours.every((p) => p.deleting)
        ? [info("WaitingForPvcs", `waiting for ${ours.length} PVC(s) to go`)]
        : [],
      halt: true
    }
  }
}
