/**
 * The VirtualMachine step: the VM (named like the Machine) is created once every prerequisite of the earlier steps is
 * ready (its disks' claims, its networks' NADs), patched when an owned field drifts (design 3.7), and deleted first
 * on Machine deletion; its VirtualMachineInstance is read for status only. Domain layer: pure.
 */
import { error, info, waiting } from "./Diagnostic.ts"
import { isOwnedBy, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./labels.ts"
import type { Machine } from "./Machine.ts"
import { observeVm, observeVmi } from "./manifests/VirtualMachine.ts"
import { Kinds, refKey, refOf } from "./ObjectRef.ts"
import type { ObservedVm, ObservedVmi } from "./ObservedState.ts"
import type { RemoteWatch } from "./RemoteWatch.ts"
import { getOne, type Reads } from "./reads.ts"
import { halted, nothing, type Prerequisite, type RemoteStep, type StepResult } from "./step.ts"
import { describeDrift, vmDrift } from "./vmDrift.ts"

export const vmReads = (machine: Machine): Reads<ObservedVm> =>
  getOne(refOf("VirtualMachine", machine.metadata.name, machine.metadata.namespace), observeVm)

export const vmiReads = (machine: Machine): Reads<ObservedVmi> =>
  getOne(refOf("VirtualMachineInstance", machine.metadata.name, machine.metadata.namespace), observeVmi)

/** A VM or VMI event wakes the Machine of the same name; only ours are watched. */
const sameName = (o: { readonly metadata: { readonly name: string; readonly namespace?: string | undefined } }) => [
  `${o.metadata.namespace}/${o.metadata.name}`
]

/**
 * Our VMs and VMIs on each remote, so a VM's status reaches its Machine without polling. The VM watch's list is
 * also what the cluster's health reports (it answers, or it does not).
 */
export const virtualMachineWatches: ReadonlyArray<RemoteWatch> = [
  {
    kind: Kinds.VirtualMachine,
    labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    toKeys: sameName,
    reportsHealth: true
  },
  { kind: Kinds.VirtualMachineInstance, labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, toKeys: sameName }
]

/** Holds the VM back at the first prerequisite that is not ready, with what it says the VM waits for. */
const waitFor = (prerequisites: ReadonlyArray<Prerequisite>): StepResult | undefined => {
  const first = prerequisites.find((p) => !p.ready)
  return first === undefined ? undefined : { actions: [], diagnostics: first.waiting }
}

export const virtualMachineStep: RemoteStep = {
  scope: "remote",
  name: "virtualMachine",
  converge: ({ machine: m, cluster, remote, desired, prerequisites }): StepResult => {
    const id = refKey(m.metadata)
    const target = refOf("VirtualMachine", m.metadata.name, m.metadata.namespace)
    switch (remote.vm._tag) {
      case "Unknown":
        return {
          actions: [],
          diagnostics: [
            waiting("VirtualMachineUnknown", `cannot read VirtualMachine ${id} on '${cluster}': ${remote.vm.reason}`)
          ]
        }
      case "Absent":
        return (
          waitFor(prerequisites) ?? {
            actions: [
              { _tag: "CreateVirtualMachine", cluster, target, after: desired.vm, reason: "VirtualMachine absent" }
            ],
            diagnostics: []
          }
        )
      case "Present": {
        const vm = remote.vm.value
        if (!isOwnedBy(vm.labels, m.metadata.name))
          return {
            actions: [],
            diagnostics: [
              error(
                "NameClash",
                `VirtualMachine ${id} on '${cluster}' exists and does not belong to this Machine`,
                "metadata.name"
              )
            ]
          }
        if (vm.deleting)
          return {
            actions: [],
            diagnostics: [
              waiting("VirtualMachineTerminating", `VirtualMachine ${id} is being deleted; waiting to recreate it`)
            ]
          }
        const changes = vmDrift(vm.spec, desired.vm)
        if (changes.length === 0) return nothing
        const restartRequired = changes.some((c) => c.restart)
        return (
          waitFor(prerequisites.filter((p) => p.gatesPatch(changes))) ?? {
            actions: [
              {
                _tag: "PatchVirtualMachine",
                cluster,
                target,
                before: vm.spec,
                after: desired.vm,
                resourceVersion: vm.resourceVersion,
                restartRequired,
                reason: describeDrift(changes)
              }
            ],
            diagnostics: []
          }
        )
      }
    }
  },
  // First in cleanup: our VM goes before anything it mounts, and the fold waits here until it is gone.
  cleanup: ({ machine: m, cluster, remote }): StepResult => {
    const id = refKey(m.metadata)
    switch (remote.vm._tag) {
      case "Unknown":
        return halted(
          waiting("VirtualMachineUnknown", `cannot read VirtualMachine ${id} on '${cluster}': ${remote.vm.reason}`)
        )
      case "Absent":
        return nothing
      case "Present": {
        const vm = remote.vm.value
        if (!isOwnedBy(vm.labels, m.metadata.name))
          return {
            actions: [],
            diagnostics: [info("ForeignVirtualMachine", `VirtualMachine ${id} on '${cluster}' is not ours; left alone`)]
          }
        if (vm.deleting) return halted(info("WaitingForVirtualMachine", `VirtualMachine ${id} is being deleted`))
        // What goes with it: the DataVolumes it owns (a deletion that loses their data, held like theirs).
        const dataVolumes = remote.dataVolumes
        if (dataVolumes?._tag === "Unknown")
          return halted(
            waiting(
              "DataVolumesUnknown",
              `cannot read the DataVolumes VirtualMachine ${id} may own on '${cluster}': ${dataVolumes.reason}`
            )
          )
        const cascades =
          dataVolumes?._tag === "Present"
            ? dataVolumes.value.filter((d) => d.ownerVm === vm.name && !d.deleting).map((d) => d.name)
            : []
        return {
          actions: [
            {
              _tag: "DeleteVirtualMachine",
              cluster,
              target: refOf("VirtualMachine", m.metadata.name, m.metadata.namespace),
              resourceVersion: vm.resourceVersion,
              ...(cascades.length === 0 ? {} : { cascades: cascades.sort() }),
              reason: "Machine is being deleted"
            }
          ],
          diagnostics: [],
          halt: true
        }
      }
    }
  }
}
