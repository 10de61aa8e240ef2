/**
 * The planner: a Machine plus the observed state in, an ordered list of typed actions and diagnostics out.
 * Domain layer: pure and total; no I/O, no clock, no randomness; decides from state, never from events (G4).
 *
 * Guarantees
 * - Total: returns a Plan for every decodable input; bad input becomes diagnostics, never an exception.
 * - Deterministic: the same input (up to the order of observed lists) gives the same plan.
 * - Ordered: AddFinalizer and PersistPlacement come before any remote write; the namespace before PVCs before the
 *   VM; on deletion the VM before its PVCs, and RemoveFinalizer only once every remote child is gone.
 * - Safe: never deletes or modifies a namespace; never writes to an object without this Machine's labels; never
 *   creates or deletes anything on the strength of an Unknown fact; a plan with an Error diagnostic has no remote
 *   write.
 * Assumptions: `observed` is one consistent snapshot of the supervisor and the placed cluster.
 * Idempotence: applying the plan and planning again gives an empty plan (creation converges in one round; deletion
 * proceeds VM → PVCs → finalizer, one step per round).
 */
import type { Action } from "./Action.ts"
import { isRemote } from "./actionInfo.ts"
import { advisory, type Diagnostic, error, info, isBlocking, waiting } from "./Diagnostic.ts"
import { desiredFor } from "./desired.ts"
import {
  DELETION_POLICY_ANNOTATION,
  FINALIZER,
  isOwnedBy,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PLACEMENT_ANNOTATION
} from "./labels.ts"
import { hasFinalizer, isDeleting, type Machine } from "./Machine.ts"
import { type ObjectRef, refKey, refOf } from "./ObjectRef.ts"
import type { ObservedState, RemoteState } from "./ObservedState.ts"
import { Plan } from "./Plan.ts"
import { place } from "./placement.ts"
import { parseQuantity } from "./Quantity.ts"
import type { Settings } from "./Settings.ts"
import { NETWORKS_FIELD, vmDrift } from "./vmDrift.ts"

export interface PlanInput {
  readonly machine: Machine
  readonly observed: ObservedState
  readonly settings: Settings
}

/** In scope: `spec.provider` is `kubevirt` or empty (design 3.1). Others get no finalizer and no write. */
export const inScope = (m: Machine): boolean =>
  m.spec.provider === undefined || m.spec.provider === "" || m.spec.provider === "kubevirt"

const machineRef = (m: Machine): ObjectRef => refOf("Machine", m.metadata.name, m.metadata.namespace)

interface Acc {
  readonly actions: Array<Action>
  readonly diagnostics: Array<Diagnostic>
}

const finish = (m: Machine, acc: Acc, cluster?: string): Plan => {
  const errored = acc.diagnostics.some(isBlocking)
  // Safety: a Machine the planner cannot satisfy gets no remote write and no placement; only the finalizer.
  const actions = errored ? acc.actions.filter((a) => !isRemote(a) && a._tag !== "PersistPlacement") : acc.actions
  return Plan.make({
    machine: machineRef(m),
    ...(cluster === undefined ? {} : { cluster }),
    actions,
    diagnostics: acc.diagnostics
  })
}

/** The remote facts for `cluster`, or a diagnostic saying why they are not usable. */
const remoteFor = (observed: ObservedState, cluster: string, acc: Acc, deleting: boolean): RemoteState | undefined => {
  const r = observed.remote
  if (r._tag === "Unknown") {
    const hint = deleting
      ? `; deletion waits (annotate ${DELETION_POLICY_ANNOTATION}: Orphan to keep the remote objects)`
      : ""
    acc.diagnostics.push(waiting("RemoteUnreachable", `remote cluster '${cluster}' cannot be read: ${r.reason}${hint}`))
    return undefined
  }
  if (r._tag === "Absent" || r.value.cluster !== cluster) {
    acc.diagnostics.push(waiting("RemoteNotObserved", `remote cluster '${cluster}' has not been observed yet`))
    return undefined
  }
  return r.value
}

/**
 * Whether every NetworkAttachmentDefinition the VM's networks name exists in the Machine's namespace on the remote
 * (spec page: custom networks are looked up there; the operator never creates one). Otherwise a waiting diagnostic
 * per missing NAD, naming the Machine field that asks for it.
 */
const networksReady = (m: Machine, nads: ReadonlyArray<string>, remote: RemoteState, acc: Acc): boolean => {
  if (nads.length === 0) return true
  const ns = m.metadata.namespace
  if (remote.nads._tag === "Unknown") {
    acc.diagnostics.push(
      waiting(
        "NetworkAttachmentUnknown",
        `cannot read NetworkAttachmentDefinitions in '${ns}' on '${remote.cluster}': ${remote.nads.reason}`
      )
    )
    return false
  }
  const present = remote.nads._tag === "Present" ? remote.nads.value : []
  const missing = nads.filter((nad) => !present.includes(nad))
  const interfaces = m.spec.network?.interfaces ?? []
  for (const nad of missing)
    acc.diagnostics.push(
      waiting(
        "NetworkAttachmentMissing",
        `NetworkAttachmentDefinition ${ns}/${nad} does not exist on '${remote.cluster}'; create it in namespace '${ns}' there (custom networks are looked up in the Machine's namespace)`,
        `spec.network.interfaces[${interfaces.findIndex((i) => i.subnet === nad)}].subnet`
      )
    )
  return missing.length === 0
}

const planConverge = (input: PlanInput): Plan => {
  const { machine: m, observed, settings } = input
  const acc: Acc = { actions: [], diagnostics: [] }
  const id = refKey(m.metadata)
  if (!hasFinalizer(m, FINALIZER))
    acc.actions.push({
      _tag: "AddFinalizer",
      target: machineRef(m),
      finalizer: FINALIZER,
      reason: "so deletion can clean up remote objects"
    })

  const desired = desiredFor(m, observed.machineClass, settings)
  acc.diagnostics.push(...desired.diagnostics)
  const placement = place(m, observed.kubevirtConfigs, observed.vmSearch, settings)
  if (placement._tag === "Unplaced") {
    acc.diagnostics.push(error(placement.reason, placement.message, `metadata.annotations[${PLACEMENT_ANNOTATION}]`))
    return finish(m, acc)
  }
  if (placement._tag === "Undetermined") {
    acc.diagnostics.push(waiting(placement.reason, placement.message))
    return finish(m, acc)
  }
  const cluster = placement.cluster
  if (placement.persist)
    acc.actions.push({
      _tag: "PersistPlacement",
      target: machineRef(m),
      placement: cluster,
      reason: `placed by ${placement.source}; recorded so placement never moves`
    })
  if (desired._tag !== "Ok") return finish(m, acc, cluster)
  const remote = remoteFor(observed, cluster, acc, false)
  if (remote === undefined) return finish(m, acc, cluster)

  const ns = m.metadata.namespace
  // Namespace rule (spec-namespace-management): create with our label if absent; reuse untouched if present.
  switch (remote.namespace._tag) {
    case "Unknown":
      acc.diagnostics.push(
        waiting("NamespaceUnknown", `cannot read namespace '${ns}' on '${cluster}': ${remote.namespace.reason}`)
      )
      return finish(m, acc, cluster)
    case "Present":
      if (remote.namespace.value.deleting) {
        acc.diagnostics.push(
          waiting("NamespaceTerminating", `namespace '${ns}' on '${cluster}' is being deleted; waiting`)
        )
        return finish(m, acc, cluster)
      }
      break
    case "Absent":
      acc.actions.push({
        _tag: "EnsureNamespace",
        cluster,
        target: refOf("Namespace", ns),
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        reason: "namespace absent on the remote cluster"
      })
  }

  if (remote.pvcs._tag === "Unknown") {
    acc.diagnostics.push(waiting("PvcsUnknown", `cannot read PVCs in '${ns}' on '${cluster}': ${remote.pvcs.reason}`))
    return finish(m, acc, cluster)
  }
  const observedPvcs = remote.pvcs._tag === "Present" ? remote.pvcs.value : []
  let vmBlocked = false
  for (const want of desired.desired.pvcs) {
    const target = refOf("PersistentVolumeClaim", want.name, ns)
    const have = observedPvcs.find((p) => p.name === want.name)
    if (have === undefined) {
      acc.actions.push({
        _tag: "CreatePvc",
        cluster,
        target,
        after: want,
        reason: `disk claim absent (${want.storage})`
      })
      continue
    }
    if (!isOwnedBy(have.labels, m.metadata.name)) {
      acc.diagnostics.push(
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
      acc.diagnostics.push(waiting("PvcTerminating", `PVC ${ns}/${want.name} is being deleted; waiting to recreate it`))
      vmBlocked = true
      continue
    }
    const before = parseQuantity(have.storage)
    const after = parseQuantity(want.storage)
    if (before === undefined || (after !== undefined && after > before))
      acc.actions.push({
        _tag: "ExpandPvc",
        cluster,
        target,
        before: have.storage,
        after: want.storage,
        resourceVersion: have.resourceVersion,
        reason: `disk grew ${have.storage} → ${want.storage}`
      })
    else if (after !== undefined && after < before)
      acc.diagnostics.push(
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
      acc.diagnostics.push(
        info("PvcImmutableDrift", `PVC ${ns}/${want.name} keeps ${drift.join(", ")} (immutable fields)`)
      )
  }
  const wanted = new Set(desired.desired.pvcs.map((p) => p.name))
  for (const extra of observedPvcs
    .filter((p) => !wanted.has(p.name) && isOwnedBy(p.labels, m.metadata.name))
    .map((p) => p.name)
    .sort())
    acc.diagnostics.push(
      info(
        "PvcNotInSpec",
        `PVC ${ns}/${extra} is no longer in the spec; kept (disks are never deleted while the Machine lives)`
      )
    )

  const vmTarget = refOf("VirtualMachine", m.metadata.name, ns)
  const nads = [...new Set(desired.desired.vm.networks.flatMap((n) => (n.nad === undefined ? [] : [n.nad])))].sort()
  switch (remote.vm._tag) {
    case "Unknown":
      acc.diagnostics.push(
        waiting("VirtualMachineUnknown", `cannot read VirtualMachine ${id} on '${cluster}': ${remote.vm.reason}`)
      )
      break
    case "Absent":
      if (!vmBlocked && networksReady(m, nads, remote, acc))
        acc.actions.push({
          _tag: "CreateVirtualMachine",
          cluster,
          target: vmTarget,
          after: desired.desired.vm,
          reason: "VirtualMachine absent"
        })
      break
    case "Present": {
      const vm = remote.vm.value
      if (!isOwnedBy(vm.labels, m.metadata.name)) {
        acc.diagnostics.push(
          error(
            "NameClash",
            `VirtualMachine ${id} on '${cluster}' exists and does not belong to this Machine`,
            "metadata.name"
          )
        )
        break
      }
      if (vm.deleting) {
        acc.diagnostics.push(
          waiting("VirtualMachineTerminating", `VirtualMachine ${id} is being deleted; waiting to recreate it`)
        )
        break
      }
      const changes = vmDrift(vm.spec, desired.desired.vm)
      // A change of networks waits for the NetworkAttachmentDefinitions it names, like a create.
      const networksChange = changes.some((c) => c.field === NETWORKS_FIELD)
      if (changes.length > 0 && (!networksChange || networksReady(m, nads, remote, acc))) {
        const restartRequired = changes.some((c) => c.restart)
        acc.actions.push({
          _tag: "PatchVirtualMachine",
          cluster,
          target: vmTarget,
          before: vm.spec,
          after: desired.desired.vm,
          resourceVersion: vm.resourceVersion,
          restartRequired,
          reason: `VmSpecDrift: ${changes.map((c) => `${c.field} ${c.before}→${c.after}`).join("; ")}${restartRequired ? " (takes effect after a restart)" : ""}`
        })
      }
    }
  }
  return finish(m, acc, cluster)
}

const planDeletion = (input: PlanInput): Plan => {
  const { machine: m, observed } = input
  const acc: Acc = { actions: [], diagnostics: [] }
  const removeFinalizer = (reason: string): Action => ({
    _tag: "RemoveFinalizer",
    target: machineRef(m),
    finalizer: FINALIZER,
    reason
  })
  if (m.metadata.annotations?.[DELETION_POLICY_ANNOTATION] === "Orphan") {
    acc.diagnostics.push(info("Orphaned", `${DELETION_POLICY_ANNOTATION}: Orphan: remote objects are kept`))
    acc.actions.push(removeFinalizer("deletion policy Orphan: remote objects kept"))
    return finish(m, acc)
  }
  const cluster = m.metadata.annotations?.[PLACEMENT_ANNOTATION]
  if (cluster === undefined || cluster === "") {
    acc.actions.push(removeFinalizer("never placed: nothing exists remotely"))
    return finish(m, acc)
  }
  const remote = remoteFor(observed, cluster, acc, true)
  if (remote === undefined) return finish(m, acc, cluster)
  const ns = m.metadata.namespace
  const id = refKey(m.metadata)
  switch (remote.vm._tag) {
    case "Unknown":
      acc.diagnostics.push(
        waiting("VirtualMachineUnknown", `cannot read VirtualMachine ${id} on '${cluster}': ${remote.vm.reason}`)
      )
      return finish(m, acc, cluster)
    case "Present": {
      const vm = remote.vm.value
      if (isOwnedBy(vm.labels, m.metadata.name)) {
        if (vm.deleting) acc.diagnostics.push(info("WaitingForVirtualMachine", `VirtualMachine ${id} is being deleted`))
        else
          acc.actions.push({
            _tag: "DeleteVirtualMachine",
            cluster,
            target: refOf("VirtualMachine", m.metadata.name, ns),
            resourceVersion: vm.resourceVersion,
            reason: "Machine is being deleted"
          })
        return finish(m, acc, cluster)
      }
      acc.diagnostics.push(
        info("ForeignVirtualMachine", `VirtualMachine ${id} on '${cluster}' is not ours; left alone`)
      )
    }
  }
  if (remote.pvcs._tag === "Unknown") {
    acc.diagnostics.push(waiting("PvcsUnknown", `cannot read PVCs in '${ns}' on '${cluster}': ${remote.pvcs.reason}`))
    return finish(m, acc, cluster)
  }
  const ours = (remote.pvcs._tag === "Present" ? remote.pvcs.value : [])
    .filter((p) => isOwnedBy(p.labels, m.metadata.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const p of ours)
    if (!p.deleting)
      acc.actions.push({
        _tag: "DeletePvc",
        cluster,
        target: refOf("PersistentVolumeClaim", p.name, ns),
        resourceVersion: p.resourceVersion,
        reason: "VirtualMachine is gone; Machine is being deleted"
      })
  if (ours.length > 0) {
    if (ours.every((p) => p.deleting))
      acc.diagnostics.push(info("WaitingForPvcs", `waiting for ${ours.length} PVC(s) to go`))
    return finish(m, acc, cluster)
  }
  acc.actions.push(removeFinalizer("every remote object of this Machine is gone; the namespace is kept"))
  return finish(m, acc, cluster)
}

/**
 * Plans one reconcile of one Machine. See the module comment for the guarantees.
 *
 * @example
 * const p = plan({ machine, observed: emptyObserved(["remote-a"]), settings: defaultSettings })
 * p.actions.map((a) => a._tag) // ["AddFinalizer", "PersistPlacement", "EnsureNamespace", "CreatePvc", "CreateVirtualMachine"]
 */
export const plan = (input: PlanInput): Plan => {
  const m = input.machine
  if (!inScope(m))
    return Plan.make({
      machine: machineRef(m),
      actions: [],
      diagnostics: [info("OutOfScope", `spec.provider '${m.spec.provider}' is not kubevirt; ignored`)]
    })
  if (isDeleting(m))
    return hasFinalizer(m, FINALIZER)
      ? planDeletion(input)
      : Plan.make({ machine: machineRef(m), actions: [], diagnostics: [] })
  return planConverge(input)
}
