/**
 * What one Machine uses of its provider's quota: the vCPUs and guest memory of its VirtualMachine and the sizes of
 * its disks, exactly as the planner sizes them (`desiredFor`: MachineClass, then the Machine's overrides). Domain
 * layer: pure. The MachineProvider's `status.quota` sums it (ADR 0012).
 */
import { desiredFor } from "./desired.ts"
import type { Fact } from "./Fact.ts"
import type { Machine } from "./Machine.ts"
import type { MachineClass } from "./MachineClass.ts"
import { parseQuantity } from "./Quantity.ts"
import type { Settings } from "./Settings.ts"

export interface MachineUsage {
  readonly vcpus: number
  readonly memoryBytes: number
  /** The disks' sizes in GiB (each `sizeGB` is read as GiB, as for the PVCs). */
  readonly storageGiB: number
}

/** The Machine's usage, or undefined when it cannot be sized (bad input, an unknown class): it runs nothing. */
export const machineUsage = (
  machine: Machine,
  machineClass: Fact<MachineClass>,
  settings: Settings
): MachineUsage | undefined => {
  const d = desiredFor(machine, machineClass, settings)
  if (d._tag !== "Ok") return undefined
  const { cpu, memory } = d.desired.vm
  return {
    vcpus: cpu.cores * cpu.sockets * cpu.threads,
    memoryBytes: parseQuantity(memory) ?? 0,
    storageGiB: d.desired.pvcs.reduce((sum, p) => sum + (parseQuantity(p.storage) ?? 0) / 2 ** 30, 0)
  }
}
