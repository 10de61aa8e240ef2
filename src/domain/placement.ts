/**
 * Which remote cluster (KubevirtConfig) a Machine goes to, decided from what was observed (design 3.1), and the
 * placement step. Domain layer: pure. Order: the Machine's annotation; `DEFAULT_KUBEVIRT_CONFIG`; the only
 * KubevirtConfig; the one cluster that already holds this Machine's VM. An automatic choice must be persisted
 * (`persist: true`, the step's PersistPlacement), so a placement never moves afterwards. Unknown facts give
 * `Undetermined` (wait), never a guess. On deletion, `cleanupTarget` says where the remote objects are, if anywhere.
 */
import { blocksMachines } from "./ClusterHealth.ts"
import { error, info, waiting } from "./Diagnostic.ts"
import type { Fact } from "./Fact.ts"
import { DELETION_POLICY_ANNOTATION, PLACEMENT_ANNOTATION } from "./labels.ts"
import { type Machine, machineRef } from "./Machine.ts"
import type { ObservedState, RemoteState, VmSearch } from "./ObservedState.ts"
import type { Settings } from "./Settings.ts"
import {
  type CleanupTarget,
  halted,
  nothing,
  type Placement,
  type PlacementSource,
  type StepResult,
  type SupervisorStep
} from "./step.ts"
import { decideTenancy, type Tenancy } from "./tenancy.ts"

export type { CleanupTarget, Placement, PlacementSource } from "./step.ts"

const FIX = `set the annotation '${PLACEMENT_ANNOTATION}' on the Machine or DEFAULT_KUBEVIRT_CONFIG on the operator`

/**
 * Decides placement. The annotation wins even when the config list is unknown; a named config that is known not to
 * exist is `Unplaced` (a clear error), so nothing is created against a cluster that is not configured. A cluster the
 * Machine's namespace may not use (`tenancy`, ADR 0011) is `Unplaced` too, and one whose policy cannot be read is
 * `Undetermined`; without `tenancy` (not observed) the cluster is not restricted.
 */
export const place = (
  machine: Machine,
  configs: Fact<ReadonlyArray<string>>,
  vmSearch: ReadonlyArray<VmSearch>,
  settings: Settings,
  tenancy?: Fact<Tenancy>
): Placement => {
  const chosen = choose(machine, configs, vmSearch, settings)
  if (chosen._tag !== "Placed") return chosen
  const decision = decideTenancy(tenancy, chosen.cluster, machine.metadata.namespace)
  switch (decision._tag) {
    case "Allowed":
      return chosen
    case "Denied":
      return { _tag: "Unplaced", reason: "NamespaceNotAllowed", message: decision.message }
    case "Unknown":
      return { _tag: "Undetermined", reason: "TenancyUnknown", message: decision.message }
  }
}

const choose = (
  machine: Machine,
  configs: Fact<ReadonlyArray<string>>,
  vmSearch: ReadonlyArray<VmSearch>,
  settings: Settings
): Placement => {
  const id = `Machine ${machine.metadata.namespace}/${machine.metadata.name}`
  const named = (cluster: string, source: PlacementSource, persist: boolean): Placement =>
    configs._tag === "Present" && !configs.value.includes(cluster)
      ? {
          _tag: "Unplaced",
          reason: "KubevirtConfigNotFound",
          message: `${id}: KubevirtConfig '${cluster}' (from ${source === "Annotation" ? `annotation ${PLACEMENT_ANNOTATION}` : "DEFAULT_KUBEVIRT_CONFIG"}) does not exist`
        }
      : { _tag: "Placed", cluster, source, persist }

  const annotated = machine.metadata.annotations?.[PLACEMENT_ANNOTATION]
  if (annotated !== undefined && annotated !== "") return named(annotated, "Annotation", false)
  if (settings.defaultKubevirtConfig !== undefined && settings.defaultKubevirtConfig !== "")
    return named(settings.defaultKubevirtConfig, "DefaultKubevirtConfig", true)
  if (configs._tag === "Unknown")
    return {
      _tag: "Undetermined",
      reason: "KubevirtConfigsUnknown",
      message: `cannot list KubevirtConfigs: ${configs.reason}`
    }
  const names = configs._tag === "Present" ? [...configs.value].sort() : []
  if (names.length === 0)
    return {
      _tag: "Unplaced",
      reason: "NoKubevirtConfig",
      message: `${id}: no KubevirtConfig exists; create one and ${FIX}`
    }
  if (names.length === 1) return { _tag: "Placed", cluster: names[0]!, source: "OnlyKubevirtConfig", persist: true }

  const found = vmSearch
    .filter((s) => names.includes(s.cluster) && s.found._tag === "Present" && s.found.value)
    .map((s) => s.cluster)
    .sort()
  if (found.length === 1) return { _tag: "Placed", cluster: found[0]!, source: "ExistingVirtualMachine", persist: true }
  if (found.length > 1)
    return {
      _tag: "Unplaced",
      reason: "AmbiguousPlacement",
      message: `${id}: a VirtualMachine of this Machine exists on several clusters (${found.join(", ")}); ${FIX}`
    }
  const unsearched = names.filter((n) => !vmSearch.some((s) => s.cluster === n && s.found._tag !== "Unknown"))
  if (unsearched.length > 0)
    return {
      _tag: "Undetermined",
      reason: "PlacementSearchIncomplete",
      message: `cannot search cluster(s) ${unsearched.join(", ")} for an existing VirtualMachine`
    }
  return {
    _tag: "Unplaced",
    reason: "AmbiguousPlacement",
    message: `${id}: ${names.length} KubevirtConfigs exist (${names.join(", ")}) and none holds this Machine; ${FIX}`
  }
}

/** Whether the placement step needs a VM search across clusters (only then does observe pay for one). */
export const needsVmSearch = (machine: Machine, configs: Fact<ReadonlyArray<string>>, settings: Settings): boolean =>
  (machine.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") === "" &&
  (settings.defaultKubevirtConfig ?? "") === "" &&
  configs._tag === "Present" &&
  configs.value.length > 1

/** Where a deleted Machine's remote objects are: orphaned on purpose, never created, or on the recorded cluster. */
export const cleanupTarget = (machine: Machine): CleanupTarget => {
  if (machine.metadata.annotations?.[DELETION_POLICY_ANNOTATION] === "Orphan") return { _tag: "Orphaned" }
  const cluster = machine.metadata.annotations?.[PLACEMENT_ANNOTATION]
  // Placement is persisted before anything remote is created (ADR 0001 §5): no annotation, nothing remote.
  return cluster === undefined || cluster === "" ? { _tag: "NeverPlaced" } : { _tag: "Placed", cluster }
}

/**
 * The placed cluster's facts, or why remote steps cannot run there (it cannot be read, it has not been observed, or
 * its health check found it NotReady: KubeVirt missing or not deployed). On deletion the message says how to stop
 * waiting; a NotReady cluster does not hold deletion back.
 */
export const placedRemote = (
  observed: ObservedState,
  cluster: string,
  deleting: boolean,
  namespace: string
):
  | { readonly _tag: "Usable"; readonly remote: RemoteState }
  | { readonly _tag: "Unusable"; readonly result: StepResult } => {
  // Tenancy first: a namespace that may not use the cluster gets no remote write, deletes included (ADR 0011).
  const decision = decideTenancy(observed.tenancy, cluster, namespace)
  const orphan = `; deletion waits (annotate ${DELETION_POLICY_ANNOTATION}: Orphan to leave the remote objects)`
  if (decision._tag === "Denied")
    return {
      _tag: "Unusable",
      result: halted(error("NamespaceNotAllowed", `${decision.message}${deleting ? orphan : ""}`, "metadata.namespace"))
    }
  if (decision._tag === "Unknown")
    return {
      _tag: "Unusable",
      result: halted(waiting("TenancyUnknown", `${decision.message}${deleting ? orphan : ""}`))
    }
  const r = observed.remote
  if (r._tag === "Unknown") {
    const hint = deleting
      ? `; deletion waits (annotate ${DELETION_POLICY_ANNOTATION}: Orphan to keep the remote objects)`
      : ""
    return {
      _tag: "Unusable",
      result: halted(waiting("RemoteUnreachable", `remote cluster '${cluster}' cannot be read: ${r.reason}${hint}`))
    }
  }
  if (r._tag === "Absent" || r.value.cluster !== cluster)
    return {
      _tag: "Unusable",
      result: halted(waiting("RemoteNotObserved", `remote cluster '${cluster}' has not been observed yet`))
    }
  // A cluster without a working KubeVirt holds back only the Machines placed on it; deletion still proceeds.
  const health = observed.clusterHealth
  if (!deleting && health !== undefined && health.cluster === cluster && blocksMachines(health))
    return {
      _tag: "Unusable",
      result: halted(waiting("ClusterNotReady", `remote cluster '${cluster}' is not ready: ${health.message}`))
    }
  return { _tag: "Usable", remote: r.value }
}

export const placementStep: SupervisorStep = {
  scope: "supervisor",
  name: "placement",
  // Nothing remote is planned until the Machine is placed, and an automatic choice is recorded first (ADR 0001 §5).
  converge: ({ machine, placement }): StepResult => {
    switch (placement._tag) {
      case "Unplaced":
        return halted(
          error(
            placement.reason,
            placement.message,
            placement.reason === "NamespaceNotAllowed"
              ? "metadata.namespace"
              : `metadata.annotations[${PLACEMENT_ANNOTATION}]`
          )
        )
      case "Undetermined":
        return halted(waiting(placement.reason, placement.message))
      case "Placed":
        return placement.persist
          ? {
              actions: [
                {
                  _tag: "PersistPlacement",
                  target: machineRef(machine),
                  placement: placement.cluster,
                  reason: `placed by ${placement.source}; recorded so placement never moves`
                }
              ],
              diagnostics: []
            }
          : nothing
    }
  },
  cleanup: ({ target }) =>
    target._tag === "Orphaned"
      ? {
          actions: [],
          diagnostics: [info("Orphaned", `${DELETION_POLICY_ANNOTATION}: Orphan: remote objects are kept`)]
        }
      : nothing
}
