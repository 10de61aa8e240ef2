/**
 * Adoption of the Go operator's objects (ADR 0014): with the setting on, the VirtualMachine, disk claims and ISO
 * DataVolume the Go operator made for a Machine (its labels `vitistack.io/managed-by: <MANAGED_BY>` and
 * `vitistack.io/source-machine: <machine>`, reference 1.J) become ours by an explicit action that adds our labels and
 * nothing else; after that they are reconciled as if we had created them. Domain layer: pure.
 *
 * Guarantees
 * - Off by default: without `settings.adoptGoOperator` nothing is read or planned here.
 * - Checked like ownership: an object is adopted only if it is one the Machine would otherwise get created (the VM
 *   named like the Machine, a claim of one of its disks, its installer ISO's DataVolume), read in the Machine's
 *   namespace on its placed cluster, carrying the Go operator's labels naming this Machine and none of ours (nobody's
 *   claim is taken over), and not being deleted.
 * - An adoption round plans nothing else remote (the fold stops after it): adopting never deletes, recreates or
 *   patches the spec. What follows (the VM's drift, patched as any VM of ours would be) is shown in the same plan.
 * - Reported, not adopted: other objects with the Go operator's labels for the Machine (its `vm-<machine>` VMs from
 *   before Nov 2025, reference W25, and claims that are not the Machine's disks). While such a VM exists and the
 *   Machine has no VM of its own name, none is created (a second VM for one Machine: the Go operator's W25).
 * Idempotence: the actions carry the observed resourceVersion; once applied the objects are ours and nothing is
 * planned here again.
 */
import type { Action } from "./Action.ts"
import { type Diagnostic, info, waiting } from "./Diagnostic.ts"
import { type Fact, present } from "./Fact.ts"
import { MANAGED_BY_LABEL, ownerAnnotations, ownerLabels, SOURCE_MACHINE_LABEL } from "./labels.ts"
import type { Machine } from "./Machine.ts"
import { Kinds, refKey, refOf } from "./ObjectRef.ts"
import type { GoOperatorObjects } from "./ObservedState.ts"
import { answerAt, firstUnknown, type Reads } from "./reads.ts"
import type { Settings } from "./Settings.ts"
import { nothing, type Prerequisite, type RemoteStep, type StepResult } from "./step.ts"
import { describeDrift, vmDrift } from "./vmDrift.ts"

/** The Go operator's label keys (reference 1.J). */
export const GO_MANAGED_BY_LABEL = "vitistack.io/managed-by"
export const GO_SOURCE_MACHINE_LABEL = "vitistack.io/source-machine"
/** The Go operator's `MANAGED_BY` default, the value its labels carry unless it was configured otherwise. */
export const GO_MANAGED_BY_DEFAULT = "kubevirt-operator"

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** A valid Kubernetes label value: at most 63 characters of the allowed pattern. */
export const isLabelValue = (s: string): boolean => s.length <= 63 && LABEL_VALUE.test(s)

/** The labels the Go operator put on a Machine's objects. */
export const goOwnerLabels = (machineName: string, managedBy: string): Record<string, string> => ({
  [GO_MANAGED_BY_LABEL]: managedBy,
  [GO_SOURCE_MACHINE_LABEL]: machineName
})

/**
 * The adoption rule: the Go operator's labels naming this Machine, with `managedBy` (the configured MANAGED_BY), and
 * none of our keys (an object with our `managed-by` or `source-machine` is ours, or someone else's claim: never taken).
 */
export const isAdoptable = (
  labels: Readonly<Record<string, string>>,
  machineName: string,
  managedBy: string
): boolean =>
  labels[GO_MANAGED_BY_LABEL] === managedBy &&
  labels[GO_SOURCE_MACHINE_LABEL] === machineName &&
  labels[MANAGED_BY_LABEL] === undefined &&
  labels[SOURCE_MACHINE_LABEL] === undefined

/** The old name of a Machine's VM: the Go operator's before Nov 2025 (`VM_NAME_PREFIX`, reference W25). */
export const legacyVmName = (machineName: string): string => `vm-${machineName}`

/** What adopting writes: our labels and annotations, merged into the object's metadata; nothing else. */
export const ownershipPatch = (
  labels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>>
) => ({
  metadata: {
    labels: { ...labels },
    ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {})
  }
})

/**
 * The Go operator's VMs and claims for the Machine in its namespace, by its labels; only with adoption on (two lists
 * per reconcile). A name that cannot be a label value was never given one by the Go operator: nothing to read.
 */
export const adoptionReads = (
  machine: Machine,
  settings: Settings | undefined
): Reads<GoOperatorObjects> | undefined => {
  const managedBy = settings?.adoptGoOperator
  if (managedBy === undefined) return undefined
  const { name, namespace } = machine.metadata
  if (!isLabelValue(name) || !isLabelValue(managedBy))
    return { queries: [], fact: () => present({ virtualMachines: [], pvcs: [] }) }
  const labelSelector = goOwnerLabels(name, managedBy)
  return {
    queries: [
      { _tag: "List", kind: Kinds.VirtualMachine, namespace, labelSelector },
      { _tag: "List", kind: Kinds.PersistentVolumeClaim, namespace, labelSelector }
    ],
    fact: (answers): Fact<GoOperatorObjects> => {
      const failed = firstUnknown(answers)
      if (failed !== undefined) return failed
      const names = (i: number) => {
        const a = answerAt(answers, i)
        return a._tag === "Found" ? a.objects.map((o) => o.metadata.name).sort() : []
      }
      return present({ virtualMachines: names(0), pvcs: names(1) })
    }
  }
}

/** What every adoption action carries besides its target. */
const adoptionOf = (m: Machine, cluster: string, resourceVersion: string, managedBy: string) => ({
  cluster,
  labels: ownerLabels(m.metadata.name),
  annotations: ownerAnnotations(m.metadata.name),
  resourceVersion,
  reason: `made by the Go operator for this Machine (${GO_MANAGED_BY_LABEL}=${managedBy}, ${GO_SOURCE_MACHINE_LABEL}=${m.metadata.name})`
})

/**
 * The VM waits while the Go operator's VM for this Machine runs under another name (its `vm-<machine>`, or any other it
 * labelled for the Machine) and there is none of the Machine's own name: creating one would give the Machine two VMs
 * on the same disks' data and network identity. It proceeds once that VM is deleted (or adopted by renaming).
 */
const legacyVmWait = (
  m: Machine,
  cluster: string,
  remote: { readonly vm: Fact<unknown>; readonly goOperator?: Fact<GoOperatorObjects> | undefined }
): ReadonlyArray<Prerequisite> => {
  const others =
    remote.goOperator?._tag === "Present"
      ? remote.goOperator.value.virtualMachines.filter((n) => n !== m.metadata.name)
      : []
  if (remote.vm._tag !== "Absent" || others.length === 0) return []
  return [
    {
      ready: false,
      waiting: [
        waiting(
          "GoOperatorVirtualMachineExists",
          `the Go operator's VirtualMachine ${others.map((n) => `${m.metadata.namespace}/${n}`).join(", ")} for this Machine exists on '${cluster}' under another name; no second VM is created for the Machine while it does (delete it to let ${m.metadata.namespace}/${m.metadata.name} be created)`
        )
      ],
      gatesPatch: () => false
    }
  ]
}

/** The Go operator's objects for the Machine that are not adopted, said once each; never changed or deleted. */
const reportsOf = (
  m: Machine,
  cluster: string,
  facts: Fact<GoOperatorObjects> | undefined,
  claims: ReadonlySet<string>
): ReadonlyArray<Diagnostic> => {
  const ns = m.metadata.namespace
  if (facts === undefined || facts._tag === "Absent") return []
  if (facts._tag === "Unknown")
    return [
      info(
        "GoOperatorObjectsUnknown",
        `cannot list the Go operator's objects for this Machine in '${ns}' on '${cluster}': ${facts.reason}`
      )
    ]
  const left = (what: string) =>
    info(
      "GoOperatorObjectNotAdopted",
      `${what} on '${cluster}' carries the Go operator's labels for this Machine but is not one of the objects it would have; not adopted, never changed or deleted by this operator (delete it once nothing needs it)`
    )
  return [
    ...facts.value.virtualMachines
      .filter((n) => n !== m.metadata.name)
      .map((n) =>
        left(
          `VirtualMachine ${ns}/${n}${n === legacyVmName(m.metadata.name) ? " (the Go operator's name before Nov 2025)" : ""}`
        )
      ),
    ...facts.value.pvcs.filter((n) => !claims.has(n)).map((n) => left(`PVC ${ns}/${n}`))
  ]
}

export const adoptionStep: RemoteStep = {
  scope: "remote",
  name: "adoption",
  // After the namespace step (nothing of the Go operator's is read in a namespace that is not there), before every
  // step that would otherwise see those objects as someone else's (a name clash).
  converge: ({ machine: m, cluster, remote, desired, settings }): StepResult => {
    const managedBy = settings.adoptGoOperator
    if (managedBy === undefined || remote.namespace._tag !== "Present") return nothing
    const { name, namespace: ns } = m.metadata
    const adoptable = (o: { readonly labels: Readonly<Record<string, string>>; readonly deleting: boolean }) =>
      !o.deleting && isAdoptable(o.labels, name, managedBy)
    const actions: Array<Action> = []
    const vm = remote.vm._tag === "Present" && adoptable(remote.vm.value) ? remote.vm.value : undefined
    if (vm !== undefined)
      actions.push({
        _tag: "AdoptVirtualMachine",
        target: refOf("VirtualMachine", name, ns),
        ...adoptionOf(m, cluster, vm.resourceVersion, managedBy)
      })
    const pvcs = remote.pvcs._tag === "Present" ? remote.pvcs.value : []
    for (const want of desired.pvcs) {
      const have = pvcs.find((p) => p.name === want.name)
      if (have !== undefined && adoptable(have))
        actions.push({
          _tag: "AdoptPvc",
          target: refOf("PersistentVolumeClaim", want.name, ns),
          ...adoptionOf(m, cluster, have.resourceVersion, managedBy)
        })
    }
    const dataVolumes = remote.dataVolumes?._tag === "Present" ? remote.dataVolumes.value : []
    // The Go operator's only DataVolume is its VM's installer ISO (a dataVolumeTemplate, reference F17).
    for (const want of desired.dataVolumes.filter((d) => d.purpose === "iso")) {
      const have = dataVolumes.find((d) => d.name === want.name)
      if (have !== undefined && adoptable(have))
        actions.push({
          _tag: "AdoptDataVolume",
          target: refOf("DataVolume", want.name, ns),
          ...adoptionOf(m, cluster, have.resourceVersion, managedBy)
        })
    }
    const claims = new Set([...desired.pvcs.map((p) => p.name), ...desired.dataVolumes.map((d) => d.name)])
    const diagnostics = [...reportsOf(m, cluster, remote.goOperator, claims)]
    if (actions.length === 0) return { actions, diagnostics, provides: legacyVmWait(m, cluster, remote) }
    // What follows, shown before anything is patched: the adopted VM's drift, handled as for any VM of ours (a change
    // the guest sees only after a restart is written to the VM and waits for that restart; the operator restarts
    // nothing).
    if (vm !== undefined) {
      const adopted = {
        ...vm.spec,
        labels: { ...vm.spec.labels, ...ownerLabels(name) },
        annotations: { ...vm.spec.annotations, ...ownerAnnotations(name) }
      }
      const changes = vmDrift(adopted, desired.vm)
      if (changes.length > 0)
        diagnostics.push(
          info(
            "AdoptionFollowUp",
            `once adopted, VirtualMachine ${refKey(m.metadata)} is patched like any of ours (~ PatchVirtualMachine): ${describeDrift(changes)}`
          )
        )
    }
    // Nothing else this round: later steps would see the objects as not ours yet (a name clash), and a patch planned
    // now would carry a resourceVersion the adoption is about to change.
    return { actions, diagnostics, halt: true }
  },
  // Deletion never adopts: what is not ours by then is left alone (the VM step says so).
  cleanup: () => nothing
}
