/**
 * PVC names that two Machines would share. Domain layer: pure. Claim names are derived (`<machine>` for the boot
 * disk, `<machine>-<disk>` for the others, design 3.4), so Machine `a` with a disk `b` and Machine `a-b` both want
 * PVC `a-b`. The operator finds out on the remote (the second Machine sees a claim that is not its own: NameClash);
 * the offline `plan`, which sees every Machine at once, says so before anything exists: an Error on each Machine
 * involved, naming the field that makes the name on both sides.
 */
import { type Diagnostic, error } from "./Diagnostic.ts"
import { planDisks } from "./disks.ts"
import type { Machine } from "./Machine.ts"
import { refKey } from "./ObjectRef.ts"

/** A Machine and the cluster it would be placed on (undefined: not placed, so it claims nothing). */
export interface PlacedMachine {
  readonly machine: Machine
  readonly cluster: string | undefined
}

interface Claim {
  readonly machine: string
  readonly field: string
}

/** Each claim of a Machine with the field that names it. */
const claimsOf = (m: Machine): ReadonlyArray<{ readonly claim: string; readonly field: string }> => {
  const disks = m.spec.disks ?? []
  return planDisks(m.metadata.name, disks, []).map((d, i) => ({
    claim: d.disk.claimName,
    field:
      d.disk.claimName === m.metadata.name
        ? "metadata.name"
        : disks[i]?.name !== undefined
          ? `spec.disks[${i}].name`
          : `spec.disks[${i}]`
  }))
}

/**
 * The diagnostics of every Machine whose PVC name another Machine on the same cluster and namespace also derives,
 * by Machine key (`namespace/name`). Total and deterministic (Machines are compared by key).
 */
export const claimCollisions = (machines: ReadonlyArray<PlacedMachine>): ReadonlyMap<string, Array<Diagnostic>> => {
  const byClaim = new Map<string, Array<Claim>>()
  for (const { machine, cluster } of machines) {
    if (cluster === undefined) continue
    const key = refKey(machine.metadata)
    for (const { claim, field } of claimsOf(machine)) {
      const at = JSON.stringify([cluster, machine.metadata.namespace, claim])
      byClaim.set(at, [...(byClaim.get(at) ?? []), { machine: key, field }])
    }
  }
  const out = new Map<string, Array<Diagnostic>>()
  for (const [at, claims] of [...byClaim].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const owners = new Set(claims.map((c) => c.machine))
    if (owners.size < 2) continue
    const [cluster, namespace, claim] = JSON.parse(at) as [string, string, string]
    for (const c of claims) {
      const others = claims
        .filter((o) => o.machine !== c.machine)
        .map((o) => `Machine ${o.machine} (${o.field})`)
        .sort()
      out.set(c.machine, [
        ...(out.get(c.machine) ?? []),
        error(
          "PvcNameCollision",
          `PVC ${namespace}/${claim} on '${cluster}' would also be the PVC of ${others.join(", ")}; rename a disk or a Machine`,
          c.field
        )
      ])
    }
  }
  return out
}
