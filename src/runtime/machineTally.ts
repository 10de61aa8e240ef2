/**
 * What the MachineProvider's status needs of each in-scope Machine (its phase, whether it is placed, the spec fields
 * that size it), kept from the operator's Machine watch: no extra reads, a few hundred bytes per Machine. Runtime
 * layer. `usage` sums the quota with the planner's own sizing (`domain/machineUsage.ts`), computed once per distinct
 * sizing, so 10,000 Machines of a handful of shapes cost a handful of sizings.
 */
import { Result, Schema } from "effect"
import { absent, present } from "../domain/Fact.ts"
import type { KubeObject } from "../domain/KubeObject.ts"
import { PLACEMENT_ANNOTATION } from "../domain/labels.ts"
import { Machine, requestedClass } from "../domain/Machine.ts"
import type { MachineClass } from "../domain/MachineClass.ts"
import type { ProviderUsage } from "../domain/MachineProvider.ts"
import { type MachineUsage, machineUsage } from "../domain/machineUsage.ts"
import type { Settings } from "../domain/Settings.ts"

interface Entry {
  readonly phase: string | undefined
  readonly placed: boolean
  /** JSON of the spec fields that size the Machine (class, cpu, memory, disks). */
  readonly sizing: string
  readonly className: string | undefined
}

const decodeMachine = Schema.decodeUnknownResult(Machine)

export interface MachineTally {
  /** A Machine watch event. Out-of-scope Machines are not counted. */
  readonly observe: (type: "ADDED" | "MODIFIED" | "DELETED", o: KubeObject) => void
  /** The MachineClasses the counted Machines name (read them before `usage`). */
  readonly classNames: () => ReadonlySet<string>
  readonly usage: (classes: ReadonlyMap<string, MachineClass>, settings: Settings) => ProviderUsage
}

export const makeMachineTally = (): MachineTally => {
  const entries = new Map<string, Entry>()
  let memo = new Map<string, MachineUsage | undefined>()
  let memoKey = ""

  const sizingOf = (o: KubeObject): string => {
    const spec = (o.spec ?? {}) as Record<string, unknown>
    return JSON.stringify({
      machineClass: spec.machineClass,
      instanceType: spec.instanceType,
      cpu: spec.cpu,
      memory: spec.memory,
      disks: spec.disks
    })
  }

  const usageOf = (sizing: string, classes: ReadonlyMap<string, MachineClass>, settings: Settings) => {
    if (memo.has(sizing)) return memo.get(sizing)
    // Sized under a fixed, valid name: the usage depends on the sizing fields only.
    const decoded = decodeMachine({
      metadata: { name: "usage", namespace: "default" },
      spec: { provider: "kubevirt", ...JSON.parse(sizing) }
    })
    let usage: MachineUsage | undefined
    if (Result.isSuccess(decoded)) {
      const name = requestedClass(decoded.success)
      const mc = name === undefined ? undefined : classes.get(name)
      usage = machineUsage(decoded.success, mc === undefined ? absent : present(mc), settings)
    }
    memo.set(sizing, usage)
    return usage
  }

  return {
    observe: (type, o) => {
      const key = `${o.metadata.namespace}/${o.metadata.name}`
      const provider = (o.spec as { provider?: unknown } | undefined)?.provider
      if (type === "DELETED" || (provider !== undefined && provider !== "" && provider !== "kubevirt")) {
        entries.delete(key)
        return
      }
      const phase = (o.status as { phase?: unknown } | undefined)?.phase
      const spec = (o.spec ?? {}) as { machineClass?: unknown; instanceType?: unknown }
      const className = spec.machineClass ?? spec.instanceType
      entries.set(key, {
        phase: typeof phase === "string" ? phase : undefined,
        placed: (o.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") !== "",
        sizing: sizingOf(o),
        className: typeof className === "string" && className !== "" ? className : undefined
      })
    },
    classNames: () => {
      const names = new Set<string>()
      for (const e of entries.values()) if (e.placed && e.className !== undefined) names.add(e.className)
      return names
    },
    usage: (classes, settings) => {
      const key = JSON.stringify([[...classes].sort(([a], [b]) => (a < b ? -1 : 1)), settings])
      if (key !== memoKey) {
        memo = new Map()
        memoKey = key
      }
      let machines = 0
      let active = 0
      let vcpus = 0
      let memoryBytes = 0
      let storageGiB = 0
      for (const e of entries.values()) {
        if (e.phase === "Running") active++
        if (!e.placed) continue
        machines++
        const u = usageOf(e.sizing, classes, settings)
        if (u === undefined) continue
        vcpus += u.vcpus
        memoryBytes += u.memoryBytes
        storageGiB += u.storageGiB
      }
      return { machines, active, vcpus, memoryBytes, storageGiB }
    }
  }
}
