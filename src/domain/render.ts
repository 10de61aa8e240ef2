/**
 * Renders plans for reviewers: Terraform-style text (`+` create, `~` change, `-` destroy, one action a line with
 * its target and reason, diagnostics, then a summary line). Domain layer: pure. JSON output goes through the Plan
 * codec instead (see Plan.ts), so a saved plan decodes back to the same value.
 */
import { type Action, actionKind } from "./Action.ts"
import { refKey } from "./ObjectRef.ts"
import type { Plan } from "./Plan.ts"

/** `pod` for the pod network, `<interface>=<nad>` for a custom one (`*` marks the primary). */
const networkText = (n: { readonly name: string; readonly nad?: string; readonly primary?: boolean }): string =>
  n.nad === undefined ? "pod" : `${n.name}=${n.nad}${n.primary === true ? "*" : ""}`

/** The VM has the pod network and nothing else (then `plan` does not mention networks). */
const podOnly = (networks: ReadonlyArray<{ readonly nad?: string }>): boolean =>
  networks.every((n) => n.nad === undefined)

const GLYPH = { create: "+", change: "~", destroy: "-" } as const

const target = (a: Action): string => {
  switch (a._tag) {
    case "EnsureNamespace":
      return `Namespace ${a.name} @${a.cluster}`
    case "AddFinalizer":
    case "RemoveFinalizer":
    case "PersistPlacement":
      return `Machine ${refKey(a.target)}`
    default:
      return `${a.target.kind} ${refKey(a.target)} @${a.cluster}`
  }
}

const detail = (a: Action): string => {
  switch (a._tag) {
    case "EnsureNamespace":
      return ` labels=${Object.entries(a.labels)
        .map(([k, v]) => `${k}:${v}`)
        .join(",")}`
    case "CreatePvc":
      return ` size=${a.after.storage} volumeMode=${a.after.volumeMode} accessModes=${a.after.accessModes.join(",")}${a.after.storageClassName === undefined ? "" : ` storageClass=${a.after.storageClassName}`}`
    case "ExpandPvc":
      return ` size ${a.before} -> ${a.after}`
    case "CreateVirtualMachine":
      return ` cpu=${a.after.cpu.cores}x${a.after.cpu.sockets}x${a.after.cpu.threads} memory=${a.after.memory} disks=${a.after.disks.map((d) => d.claimName).join(",")}${podOnly(a.after.networks) ? "" : ` networks=${a.after.networks.map(networkText).join(",")}`}`
    case "PersistPlacement":
      return ` annotation vitistack.io/kubevirt-config=${a.cluster}`
    case "AddFinalizer":
    case "RemoveFinalizer":
      return ` finalizer ${a.finalizer}`
    default:
      return ""
  }
}

export const renderAction = (a: Action): string =>
  `  ${GLYPH[actionKind(a)]} ${a._tag} ${target(a)}${detail(a)}  (${a.reason})`

export interface Summary {
  readonly add: number
  readonly change: number
  readonly destroy: number
}

export const summarize = (plans: ReadonlyArray<Plan>): Summary => {
  const kinds = plans.flatMap((p) => p.actions.map(actionKind))
  return {
    add: kinds.filter((k) => k === "create").length,
    change: kinds.filter((k) => k === "change").length,
    destroy: kinds.filter((k) => k === "destroy").length
  }
}

export const renderPlan = (p: Plan): string => {
  const head = `Machine ${refKey(p.machine)}${p.cluster === undefined ? "" : ` -> ${p.cluster}`}`
  const lines = [head, ...p.actions.map(renderAction)]
  for (const d of p.diagnostics)
    lines.push(`  ! ${d.severity} ${d.reason}${d.field === undefined ? "" : ` [${d.field}]`}: ${d.message}`)
  if (p.actions.length === 0 && p.diagnostics.length === 0) lines.push("  (no changes)")
  return lines.join("\n")
}

/** The whole text output of `plan`: each Machine's block, then the Terraform summary line. */
export const renderPlans = (plans: ReadonlyArray<Plan>): string => {
  const s = summarize(plans)
  return [...plans.map(renderPlan), "", `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.`].join(
    "\n"
  )
}
