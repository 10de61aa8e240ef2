/**
 * Operator benchmark: Machines (10 namespaces, 1-2 disks each, all placed on one KubevirtConfig by annotation)
 * reconciled by the operator (4 workers), against the floor (a bare client doing the same writes):
 *   1. in memory, 1,000 and 10,000 Machines: time and CPU to converge, API requests by verb (total, per Machine), a
 *      full resync of the converged fleet, the floor at both sizes, and how time and requests per Machine change from
 *      one size to the other (flat is the target);
 *   2. in memory with the KubeVirt stand-in: how long after its VMI runs a Machine shows Running, during a bulk create;
 *   3. the same on real kube-apiservers (test harness; skipped with BENCH_REAL=0): 1,000 Machines against the floor,
 *      requests by verb, a resync, the Running lag, and the operator's RSS holding 10,000 Machines (child process
 *      bench/rss.ts, run as in a pod: in-cluster credentials, the image's V8 flags; BENCH_RSS=0 skips).
 * Converged: every Machine has its VM and PVCs on the remote, its finalizer and a status, and no write for 1 s.
 * Prints README table rows, then notes; progress goes to stderr. Asserts nothing. Not a test.
 * Knobs: BENCH_MACHINES (1000), BENCH_LARGE (10000; 0 skips), BENCH_RSS_MACHINES (10000), BENCH_REAL=0, BENCH_RSS=0,
 * BENCH_FLOOR_EVENTS=1 (a third real floor that also writes the Events), BENCH_FLOOR_BURN=1 (a last real floor with
 * the operator's extra CPU burned beside it).
 */
import { Effect } from "effect"
import { benchMachines, header, int, keyOf, row, seconds } from "./common.ts"
import { floorInMemory, type OperatorRun, operatorInMemory, percentile } from "./inMemory.ts"
import { realBench } from "./real.ts"

const n = Number(process.env.BENCH_MACHINES ?? 1000)
const large = Number(process.env.BENCH_LARGE ?? 10_000)
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
console.log(
  "Machines in 10 namespaces (1-2 disks: 1.5 PVCs each), all annotated vitistack.io/kubevirt-config: remote-a; " +
    "converged = VM + PVCs on the remote, finalizer and status on every Machine, then 1 s without a write"
)
console.log("")
console.log("| what | result |")
console.log("| --- | --- |")

const perMachine = (x: number, m: number) => (x / m).toFixed(1)
const byVerb = (run: OperatorRun, m: number) =>
  run.result.byVerb
    .filter(([, v]) => v >= m / 100)
    .map(([k, v]) => `${k} ${perMachine(v, m)}`)
    .join(", ")

/** The operator and the floor in memory at one size. */
const inMemoryAt = async (size: number) => {
  const machines = benchMachines("bench", size, "remote-a")
  progress(`in memory, ${int(size)} Machines: operator …`)
  const op = await Effect.runPromise(operatorInMemory(machines))
  row(
    `operator, in memory, ${int(size)} Machines (4 workers)`,
    op.converged
      ? `${seconds(op.result.ms)} (CPU ${seconds(op.cpuMs)}); ${int(op.result.requests)} API requests (${int(op.result.writes)} writes), ${perMachine(op.result.requests, size)} per Machine; ${perMachine(op.reconciles, size)} reconciles per Machine`
      : `NOT converged; ${int(op.result.requests)} requests (${int(op.result.writes)} writes)`
  )
  row(
    `full resync of the ${int(size)} converged Machines, in memory`,
    `${int(op.resync.requests)} API requests, ${int(op.resync.writes)} writes; ${int(op.resync.reconciles)} reconciles in ${seconds(op.resync.ms)}`
  )
  note(`  in memory, ${int(size)} Machines, requests per Machine by verb and kind: ${byVerb(op, size)}`)
  note(
    `  in memory, ${int(size)} Machines: events dropped ${op.eventsDropped}; cached objects: ${op.cacheObjects.join(", ")}`
  )
  progress(`in memory, ${int(size)} Machines: floor …`)
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
    `floor, in memory, ${int(size)} Machines: bare client, same writes`,
    `${seconds(floor.ms)} (CPU ${seconds(floor.cpuMs)}); ${int(floor.requests)} API requests (${int(floor.writes)} writes)`
  )
  return { op, floor, size }
}

const small = await inMemoryAt(n)
if (large > 0) {
  const big = await inMemoryAt(large)
  const ratio = (a: number, b: number) => `${(b / a).toFixed(2)}x`
  const per = (x: number, m: number) => x / m
  row(
    `per Machine, ${int(n)} → ${int(large)} in memory (flat = 1.00x)`,
    `time ${(per(small.op.result.ms, n)).toFixed(2)} → ${(per(big.op.result.ms, large)).toFixed(2)} ms (${ratio(per(small.op.result.ms, n), per(big.op.result.ms, large))}); CPU ${(per(small.op.cpuMs, n)).toFixed(2)} → ${(per(big.op.cpuMs, large)).toFixed(2)} ms (${ratio(per(small.op.cpuMs, n), per(big.op.cpuMs, large))}); requests ${perMachine(small.op.result.requests, n)} → ${perMachine(big.op.result.requests, large)} (${ratio(per(small.op.result.requests, n), per(big.op.result.requests, large))}); floor ${(per(small.floor.ms, n)).toFixed(2)} → ${(per(big.floor.ms, large)).toFixed(2)} ms`
  )
}

progress(`in memory with the KubeVirt stand-in, ${int(n)} Machines …`)
const running = await Effect.runPromise(operatorInMemory(benchMachines("bench", n, "remote-a"), { standIn: true }))
row(
  `in memory with the KubeVirt stand-in, ${int(n)} Machines created at once: VMI Running → Machine Running`,
  running.converged
    ? `p50 ${int(percentile(running.runningLag, 50))} ms, p95 ${int(percentile(running.runningLag, 95))} ms, max ${int(percentile(running.runningLag, 100))} ms (${int(running.runningLag.length)} Machines; all Running after ${seconds(running.result.ms)})`
    : "NOT all Running"
)

if (real) {
  progress("real apiservers: starting two kube-apiservers …")
  await realBench({ machines: n, rssMachines, convergeTimeoutMs: 480_000, skipRss: !rss, rssWindowMs: 120_000, note })
} else {
  row("real apiservers", "skipped (BENCH_REAL=0)")
}

console.log("")
for (const line of notes) console.log(line.trimStart())
console.log(`(whole benchmark: ${seconds(performance.now() - benchStarted)})`)
