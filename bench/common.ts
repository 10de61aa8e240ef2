/**
 * Shared by the operator benchmarks: the bench Machines (namespaces, names, 1-2 disks, placement annotation), the
 * desired remote objects a bare client writes for them, the header line, number formatting and a bounded promise
 * pool. Not a test.
 */
import { readFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { desiredFor } from "../src/domain/desired.ts"
import { absent } from "../src/domain/Fact.ts"
import type { KubeObject } from "../src/domain/KubeObject.ts"
import { FINALIZER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PLACEMENT_ANNOTATION } from "../src/domain/labels.ts"
import { Machine } from "../src/domain/Machine.ts"
import { namespaceManifest } from "../src/domain/manifests/Namespace.ts"
import { pvcManifest } from "../src/domain/manifests/Pvc.ts"
import { vmManifest } from "../src/domain/manifests/VirtualMachine.ts"
import { defaultSettings } from "../src/domain/Settings.ts"

export const NAMESPACES = 10

export interface BenchMachine {
  readonly index: number
  readonly name: string
  readonly namespace: string
  /** The Machine as created on the supervisor (no finalizer, no status). */
  readonly object: KubeObject
  /** The remote objects the operator should end up with (PVCs, then the VM). */
  readonly pvcs: ReadonlyArray<KubeObject>
  readonly vm: KubeObject
}

/** Machine `i` of a run: namespace `<prefix>-<i mod 10>`, name `vm-<i>`, 1 disk when i is even, else 2. */
export const benchMachine = (prefix: string, i: number, config: string): BenchMachine => {
  const name = `vm-${i}`
  const namespace = `${prefix}-${i % NAMESPACES}`
  const disks =
    i % 2 === 0
      ? [{ name: "root", sizeGB: 10, boot: true }]
      : [
          { name: "root", sizeGB: 10, boot: true },
          { name: "data", sizeGB: 5 }
        ]
  const object: KubeObject = {
    apiVersion: "vitistack.io/v1alpha1",
    kind: "Machine",
    metadata: { name, namespace, annotations: { [PLACEMENT_ANNOTATION]: config } },
    spec: { provider: "kubevirt", disks }
  }
  const decoded = Machine.make({
    metadata: { name, namespace, annotations: { [PLACEMENT_ANNOTATION]: config } },
    spec: { provider: "kubevirt", disks }
  })
  const d = desiredFor(decoded, absent, defaultSettings)
  if (d._tag !== "Ok") throw new Error(`bench Machine ${namespace}/${name} is not satisfiable: ${d._tag}`)
  return { index: i, name, namespace, object, pvcs: d.desired.pvcs.map(pvcManifest), vm: vmManifest(d.desired.vm) }
}

export const benchMachines = (prefix: string, n: number, config: string): ReadonlyArray<BenchMachine> =>
  Array.from({ length: n }, (_, i) => benchMachine(prefix, i, config))

export const benchNamespaces = (prefix: string): ReadonlyArray<string> =>
  Array.from({ length: NAMESPACES }, (_, i) => `${prefix}-${i}`)

/** The remote namespace as the operator creates it. */
export const remoteNamespace = (name: string): KubeObject =>
  namespaceManifest(name, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE })

/** The Machine metadata patch of the floor: finalizer and placement annotation in one merge patch. */
export const machinePatch = (config: string, finalizer = FINALIZER) => ({
  metadata: { finalizers: [finalizer], annotations: { [PLACEMENT_ANNOTATION]: config } }
})

export const keyOf = (o: { readonly metadata: { readonly namespace?: string | undefined; readonly name: string } }) =>
  `${o.metadata.namespace}/${o.metadata.name}`

const cpuModel = () => {
  const model = cpus()[0]?.model
  if (model !== undefined && model.trim() !== "") return model.trim()
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "cpu"
  } catch {
    return "cpu"
  }
}

export const header = (what: string) =>
  `${what} — node ${process.version}, ${cpuModel()} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`

export const int = (n: number) => Math.round(n).toLocaleString("en-US")
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`

/** A README table row. */
export const row = (what: string, result: string) => console.log(`| ${what} | ${result} |`)

/** Runs `f` over `items`, at most `concurrency` at a time; rejects on the first failure. */
export const pool = async <A>(
  items: ReadonlyArray<A>,
  concurrency: number,
  f: (a: A, i: number) => Promise<unknown>
): Promise<void> => {
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      await f(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane))
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** VmRSS and VmHWM of a process from /proc (bytes), or undefined off Linux. */
export const procMemory = (pid: number | "self"): { readonly rss: number; readonly hwm: number } | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = (field: string) => Number(new RegExp(`${field}:\\s*(\\d+) kB`).exec(text)?.[1] ?? Number.NaN) * 1024
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") }
  } catch {
    return undefined
  }
}
