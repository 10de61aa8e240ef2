/**
 * Planner benchmark (`npm run bench`): plans per second for a Machine with 1 and with 8 disks (fresh cluster and
 * converged cluster), and the time to plan 10,000 Machines. Prints figures; asserts nothing. Not a test.
 */
import { cpus, totalmem } from "node:os"
import { desiredFor } from "../src/domain/desired.ts"
import { absent, present } from "../src/domain/Fact.ts"
import { FINALIZER, PLACEMENT_ANNOTATION } from "../src/domain/labels.ts"
import { Machine } from "../src/domain/Machine.ts"
import { pvcManifest } from "../src/domain/manifests/Pvc.ts"
import { vmManifest } from "../src/domain/manifests/VirtualMachine.ts"
import { ObservedState } from "../src/domain/ObservedState.ts"
import { remoteStateFromObjects } from "../src/domain/observedFromObjects.ts"
import { plan } from "../src/domain/planner.ts"
import { defaultSettings } from "../src/domain/Settings.ts"

const machineWith = (name: string, disks: number) =>
  Machine.make({
    metadata: {
      name,
      namespace: "bench",
      finalizers: [FINALIZER],
      annotations: { [PLACEMENT_ANNOTATION]: "remote-a" }
    },
    spec: {
      provider: "kubevirt",
      disks: Array.from({ length: disks }, (_, i) => ({
        name: `d${i}`,
        sizeGB: 10 + i,
        ...(i === 0 ? { boot: true } : {})
      }))
    }
  })

const observedFor = (m: Machine, converged: boolean) => {
  const d = desiredFor(m, absent, defaultSettings)
  const objects =
    converged && d._tag === "Ok"
      ? [
          { apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } },
          ...d.desired.pvcs.map((p) => ({
            ...pvcManifest(p),
            metadata: { ...pvcManifest(p).metadata, resourceVersion: "1" }
          })),
          { ...vmManifest(d.desired.vm), metadata: { ...vmManifest(d.desired.vm).metadata, resourceVersion: "1" } }
        ]
      : []
  return ObservedState.make({
    kubevirtConfigs: present(["remote-a"]),
    machineClass: absent,
    vmSearch: [],
    remote: present(remoteStateFromObjects(m, "remote-a", objects))
  })
}

const perSecond = (label: string, disks: number, converged: boolean) => {
  const m = machineWith("vm", disks)
  const observed = observedFor(m, converged)
  for (let i = 0; i < 2000; i++) plan({ machine: m, observed, settings: defaultSettings })
  const n = 20000
  const t0 = performance.now()
  for (let i = 0; i < n; i++) plan({ machine: m, observed, settings: defaultSettings })
  const ms = performance.now() - t0
  console.log(
    `${label.padEnd(34)} ${Math.round((n / ms) * 1000)
      .toLocaleString("en-US")
      .padStart(10)} plans/s  (${((ms / n) * 1000).toFixed(1)} µs/plan)`
  )
}

console.log(
  `planner benchmark — node ${process.version}, ${cpus()[0]?.model ?? "cpu"} x${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB`
)
perSecond("1 disk, fresh cluster", 1, false)
perSecond("1 disk, converged", 1, true)
perSecond("8 disks, fresh cluster", 8, false)
perSecond("8 disks, converged", 8, true)

const N = 10000
const inputs = Array.from({ length: N }, (_, i) => {
  const m = machineWith(`vm-${i}`, 1 + (i % 8))
  return { machine: m, observed: observedFor(m, i % 2 === 0), settings: defaultSettings }
})
const t0 = performance.now()
let actions = 0
for (const input of inputs) actions += plan(input).actions.length
const ms = performance.now() - t0
console.log(`plan 10,000 Machines (1-8 disks, half converged): ${ms.toFixed(0)} ms, ${actions} actions`)
