/**
 * Boot media (ADR 0010): the boot disk imported from an image and the installer ISO, as CDI DataVolumes named like
 * their claims (`<machine>`, `<machine>-iso`) with our labels. The step creates them, holds the VM back until each
 * is imported (or waits for its first consumer), reports progress and CDI's failure, never re-imports a created
 * disk, removes the ISO once the Machine says the OS is installed (after the CD-ROM left the VM spec), and deletes
 * them after the VM on Machine deletion. Domain layer: pure.
 */
import { Duration } from "effect"
import type { Action } from "./Action.ts"
import { type BootSource, DEFAULT_ISO_SIZE, describeSource, ISO_CLEANED_UP_ANNOTATION } from "./bootSource.ts"
import {
  type DataVolumeSpec,
  IMAGE_SOURCE_ANNOTATION,
  MACHINE_GENERATION_ANNOTATION,
  type ObservedDataVolume
} from "./DataVolumeSpec.ts"
import { advisory, type Diagnostic, error, info, waiting } from "./Diagnostic.ts"
import {
  isOwnedBy,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  ownerAnnotations,
  ownerLabels,
  sourceMachineKeys
} from "./labels.ts"
import { isDeleting, type Machine } from "./Machine.ts"
import { isUsable, observeDataVolume } from "./manifests/DataVolume.ts"
import { Kinds, refKey, refOf } from "./ObjectRef.ts"
import { parseQuantity } from "./Quantity.ts"
import type { RemoteWatch } from "./RemoteWatch.ts"
import { type Reads, unionByName } from "./reads.ts"
import { redactUrl, redactUrlsIn } from "./redactUrl.ts"
import type { Settings } from "./Settings.ts"
import { halted, nothing, type RemoteStep, type StepResult } from "./step.ts"

/** The CD-ROM's disk and volume name in the VM (the Go operator's). */
export const ISO_DISK = "cdrom-iso"
export { IMAGE_SOURCE_ANNOTATION }

export const isoDataVolumeName = (machineName: string): string => `${machineName}-iso`

/** The boot disk's DataVolume for its image, and the ISO's DataVolume unless the Machine says the OS is installed. */
export const plannedDataVolumes = (
  machine: Machine,
  boot: BootSource,
  bootDisk: { readonly claimName: string; readonly sizeGB: number } | undefined,
  settings: Settings,
  probedIsoSize: string | undefined
): ReadonlyArray<DataVolumeSpec> => {
  const { name, namespace, generation } = machine.metadata
  const common = (source: DataVolumeSpec["source"]) => ({
    namespace,
    labels: ownerLabels(name),
    annotations: {
      ...ownerAnnotations(name),
      [IMAGE_SOURCE_ANNOTATION]: describeSource(source),
      ...(generation === undefined ? {} : { [MACHINE_GENERATION_ANNOTATION]: String(generation) })
    },
    source,
    ...(settings.storageClassName === undefined ? {} : { storageClassName: settings.storageClassName })
  })
  return [
    ...(boot.root === undefined || bootDisk === undefined
      ? []
      : [
          { ...common(boot.root), name: bootDisk.claimName, storage: `${bootDisk.sizeGB}Gi`, purpose: "boot" as const }
        ]),
    ...(boot.iso === undefined || boot.iso.ejected
      ? []
      : [
          {
            ...common(boot.iso.source),
            name: isoDataVolumeName(name),
            storage: boot.iso.size ?? probedIsoSize ?? DEFAULT_ISO_SIZE,
            purpose: "iso" as const
          }
        ])
  ]
}

/** DataVolumes are read for a Machine with an image or ISO (or an ISO to clean up), and on deletion. */
const readsDataVolumes = (m: Machine): boolean =>
  isDeleting(m) || (m.spec.os?.imageID ?? "").trim() !== "" || (m.spec.os?.isoUri ?? "").trim() !== ""

/**
 * The Machine's DataVolumes on the remote: by our labels, and by the names ours would have (a name clash). The kind
 * is optional (a cluster without CDI has none). Undefined when the Machine needs none.
 */
export const bootMediaReads = (machine: Machine): Reads<ReadonlyArray<ObservedDataVolume>> | undefined => {
  if (!readsDataVolumes(machine)) return undefined
  const { name, namespace } = machine.metadata
  return {
    queries: [
      { _tag: "List", kind: Kinds.DataVolume, namespace, labelSelector: ownerLabels(name), optional: true },
      { _tag: "Get", ref: refOf("DataVolume", name, namespace), optional: true },
      { _tag: "Get", ref: refOf("DataVolume", isoDataVolumeName(name), namespace), optional: true }
    ],
    fact: unionByName(observeDataVolume)
  }
}

/** Our DataVolumes on each remote: an import's progress wakes its Machine. Optional: a remote may have no CDI. */
export const bootMediaWatches: ReadonlyArray<RemoteWatch> = [
  {
    kind: Kinds.DataVolume,
    labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    toKeys: sourceMachineKeys,
    optional: { reprobeAfter: Duration.minutes(10) }
  }
]

/**
 * Whether a DataVolume's recorded `vitistack.io/image-source` names the image the Machine now wants: equal display forms
 * (`redactUrl`, ADR 0018). The recorded value may be in the old form (the URL as given, by an operator before ADR 0018)
 * or the new one; credentials are not part of the image, so rotating them is no change.
 */
export const sameImageSource = (recorded: string, wanted: string): boolean => redactUrl(recorded) === redactUrl(wanted)

const what = (d: DataVolumeSpec | ObservedDataVolume, machineName: string) =>
  d.name === isoDataVolumeName(machineName) ? "installer ISO" : "boot image"

/**
 * The Machine's generation a DataVolume was made at, or undefined when it records none (made before it was
 * recorded, or adopted).
 */
const recordedGeneration = (dv: ObservedDataVolume): number | undefined => {
  const recorded = Number(dv.annotations[MACHINE_GENERATION_ANNOTATION] ?? Number.NaN)
  return Number.isInteger(recorded) ? recorded : undefined
}

/** "recorded → current" when the Machine's spec changed since the DataVolume was made (its generation grew). */
const editedSince = (m: Machine, dv: ObservedDataVolume): string | undefined => {
  const recorded = recordedGeneration(dv)
  const current = m.metadata.generation
  return recorded !== undefined && current !== undefined && current > recorded ? `${recorded} → ${current}` : undefined
}

/**
 * How a failing import is imported again, as its condition tells the reader: a change to the Machine's spec when the
 * DataVolume records the generation it was made at (`editedSince`), else deleting the DataVolume.
 */
const retryHint = (m: Machine, dv: ObservedDataVolume, where: string): string =>
  recordedGeneration(dv) !== undefined && m.metadata.generation !== undefined
    ? "; a change to the Machine's spec (a URL signed again) imports it again"
    : `; deleting DataVolume ${where} imports it again`

/**
 * A failed import's condition text: CDI's reason and message, URLs in display form (Go's errors quote the URL; the
 * observation masked them already, this holds for an ObservedDataVolume from anywhere).
 */
const failureText = (dv: ObservedDataVolume) =>
  `${dv.failure?.reason ?? "Failed"}${dv.failure?.message ? `: ${redactUrlsIn(dv.failure.message)}` : ""}`

export const bootMediaStep: RemoteStep = {
  scope: "remote",
  name: "bootMedia",
  converge: ({ machine: m, cluster, remote, desired }): StepResult => {
    const ns = m.metadata.namespace
    const id = refKey(m.metadata)
    const wanted = desired.dataVolumes
    const isoName = isoDataVolumeName(m.metadata.name)
    const vm = remote.vm._tag === "Present" ? remote.vm.value : undefined
    const cdromInVm = vm?.spec.disks.some((d) => d.name === ISO_DISK) === true
    const needsRead = wanted.length > 0 || desired.boot.iso?.ejected === true
    if (!needsRead) return nothing
    const facts = remote.dataVolumes ?? { _tag: "Unknown" as const, reason: "DataVolumes were not observed" }
    if (facts._tag === "Unknown")
      return halted(
        waiting("DataVolumesUnknown", `cannot read DataVolumes in '${ns}' on '${cluster}': ${facts.reason}`)
      )
    const observed = facts._tag === "Present" ? facts.value : []
    const pvcs = remote.pvcs._tag === "Present" ? remote.pvcs.value : []
    const actions: Array<Action> = []
    const diagnostics: Array<Diagnostic> = []
    let ready = true
    const waits: Array<Diagnostic> = []
    for (const want of wanted) {
      const target = refOf("DataVolume", want.name, ns)
      const have = observed.find((d) => d.name === want.name)
      if (have === undefined) {
        const claim = pvcs.find((p) => p.name === want.name)
        // CDI may garbage-collect a completed DataVolume and keep its claim: the disk is imported, never again. A claim
        // that is going is not that: it is a deleted DataVolume's (a failed import made again), and nothing boots from it.
        if (claim !== undefined && isOwnedBy(claim.labels, m.metadata.name)) {
          if (claim.deleting) {
            waits.push(
              waiting("DataVolumeTerminating", `claim ${ns}/${want.name} is being deleted; waiting to import again`)
            )
            ready = false
          }
          continue
        }
        if (claim !== undefined) {
          diagnostics.push(
            error(
              "NameClash",
              `PVC ${ns}/${want.name} on '${cluster}' exists and does not belong to Machine ${id}`,
              "spec.os"
            )
          )
          ready = false
          continue
        }
        actions.push({
          _tag: "CreateDataVolume",
          cluster,
          target,
          after: want,
          reason: `${what(want, m.metadata.name)} absent (${describeSource(want.source)}, ${want.storage})`
        })
        waits.push(waiting("ImportPending", `importing ${what(want, m.metadata.name)}: DataVolume created`))
        ready = false
        continue
      }
      if (!isOwnedBy(have.labels, m.metadata.name)) {
        diagnostics.push(
          error(
            "NameClash",
            `DataVolume ${ns}/${want.name} on '${cluster}' exists and does not belong to Machine ${id}`,
            "spec.os"
          )
        )
        ready = false
        continue
      }
      // Compared in display form (ADR 0018): a DataVolume made before holds the URL as given, and is not recreated for
      // that; a presigned URL signed again, or another password, is the same image (the disk is not imported again).
      const shown = want.annotations[IMAGE_SOURCE_ANNOTATION]
      const recorded = have.annotations[IMAGE_SOURCE_ANNOTATION]
      const changed = recorded !== undefined && shown !== undefined && !sameImageSource(recorded, shown)
      if (have.deleting) {
        waits.push(
          waiting("DataVolumeTerminating", `DataVolume ${ns}/${want.name} is being deleted; waiting to recreate it`)
        )
        ready = false
        continue
      }
      // Nothing was imported from a failing import, and no VM uses it yet: it is made again when its image changed, or
      // when the Machine's spec changed since it was made (a URL signed again, a new password: ADR 0018).
      const failing = have.phase === "Failed" || have.failure !== undefined
      const edited = editedSince(m, have)
      if (failing && vm === undefined && (changed || edited !== undefined)) {
        actions.push({
          _tag: "DeleteDataVolume",
          cluster,
          target,
          resourceVersion: have.resourceVersion,
          reason: changed
            ? `import failed and the image changed to ${shown}`
            : `import failing and the Machine's spec changed since (generation ${edited}): importing again`
        })
        waits.push(
          waiting(
            "ImportRetrying",
            `${what(want, m.metadata.name)} import failed (${failureText(have)}); importing again`,
            "spec.os"
          )
        )
        ready = false
        continue
      }
      const hint = retryHint(m, have, `${ns}/${want.name} on '${cluster}'`)
      if (have.phase === "Failed") {
        waits.push(
          waiting(
            "ImportFailed",
            `${what(want, m.metadata.name)} import failed: ${failureText(have)}${hint}`,
            "spec.os"
          )
        )
        ready = false
        continue
      }
      if (changed)
        diagnostics.push(
          advisory(
            "ImageChangeIgnored",
            `${what(want, m.metadata.name)} of DataVolume ${ns}/${want.name} came from ${redactUrl(recorded ?? "")}; a changed image applies to new Machines only (never a re-import)`,
            "spec.os"
          )
        )
      if (!isUsable(have)) {
        ready = false
        const progress = have.progress !== undefined && have.progress !== "N/A" ? ` ${have.progress}` : ""
        waits.push(
          have.failure !== undefined
            ? waiting(
                "ImportFailed",
                `${what(want, m.metadata.name)} import failing: ${failureText(have)}${hint}`,
                "spec.os"
              )
            : waiting(
                "ImportInProgress",
                `importing ${what(want, m.metadata.name)}${progress} (${have.phase ?? "Pending"})`
              )
        )
      }
      // The imported boot disk grows with sizeGB (the claim is CDI's, with our labels; it never shrinks).
      const claim = pvcs.find((p) => p.name === want.name)
      const before = claim === undefined ? undefined : parseQuantity(claim.storage)
      const after = parseQuantity(want.storage)
      if (
        claim !== undefined &&
        isOwnedBy(claim.labels, m.metadata.name) &&
        before !== undefined &&
        after !== undefined &&
        after > before &&
        want.purpose === "boot"
      )
        actions.push({
          _tag: "ExpandPvc",
          cluster,
          target: refOf("PersistentVolumeClaim", want.name, ns),
          before: claim.storage,
          after: want.storage,
          resourceVersion: claim.resourceVersion,
          reason: `disk grew ${claim.storage} → ${want.storage}`
        })
    }
    // The OS is installed: once the CD-ROM has left the VM's spec, the ISO goes; then the Machine is marked.
    if (desired.boot.iso?.ejected === true && !cdromInVm) {
      const iso = observed.find((d) => d.name === isoName && isOwnedBy(d.labels, m.metadata.name))
      if (iso !== undefined && !iso.deleting)
        actions.push({
          _tag: "DeleteDataVolume",
          cluster,
          target: refOf("DataVolume", isoName, ns),
          resourceVersion: iso.resourceVersion,
          reason: "the OS is installed and the CD-ROM left the VM"
        })
      else if (iso === undefined && m.metadata.annotations?.[ISO_CLEANED_UP_ANNOTATION] !== "true")
        actions.push({
          _tag: "PatchMachineAnnotation",
          target: refOf("Machine", m.metadata.name, ns),
          key: ISO_CLEANED_UP_ANNOTATION,
          value: "true",
          reason: "the installer ISO is removed"
        })
    }
    // The VM waits for the imports (and says so, once, as the thing it waits for); a patch of an existing VM does not.
    return { actions, diagnostics, provides: [{ ready, waiting: waits, gatesPatch: () => false }] }
  },
  // After the VM is gone: our DataVolumes go (their claims follow by owner reference) before the disks step deletes
  // what is left; the fold waits here until they are gone.
  cleanup: ({ machine: m, cluster, remote }): StepResult => {
    const ns = m.metadata.namespace
    const facts = remote.dataVolumes
    if (facts === undefined) return nothing
    if (facts._tag === "Unknown")
      return halted(
        waiting("DataVolumesUnknown", `cannot read DataVolumes in '${ns}' on '${cluster}': ${facts.reason}`)
      )
    const ours = (facts._tag === "Present" ? facts.value : []).filter((d) => isOwnedBy(d.labels, m.metadata.name))
    if (ours.length === 0) return nothing
    return {
      actions: ours
        .filter((d) => !d.deleting)
        .map((d) => ({
          _tag: "DeleteDataVolume" as const,
          cluster,
          target: refOf("DataVolume", d.name, ns),
          resourceVersion: d.resourceVersion,
          reason: "VirtualMachine is gone; Machine is being deleted"
        })),
      diagnostics: ours.every((d) => d.deleting)
        ? [info("WaitingForDataVolumes", `waiting for ${ours.length} DataVolume(s) to go`)]
        : [],
      halt: true
    }
  }
}
