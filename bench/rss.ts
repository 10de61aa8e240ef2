/**
 * Child process of bench/operator.bench.ts: runs the operator (`liveProgram`, as `run` does in a pod: in-cluster
 * credentials from $RSS_SERVICE_ACCOUNT_DIR and KUBERNETES_SERVICE_HOST/PORT, metrics, health server, 4 workers, no
 * leader election), waits until /readyz answers 200 and every remote cache has listed (everything is cached), samples
 * its own RSS and the heap its cached objects take by kind, then keeps sampling while it reconciles every Machine
 * (until the work queue is drained and writes stop, or $RSS_WINDOW_MS after ready), and prints one JSON line prefixed
 * `RSS_RESULT `. Its RSS is the operator's own. Not a test.
 */
import { registerHooks } from "node:module"
import { getHeapSpaceStatistics } from "node:v8"
import { Effect, Fiber } from "effect"
import { defaultSettings } from "../src/domain/Settings.ts"
import type { WatchCaches } from "../src/effects/cache/WatchCaches.ts"
import { liveProgram } from "../src/runtime/runLive.ts"
import { mib, procMemory, sleep } from "./common.ts"

// Whether @kubernetes/client-node or undici is ever loaded (neither may be, on the in-cluster path without a proxy):
// undici from node_modules, or Node's own copy (process.moduleLoadList), which an ES import of node:http would load.
let clientNodeLoaded = false
let undiciLoaded = false
registerHooks({
  load(url, context, nextLoad) {
    if (url.includes("@kubernetes/client-node")) clientNodeLoaded = true
    if (url.includes("/node_modules/undici/")) undiciLoaded = true
    return nextLoad(url, context)
  }
})

const serviceAccountDir = process.env.RSS_SERVICE_ACCOUNT_DIR
if (serviceAccountDir === undefined) throw new Error("RSS_SERVICE_ACCOUNT_DIR is required")
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
let caches: WatchCaches | undefined
const fiber = Effect.runFork(
  liveProgram({
    settings: defaultSettings,
    kubeconfigPath: undefined,
    serviceAccountDir,
    operator: {
      onCaches: (c) => {
        caches = c
      }
    },
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

/**
 * GET on the operator's health server through node:http, not `fetch`: the first use of `fetch` loads Node's own undici
 * (about 17 MiB of RSS), which the operator never does, so the figures would not be the operator's.
 */
const get = (url: string) =>
  new Promise<{ readonly status: number; readonly text: string }>((resolve, reject) => {
    process
      .getBuiltinModule("node:http")
      .get(url, (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => {
          text += c
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
        res.on("error", reject)
      })
      .on("error", reject)
  })

const remotesSynced = () => {
  const names = (caches?.names() ?? []).filter((c) => c !== "supervisor")
  return names.length > 0 && names.every((c) => caches?.find(c)?.hasSynced() === true)
}
for (;;) {
  const res = await get(`${base}/readyz`).catch(() => undefined)
  if (res?.status === 200 && remotesSynced()) break
  if (performance.now() - started > timeoutMs) throw new Error("operator not ready in time")
  await sleep(50)
}
const readyMs = performance.now() - started
const atReady = process.memoryUsage()
/** V8's heap spaces at ready, committed (physical) MiB each: where the heap's share of the RSS sits. */
const spacesAtReady = getHeapSpaceStatistics()
  .map((sp) => `${sp.space_name} ${(sp.physical_space_size / 2 ** 20).toFixed(1)}`)
  .join(", ")
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
/** The RSS right after that full GC: what V8 gives back once the initial lists' garbage is collected. */
const rssAfterGcAtReady = process.memoryUsage().rss

/** The heap each kind's cached objects take as held (JSON strings, StoredObject.ts), measured as the retained size of a deep copy. */
const heapByKind = () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return "(needs --expose-gc)"
  return (caches?.names() ?? [])
    .flatMap((cluster) =>
      (caches?.find(cluster)?.all() ?? []).map((cache) => {
        const objects = [...cache.stored()]
        gc()
        const before = process.memoryUsage().heapUsed
        const copy = structuredClone(objects)
        gc()
        const bytes = process.memoryUsage().heapUsed - before
        const kept = copy.length
        return { what: `${cluster} ${cache.kind.kind}${cache.namespace ? ` in ${cache.namespace}` : ""}`, kept, bytes }
      })
    )
    .filter((k) => k.kept > 0)
    .map((k) => `${k.what}: ${k.kept} objects, ${mib(k.bytes)} (${Math.round(k.bytes / k.kept)} B each)`)
    .join("; ")
}

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
  const { text } = await get(`${base}/metrics`)
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
// Measured last: the copies it makes must not count in the peak.
const byKind = heapByKind()
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
    rssAfterGcAtReady,
    retainedEnd,
    rssAtReady: atReady.rss,
    heapUsedAtReady: atReady.heapUsed,
    heapTotalAtReady: atReady.heapTotal,
    externalAtReady: atReady.external,
    spacesAtReady,
    hwmAtReady: procAtReady?.hwm ?? Number.NaN,
    maxRss: Math.max(maxRss, end.rss),
    rssEnd: end.rss,
    hwm: procEnd?.hwm ?? Number.NaN,
    drained,
    drainedMs,
    reconciles,
    writes,
    heapByKind: byKind,
    clientNodeLoaded,
    undiciLoaded:
      undiciLoaded ||
      (process as unknown as { moduleLoadList: ReadonlyArray<string> }).moduleLoadList.some((m) =>
        m.includes("internal/deps/undici")
      )
  })}`
)
process.exit(0)
