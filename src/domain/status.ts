/**
 * Derives the Machine's status from the Machine, what was observed, the plan and what executing it did
 * (design 3.5). Domain layer: pure; `now` is an input and only stamps conditions that changed status.
 * Only fields of the CRD schema are produced. `sameStatus` tells the runtime whether a write is needed at all.
 * Conditions: Ready, Placed, RemoteReachable; SpecApplied once an advisory finding (part of the spec not applied
 * as written) has appeared; Planned, the plan's hash and summary (`planSummary.ts`).
 */
import { actionInfo } from "./actionInfo.ts"
import { isBlocking, isWaiting } from "./Diagnostic.ts"
import type { ExecutionOutcome } from "./ExecutionOutcome.ts"
import { type Condition, isDeleting, type Machine, type MachineStatus, type Phase } from "./Machine.ts"
import { networkConfigurationAddresses } from "./networkConfiguration.ts"
import type { ObservedState, ObservedVmi } from "./ObservedState.ts"
import type { Plan } from "./Plan.ts"
import { PLANNED_CONDITION, plannedState } from "./planSummary.ts"
import { failureBacksOff } from "./reconcileOutcome.ts"

export interface StatusInput {
  readonly machine: Machine
  readonly observed: ObservedState
  readonly plan: Plan
  readonly outcome?: ExecutionOutcome | undefined
  /** RFC 3339 time used for lastTransitionTime of conditions that change. */
  readonly now: string
  /** `IP_SOURCE` (ADR 0013): `networkconfiguration` takes the public addresses from the NetworkConfiguration. */
  readonly ipSource?: "vmi" | "networkconfiguration" | undefined
}

/** printableStatus values that mean the VM cannot start without intervention. */
export const ERROR_STATUSES: ReadonlySet<string> = new Set([
  "CrashLoopBackOff",
  "ErrImagePull",
  "ImagePullBackOff",
  "ErrorPvcNotFound",
  "DataVolumeError",
  "ErrorUnschedulable"
])

const isIpv6 = (ip: string) => ip.includes(":")
const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)]

/** `fromNetworkConfiguration`: the public addresses `IP_SOURCE=networkconfiguration` takes instead (ADR 0013). */
const runtimeFields = (vmi: ObservedVmi, fromNetworkConfiguration?: ReadonlyArray<string>): Partial<MachineStatus> => {
  const ifaces = vmi.interfaces.filter(
    (i) => i.mac !== undefined && i.mac !== "00:00:00:00:00:00" && i.ipAddresses.length > 0
  )
  const privateIps = ifaces.filter((i) => i.name === undefined || i.name === "").flatMap((i) => i.ipAddresses)
  const all =
    fromNetworkConfiguration === undefined
      ? ifaces.flatMap((i) => i.ipAddresses)
      : [...privateIps, ...fromNetworkConfiguration]
  return {
    publicIPAddresses: uniq(
      fromNetworkConfiguration ??
        ifaces.filter((i) => i.name !== undefined && i.name !== "").flatMap((i) => i.ipAddresses)
    ),
    privateIPAddresses: uniq(privateIps),
    ipAddresses: uniq(all.filter((ip) => !isIpv6(ip))),
    ipv6Addresses: uniq(all.filter(isIpv6)),
    networkInterfaces: ifaces.map((i) => ({
      ...(i.name === undefined ? {} : { name: i.name }),
      ...(i.mac === undefined ? {} : { macAddress: i.mac }),
      ipAddresses: i.ipAddresses.filter((ip) => !isIpv6(ip)),
      ipv6Addresses: i.ipAddresses.filter(isIpv6),
      ...(i.linkState === undefined ? {} : { state: i.linkState }),
      ...(i.infoSource === undefined ? {} : { type: i.infoSource })
    })),
    disks: vmi.volumes
      .filter((v) => v.pvcName !== undefined)
      .map((v) => ({
        name: v.name,
        ...(v.target === undefined ? {} : { device: `/dev/${v.target}` }),
        pvcName: v.pvcName!,
        ...(v.volumeMode === undefined ? {} : { volumeMode: v.volumeMode }),
        ...(v.capacity === undefined ? {} : { size: v.capacity }),
        ...(v.accessModes === undefined ? {} : { accessModes: v.accessModes })
      }))
  }
}

/** Derives the status. Total and deterministic. */
export const deriveStatus = (input: StatusInput): MachineStatus => {
  const { machine, observed, plan, outcome, now } = input
  const errors = plan.diagnostics.filter(isBlocking)
  const warnings = plan.diagnostics.filter(isWaiting)
  const remote =
    observed.remote._tag === "Present" && observed.remote.value.cluster === plan.cluster
      ? observed.remote.value
      : undefined
  const vm = remote?.vm._tag === "Present" ? remote.vm.value : undefined
  const vmi = remote?.vmi._tag === "Present" ? remote.vmi.value : undefined
  const running = vmi?.phase === "Running"
  const printable = vm?.printableStatus

  // A failed import (CDI's reason): the Machine cannot boot until the image or ISO is fixed.
  const importFailure = warnings.find((w) => w.reason === "ImportFailed")
  let failureReason: string | undefined
  let failureMessage: string | undefined
  if (errors.length > 0) {
    failureReason = errors[0]!.reason
    failureMessage = errors.map((e) => (e.field === undefined ? e.message : `${e.field}: ${e.message}`)).join("; ")
  } else if (outcome?.failed !== undefined) {
    const f = outcome.failed
    failureReason = actionInfo[f.action].failureReason
    failureMessage = `${actionInfo[f.action].failureMessage}: ${f.message}`
  } else if (importFailure !== undefined) {
    failureReason = importFailure.reason
    failureMessage = importFailure.message
  } else if (printable !== undefined && ERROR_STATUSES.has(printable) && !running) {
    failureReason = printable
    failureMessage = `VirtualMachine ${machine.metadata.namespace}/${machine.metadata.name} is ${printable}`
  }

  const phase: Phase = isDeleting(machine)
    ? "Terminating"
    : errors.length > 0 || importFailure !== undefined
      ? "Failed"
      : running
        ? "Running"
        : outcome?.failed !== undefined
          ? "Creating"
          : printable !== undefined && ERROR_STATUSES.has(printable)
            ? "Failed"
            : printable === "Stopped" || printable === "Stopping" || printable === "Terminating"
              ? printable
              : plan.cluster === undefined || remote === undefined
                ? "Pending"
                : "Creating"

  const message =
    phase === "Running"
      ? "VirtualMachine is running"
      : phase === "Terminating"
        ? (warnings[0]?.message ?? "deleting remote objects (VirtualMachine, then PVCs; the namespace is kept)")
        : failureMessage !== undefined
          ? errors.length > 0 || (outcome?.failed !== undefined && !failureBacksOff(outcome.failed))
            ? `${failureMessage}; waiting for a change`
            : `${failureMessage}; retrying`
          : warnings[0] !== undefined
            ? warnings[0].message
            : vm !== undefined
              ? `waiting for VirtualMachine to run (${printable ?? "no status yet"})`
              : "creating remote objects"

  const previous = machine.status?.conditions ?? []
  const cond = (type: string, status: Condition["status"], reason: string, msg: string): Condition => {
    const prior = previous.find((c) => c.type === type)
    return {
      type,
      status,
      reason,
      message: msg,
      lastTransitionTime: prior !== undefined && prior.status === status ? prior.lastTransitionTime : now
    }
  }
  const placementError = plan.cluster === undefined ? (errors[0] ?? warnings[0]) : undefined
  const placed =
    plan.cluster !== undefined
      ? cond("Placed", "True", "Placed", `placed on KubevirtConfig '${plan.cluster}'`)
      : cond(
          "Placed",
          placementError !== undefined && isBlocking(placementError) ? "False" : "Unknown",
          placementError?.reason ?? "NotPlaced",
          placementError?.message ?? "not placed yet"
        )
  // Reachable means the cluster answered: a client that exists but whose reads fail (bad token, RBAC, network)
  // is not reachable for this Machine.
  const remoteFacts = observed.remote._tag === "Present" ? observed.remote.value : undefined
  const unreadable =
    remoteFacts === undefined
      ? undefined
      : [
          remoteFacts.namespace,
          remoteFacts.vm,
          remoteFacts.vmi,
          remoteFacts.pvcs,
          ...(remoteFacts.dataVolumes === undefined ? [] : [remoteFacts.dataVolumes]),
          ...(remoteFacts.cloudInitSecret === undefined ? [] : [remoteFacts.cloudInitSecret])
        ].find((f) => f._tag === "Unknown")
  const reachable =
    observed.remote._tag === "Unknown"
      ? cond("RemoteReachable", "False", "RemoteUnreachable", observed.remote.reason)
      : unreadable?._tag === "Unknown"
        ? cond("RemoteReachable", "False", "RemoteUnreadable", unreadable.reason)
        : remoteFacts !== undefined
          ? cond("RemoteReachable", "True", "Reachable", `remote cluster '${remoteFacts.cluster}' answered`)
          : cond("RemoteReachable", "Unknown", "NotObserved", "remote cluster not observed")
  const ready =
    phase === "Running"
      ? cond("Ready", "True", "VirtualMachineRunning", "the VirtualMachineInstance is running")
      : cond(
          "Ready",
          "False",
          // What the message says it waits for names the reason too (ClusterNotReady, NetworkAttachmentMissing, ...).
          failureReason ?? (phase === "Terminating" ? "Terminating" : (warnings[0]?.reason ?? "Waiting")),
          message
        )
  // Part of the spec not applied as written (a refused shrink, a bus replaced, a provider change, design 3.7): said in
  // a condition that appears with the first such finding and then stays, True once everything is applied again.
  const summary = plannedState(machine, plan, outcome)
  const planned = cond(PLANNED_CONDITION, summary.status, summary.reason, summary.message)
  const advisories = plan.diagnostics.filter((d) => d.severity === "Warning" && d.effect === "Advises")
  const specApplied =
    advisories.length > 0
      ? cond(
          "SpecApplied",
          "False",
          advisories[0]!.reason,
          advisories.map((d) => (d.field === undefined ? d.message : `${d.field}: ${d.message}`)).join("; ")
        )
      : previous.some((c) => c.type === "SpecApplied")
        ? cond("SpecApplied", "True", "Applied", "the spec is applied as written")
        : undefined

  // The placed cluster's VM cannot be read (unreachable, a rejected token, a hung cluster): nothing is known about the
  // VM now, so the last known phase, state, addresses and failure stay, Ready is Unknown (as a node's Ready is when
  // its kubelet stops reporting), and RemoteReachable says why. A Running Machine does not flip to Creating, and a
  // new one on a cluster that never answered is Pending, not Failed.
  const unread =
    !isDeleting(machine) &&
    errors.length === 0 &&
    outcome?.failed === undefined &&
    plan.cluster !== undefined &&
    (observed.remote._tag === "Unknown" ||
      (remote !== undefined && (remote.vm._tag === "Unknown" || remote.vmi._tag === "Unknown")))
  if (unread) {
    const last = machine.status ?? {}
    const lastPhase = KEPT_PHASES.find((p) => p === last.phase) ?? "Pending"
    const why = warnings[0]?.message ?? reachable.message
    const lastSpecApplied = previous.find((c) => c.type === "SpecApplied")
    return {
      ...Object.fromEntries(Object.entries(last).filter(([k]) => KEPT_FIELDS.has(k))),
      phase: lastPhase,
      message: `${why}; phase ${lastPhase} is the last known`,
      provider: "kubevirt",
      conditions: [
        cond("Ready", "Unknown", reachable.reason, `the remote cluster cannot be read: ${reachable.message}`),
        placed,
        reachable,
        ...(lastSpecApplied === undefined ? [] : [lastSpecApplied]),
        planned
      ]
    }
  }

  return {
    phase,
    ...(printable === undefined ? {} : { state: printable }),
    message,
    provider: "kubevirt",
    ...(failureReason === undefined ? {} : { failureReason }),
    ...(failureMessage === undefined ? {} : { failureMessage }),
    ...(running && vmi !== undefined
      ? runtimeFields(
          vmi,
          input.ipSource === "networkconfiguration" ? networkConfigurationAddresses(observed) : undefined
        )
      : {}),
    conditions: [ready, placed, reachable, ...(specApplied === undefined ? [] : [specApplied]), planned]
  }
}

/** Phases a Machine keeps while its remote cannot be read (Terminating is only ever derived from the Machine). */
const KEPT_PHASES: ReadonlyArray<Phase> = ["Pending", "Creating", "Running", "Stopping", "Stopped", "Failed"]

/** Status fields that describe the remote VM, kept as last seen while it cannot be read. */
const KEPT_FIELDS: ReadonlySet<string> = new Set([
  "state",
  "failureReason",
  "failureMessage",
  "ipAddresses",
  "ipv6Addresses",
  "publicIPAddresses",
  "privateIPAddresses",
  "networkInterfaces",
  "disks"
])

const canonical = (s: MachineStatus | undefined): string =>
  JSON.stringify(s ?? {}, (_k, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v
  )

/** True when writing `next` would change nothing the apiserver stores. */
export const sameStatus = (current: MachineStatus | undefined, next: MachineStatus): boolean =>
  canonical(current) === canonical(next)
