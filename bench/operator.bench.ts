/**
 * Operator benchmark: 1,000 Machines (10 namespaces, 1-2 disks each, all placed on one KubevirtConfig by annotation)
 * reconciled by the operator (4 workers), against the floor (a bare client doing the same writes):
 *   1. operator on in-memory supervisor + remote clusters: time to converge and API requests (total, writes);
 *   2. the floor on in-memory clusters;
 *   3. the same two on real kube-apiservers (test harness; skipped with BENCH_REAL=0);
 *   4. peak RSS of the operator process holding 10,000 Machines (child process bench/rss.ts; BENCH_RSS=0 skips).
 * Converged: every Machine has its VM and PVCs on the remote, its finalizer and a status, and no write for 1 s.
 * Prints README table rows, then notes; progress goes to stderr. Asserts nothing. Not a test.
 * Knobs: BENCH_MACHINES (1000), BENCH_RSS_MACHINES (10000), BENCH_REAL=0, BENCH_RSS=0.
 */
import { Effect } from "effect"
import { benchMachines, header, int, keyOf, row, seconds } from "./common.ts"
import { floorInMemory, operatorInMemory } from "./inMemory.ts"
import { realBench } from "./real.ts"

const n = Number(process.env.BENCH_MACHINES ?? 1000)
const rssMachines = Number(process.env.BENCH_RSS_MACHINES ?? 10_000)
const real = process.env.BENCH_REAL !== "0"
const rss = process.env.BENCH_RSS !== "0"
const notes: Array<string> = []
const note = (line: string) => {
  notes.push(line)
  process.stderr.write(`${line}\n`)
}
const progress = (line: string) => process.stderr.write(`${line}\n`)
const benchStarted = performance.now()

console.log(header("operator benchmark"))
const machines = benchMachines("bench", n, "remote-a")
const pvcs = machines.reduce((s, b) => s + b.pvcs.length, 0)
console.log(
  `${int(n)} Machines in 10 namespaces (${int(pvcs)} PVCs), all annotated vitistack.io/kubevirt-config: remote-a; ` +
    "converged = VM + PVCs on the remote, finalizer and status on every Machine, then 1 s without a write"
)
console.log("")
console.log("| what | result |")
console.log("| --- | --- |")

progress("in-memory: operator …")
const op = await Effect.runPromise(operatorInMemory(machines))
row(
  `operator, in-memory clusters, ${int(n)} Machines (4 workers)`,
  op.converged
    ? `${seconds(op.result.ms)}; ${int(op.result.requests)} API requests (${int(op.result.writes)} writes), ${(op.result.requests / n).toFixed(1)} per Machine`
    : `NOT converged; ${int(op.result.requests)} requests (${int(op.result.writes)} writes)`
)
note(`  in-memory operator requests by verb and kind: ${op.result.byVerb.map(([k, v]) => `${k} ${int(v)}`).join(", ")}`)

progress("in-memory: floor …")
const floor = await Effect.runPromise(
  floorInMemory(
    machines,
    (b) =>
      op.statuses.get(keyOf({ metadata: { name: b.name, namespace: b.namespace } })) ?? {
        phase: "Creating",
        message: "creating remote objects"
      }
  )
)
row(
  "floor, in-memory: bare client, same writes (namespaces once, PVCs, VM, Machine patch, status)",
  `${seconds(floor.ms)}; ${int(floor.requests)} API requests (${int(floor.writes)} writes)`
)

if (real) {
  progress("real apiservers: starting two kube-apiservers …")
  await realBench({ machines: n, rssMachines, convergeTimeoutMs: 480_000, skipRss: !rss, rssWindowMs: 60_000, note })
} else {
  row("real apiservers", "skipped (BENCH_REAL=0)")
  row("operator RSS with 10,000 Machines", "skipped (needs the real supervisor; BENCH_REAL=0)")
}

console.log("")
for (const line of notes) console.log(line.trimStart())
console.log(`(whole benchmark: ${seconds(performance.now() - benchStarted)})`)
