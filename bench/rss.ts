/**
 * Child process of bench/operator.bench.ts: runs the operator (`liveProgram`, as `run` does: metrics, health server,
 * 4 workers, no leader election) against the supervisor in $RSS_KUBECONFIG, waits until /readyz answers 200 (the
 * Machine and KubevirtConfig caches have synced), samples its own RSS, then keeps sampling while it reconciles every
 * Machine (until the work queue is drained and writes stop, or $RSS_WINDOW_MS after ready), and prints one JSON line
 * prefixed `RSS_RESULT `. Its RSS is the operator's own. Not a test.
 */
import { Effect, Fiber } from "effect"
import { defaultSettings } from "../src/domain/Settings.ts"
import { liveProgram } from "../src/runtime/runLive.ts"
import { procMemory, sleep } from "./common.ts"

const kubeconfig = process.env.RSS_KUBECONFIG
if (kubeconfig === undefined) throw new Error("RSS_KUBECONFIG is required")
const expect = Number(process.env.RSS_EXPECT_MACHINES ?? 0)
const timeoutMs = Number(process.env.RSS_TIMEOUT_MS ?? 180_000)
const windowMs = Number(process.env.RSS_WINDOW_MS ?? 60_000)

const baseline = process.memoryUsage().rss
let maxRss = baseline
const sampler = setInterval(() => {
  maxRss = Math.max(maxRss, process.memoryUsage().rss)
}, 50)

let resolvePort: (p: number) => void = () => {}
const port = new Promise<number>((r) => {
  resolvePort = r
})
const started = performance.now()
const fiber = Effect.runFork(
  liveProgram({
    settings: defaultSettings,
    kubeconfigPath: kubeconfig,
    allowExecAuth: false,
    allowInsecureRemotes: false,
    leaderElect: false,
    leaseNamespace: "default",
    leaseName: "kubevirt-operator-leader",
    healthBindAddress: "127.0.0.1:0",
    workers: 4,
    resyncSeconds: 600,
    logLevel: "Error",
    logJson: true,
    onListening: resolvePort
  })
)
const base = `http://127.0.0.1:${await port}`

for (;;) {
  const res = await fetch(`${base}/readyz`).catch(() => undefined)
  if (res?.status === 200) break
  if (performance.now() - started > timeoutMs) throw new Error("operator not ready in time")
  await sleep(50)
}
const readyMs = performance.now() - started
const atReady = process.memoryUsage()
const procAtReady = procMemory("self")
maxRss = Math.max(maxRss, atReady.rss)
/** heapUsed after a full GC (the parent starts this child with --expose-gc): what is retained, not garbage. */
const retainedHeap = () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return Number.NaN
  gc()
  return process.memoryUsage().heapUsed
}
const retainedAtReady = retainedHeap()

const sum = (text: string, metric: string, filter: (line: string) => boolean = () => true) =>
  text
    .split("\n")
    .filter((l) => l.startsWith(metric) && filter(l))
    .reduce((s, l) => s + Number(l.split(" ").at(-1)), 0)

let drained = false
let drainedMs = Number.NaN
let reconciles = 0
let writes = 0
let lastWrites = -1
let lastChange = performance.now()
for (;;) {
  await sleep(250)
  const text = await (await fetch(`${base}/metrics`)).text()
  reconciles = sum(text, "kubevirt_operator_reconcile_total{")
  writes = sum(text, "kubevirt_operator_api_requests_total{", (l) =>
    ["create", "patch", "apply", "delete", "updateStatus"].some((v) => l.includes(`verb="${v}"`))
  )
  const depth = sum(text, "kubevirt_operator_workqueue_depth ")
  const now = performance.now()
  if (writes !== lastWrites) {
    lastWrites = writes
    lastChange = now
  }
  if (reconciles >= expect && depth === 0 && now - lastChange >= 2000) {
    drained = true
    drainedMs = lastChange - started
    break
  }
  if (now - started - readyMs > windowMs) break
}
clearInterval(sampler)
const end = process.memoryUsage()
const procEnd = procMemory("self")
const retainedEnd = retainedHeap()
await Effect.runPromise(Fiber.interrupt(fiber))
console.log(
  `RSS_RESULT ${JSON.stringify({
    machines: expect,
    baselineRss: baseline,
    readyMs,
    windowMs,
    heapUsedEnd: end.heapUsed,
    heapTotalEnd: end.heapTotal,
    externalEnd: end.external,
    arrayBuffersEnd: end.arrayBuffers,
    retainedAtReady,
    retainedEnd,
    rssAtReady: atReady.rss,
    heapUsedAtReady: atReady.heapUsed,
    hwmAtReady: procAtReady?.hwm ?? Number.NaN,
    maxRss: Math.max(maxRss, end.rss),
    rssEnd: end.rss,
    hwm: procEnd?.hwm ?? Number.NaN,
    drained,
    drainedMs,
    reconciles,
    writes
  })}`
)
process.exit(0)
