/**
 * Which remote cluster (KubevirtConfig) a Machine goes to, decided from what was observed (design 3.1).
 * Domain layer: pure. Order: the Machine's annotation; `DEFAULT_KUBEVIRT_CONFIG`; the only KubevirtConfig; the one
 * cluster that already holds this Machine's VM. An automatic choice must be persisted (`persist: true`), so a
 * placement never moves afterwards. Unknown facts give `Undetermined` (wait), never a guess.
 */
import type { BlockingReason, WaitingReason } from "./Diagnostic.ts"
import type { Fact } from "./Fact.ts"
import { PLACEMENT_ANNOTATION } from "./labels.ts"
import type { Machine } from "./Machine.ts"
import type { VmSearch } from "./ObservedState.ts"
import type { Settings } from "./Settings.ts"

export type PlacementSource = "Annotation" | "DefaultKubevirtConfig" | "OnlyKubevirtConfig" | "ExistingVirtualMachine"

export type Placement =
  | { readonly _tag: "Placed"; readonly cluster: string; readonly source: PlacementSource; readonly persist: boolean }
  | {
      readonly _tag: "Unplaced"
      readonly reason: Extract<BlockingReason, "KubevirtConfigNotFound" | "NoKubevirtConfig" | "AmbiguousPlacement">
      readonly message: string
    }
  | {
      readonly _tag: "Undetermined"
      readonly reason: Extract<WaitingReason, "KubevirtConfigsUnknown" | "PlacementSearchIncomplete">
      readonly message: string
    }

const FIX = `set the annotation '${PLACEMENT_ANNOTATION}' on the Machine or DEFAULT_KUBEVIRT_CONFIG on the operator`

/**
 * Decides placement. The annotation wins even when the config list is unknown; a named config that is known not to
 * exist is `Unplaced` (a clear error), so nothing is created against a cluster that is not configured.
 */
export const place = (
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
