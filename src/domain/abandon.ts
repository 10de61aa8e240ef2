/**
 * Deletion policy `AbandonAfter=<duration>` (`deletionPolicy.ts`): a deleted Machine is cleaned up as with `Delete`,
 * but when its remote cluster cannot be read, deletion does not wait for ever. Once the remote has stayed unreadable
 * for the duration, counted from the later of the deletion and the start of the outage, the finalizer is released
 * and the action lists exactly which remote objects may be left behind (the reconcile turns that into an Event and a
 * log line). Domain layer: pure; time is an input (`PlanInput.now`), never read from a clock.
 *
 * Since when the remote is unreadable: the Machine's own `RemoteReachable` condition, False since its
 * `lastTransitionTime` (status records the first reconcile that could not read it, and keeps the time while it stays
 * so). Without that record the outage has not been seen yet, and the deadline cannot have passed: a remote that
 * answers again in between resets it, as the condition turns True. Without `now` (an offline plan) nothing is
 * abandoned either; the plan says when it would be.
 */
import type { Action } from "./Action.ts"
import { isRemote } from "./actionInfo.ts"
import { isoDataVolumeName } from "./bootMedia.ts"
import { bootSourceOf } from "./bootSource.ts"
import { cloudInitSecretName, hasCloudInit } from "./cloudInit.ts"
import { info, waiting } from "./Diagnostic.ts"
import type { DeletionPolicy } from "./deletionPolicy.ts"
import { diskClaimNames, plainClaimNames } from "./disks.ts"
import {
  DELETION_POLICY_ANNOTATION,
  FINALIZER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  sourceMachineValue
} from "./labels.ts"
import { type Machine, machineRef } from "./Machine.ts"
import { type ObjectRef, refKey, refOf } from "./ObjectRef.ts"
import type { ObservedState } from "./ObservedState.ts"
import { Plan } from "./Plan.ts"

/**
 * Why the placed cluster cannot be read now, or undefined when it can (or it is another cluster's): the cluster
 * itself Unknown, or both of the reads every placed Machine makes there (its namespace and its VM) Unknown: it does
 * not answer, or refuses the credentials. One kind it may not read on a cluster that answers those (RBAC that does
 * not allow DataVolumes yet) is not an outage: deletion waits for it, whatever the deadline, as the README's RBAC
 * upgrade says. (Facts a Machine needs no read for, such as the NADs of one without custom networks, say nothing.)
 */
export const unreadableRemote = (observed: ObservedState, cluster: string): string | undefined => {
  const r = observed.remote
  if (r._tag === "Unknown") return r.reason
  if (r._tag !== "Present" || r.value.cluster !== cluster) return undefined
  const { namespace, vm } = r.value
  return namespace._tag === "Unknown" && vm._tag === "Unknown" ? vm.reason : undefined
}

/** The RFC 3339 time the Machine's status says its remote stopped answering, when it says so. */
export const unreachableSince = (m: Machine): string | undefined => {
  const c = m.status?.conditions?.find((x) => x.type === "RemoteReachable")
  return c?.status === "False" && c.lastTransitionTime !== "" ? c.lastTransitionTime : undefined
}

/** The remote objects a Machine may have: those its spec and its last status name (they may not all exist). */
export const remoteObjectsOf = (m: Machine): ReadonlyArray<ObjectRef> => {
  const { name, namespace } = m.metadata
  const plain = new Set(plainClaimNames(m))
  const claims = [...new Set([...diskClaimNames(m), ...(m.status?.disks ?? []).flatMap((d) => d.pvcName ?? [])])]
  const boot = bootSourceOf(m)
  const dataVolumes = [
    ...(boot.root === undefined ? [] : diskClaimNames(m).filter((c) => !plain.has(c))),
    ...(boot.iso === undefined ? [] : [isoDataVolumeName(name)])
  ]
  return [
    refOf("VirtualMachine", name, namespace),
    ...dataVolumes.map((d) => refOf("DataVolume", d, namespace)),
    ...claims.sort().map((c) => refOf("PersistentVolumeClaim", c, namespace)),
    ...(hasCloudInit(m) ? [refOf("Secret", cloudInitSecretName(name), namespace)] : [])
  ]
}

/** `VirtualMachine team-a/web, PersistentVolumeClaim team-a/web, ...`: how events and logs list them. */
export const describeObjects = (objects: ReadonlyArray<ObjectRef>): string =>
  objects.map((o) => `${o.kind} ${refKey(o)}`).join(", ")

const ownerSelector = (m: Machine) =>
  `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},source-machine=${sourceMachineValue(m.metadata.name)}`

/**
 * The cleanup plan of a Machine with deletion policy AbandonAfter, given what the fold planned: unchanged while the
 * remote can be read (or the fold found something to do there); otherwise a wait that names the deadline, or, once
 * it has passed, the release of the finalizer with the objects that may be left behind.
 */
export const withAbandonAfter = (
  m: Machine,
  observed: ObservedState,
  cluster: string,
  policy: Extract<DeletionPolicy, { _tag: "AbandonAfter" }>,
  now: string | undefined,
  planned: Plan
): Plan => {
  const why = unreadableRemote(observed, cluster)
  if (why === undefined || planned.actions.some((a) => isRemote(a) || a._tag === "RemoveFinalizer")) return planned
  const since = unreachableSince(m)
  const deleted = m.metadata.deletionTimestamp
  const from = [since, deleted].filter((t): t is string => t !== undefined && !Number.isNaN(Date.parse(t)))
  const start = since === undefined ? undefined : Math.max(...from.map((t) => Date.parse(t)))
  const deadline = start === undefined ? undefined : start + policy.millis
  const at = now === undefined ? undefined : Date.parse(now)
  const policyText = `${DELETION_POLICY_ANNOTATION}: AbandonAfter=${policy.text}`
  if (deadline !== undefined && at !== undefined && !Number.isNaN(at) && at >= deadline) {
    const objects = remoteObjectsOf(m)
    const selector = ownerSelector(m)
    const list = `${describeObjects(objects)}, and anything else labelled ${selector}`
    const release: Action = {
      _tag: "RemoveFinalizer",
      target: machineRef(m),
      finalizer: FINALIZER,
      reason: `${policyText}: remote cluster '${cluster}' unreadable since ${since}; may be left behind there: ${list}`,
      abandoned: {
        cluster,
        since: since ?? "",
        after: policy.text,
        objects,
        labelSelector: selector
      }
    }
    return Plan.make({
      ...planned,
      actions: [release],
      diagnostics: [
        info("Abandoned", `${policyText}: remote objects on '${cluster}' abandoned; may be left behind: ${list}`),
        ...planned.diagnostics
      ]
    })
  }
  const when =
    deadline === undefined
      ? `once it has been unreadable for ${policy.text}`
      : `at ${new Date(deadline).toISOString()} if it stays unreadable`
  // The deadline, or soon after this reconcile's status records the outage (the start of the count).
  const recheck =
    deadline !== undefined && at !== undefined && !Number.isNaN(at)
      ? Math.max(1, Math.ceil((deadline - at) / 1000))
      : Math.max(1, Math.min(30, Math.ceil(policy.millis / 1000)))
  return Plan.make({
    ...planned,
    diagnostics: [
      waiting(
        "AbandonPending",
        `remote cluster '${cluster}' cannot be read (${why}); ${policyText}: the Machine is released ${when}, leaving its remote objects behind`
      ),
      ...planned.diagnostics
    ],
    recheckAfterSeconds: recheck
  })
}
