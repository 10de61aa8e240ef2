/**
 * The real-apiserver half of the operator benchmark: two kube-apiservers from the test harness, the operator run
 * in-process through `startOperator` (restricted identity, 4 workers) until the bench Machines are converged, a full
 * resync of them, the floor (a bare client doing the same writes with the same identity), a bulk create with the
 * KubeVirt stand-in (VMI Running → Machine Running), and the RSS of the operator holding 10,000 Machines, measured in
 * a child process (bench/rss.ts) run as in a pod: in-cluster credentials, no client-node, the image's V8 flags.
 * Not a test.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Fiber, Queue, References, Stream } from "effect"
import { bundle } from "../scripts/image/bundle.ts"
import { IMAGE_NODE_ARGS, IMAGE_NODE_FLAGS } from "../scripts/image/nodeFlags.ts"
import type { KubeObject } from "../src/domain/KubeObject.ts"
import { FINALIZER, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../src/domain/labels.ts"
import { Kinds, refOf } from "../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../src/effects/KubeApi.ts"
import type { KubeVerb } from "../src/effects/KubeApiError.ts"
import { runKubevirtStandIn } from "../src/runtime/standin/KubevirtStandIn.ts"
import { type ClusterContext, type Environment, startEnvironment } from "../test/harness/environment.ts"
import {
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  type RunningOperator,
  run,
  startOperator,
  upsert
} from "../test/integration/operatorEnv.ts"
import {
  type BenchMachine,
  benchMachines,
  benchNamespaces,
  int,
  keyOf,
  mib,
  pool,
  procMemory,
  row,
  seconds,
  sleep
} from "./common.ts"
import { floorWrites, percentile } from "./inMemory.ts"

const CONFIG = "remote-a"
/** Microseconds of `process.cpuUsage` as milliseconds of CPU (user and system). */
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000

/**
 * Burns `fraction` of one core on this process's event loop (a busy loop in slices of at most 5 ms, paced to the
 * wall clock), `totalMs` at most, until the returned function is called: the operator's own CPU, without the operator
 * (BENCH_FLOOR_BURN). On the event loop, as the operator's CPU is on its own: it delays the client's own responses too.
 */
const burnBeside = (fraction: number, totalMs: number) => {
  const started = performance.now()
  let burned = 0
  const timer = setInterval(() => {
    const owed = Math.min(5, fraction * (performance.now() - started) - burned, totalMs - burned)
    const from = performance.now()
    while (performance.now() - from < owed) {}
    burned += Math.max(0, performance.now() - from)
  }, 2)
  return () => {
    clearInterval(timer)
    return burned
  }
}

/** Written by the floor if the operator run left no status to copy (it did not converge). */
const fallbackStatus = { phase: "Creating", message: "creating remote objects" }
const WRITES: ReadonlyArray<string> = ["create", "patch", "apply", "delete", "updateStatus"]

/** `kubevirt_operator_api_requests_total` lines as [cluster, verb, code, count]. */
const requestSeries = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("kubevirt_operator_api_requests_total{"))
    .map((l) => {
      const label = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(l)?.[1] ?? ""
      return [label("cluster"), label("verb"), label("code"), Number(l.split(" ").at(-1))] as const
    })

const summarise = (series: ReturnType<typeof requestSeries>) => {
  const total = series.reduce((s, x) => s + x[3], 0)
  const writes = series.filter((x) => WRITES.includes(x[1])).reduce((s, x) => s + x[3], 0)
  const byVerb = new Map<string, number>()
  for (const [cluster, verb, code, n] of series) {
    const k = `${cluster} ${verb}${code.startsWith("2") ? "" : ` ${code}`}`
    byVerb.set(k, (byVerb.get(k) ?? 0) + n)
  }
  return { total, writes, byVerb: [...byVerb].sort((a, b) => b[1] - a[1]) }
}

/** A KubeApiService that counts the requests it passes on (for the floor). */
const counting = (api: KubeApiService) => {
  const counts = new Map<KubeVerb, number>()
  const counted =
    <Args extends ReadonlyArray<unknown>, A, E>(verb: KubeVerb, call: (...args: Args) => Effect.Effect<A, E>) =>
    (...args: Args) =>
      Effect.suspend(() => {
        counts.set(verb, (counts.get(verb) ?? 0) + 1)
        return call(...args)
      })
  const wrapped: KubeApiService = {
    get: counted("get", api.get),
    list: counted("list", api.list),
    create: counted("create", api.create),
    patch: counted("patch", api.patch),
    apply: counted("apply", api.apply),
    delete: counted("delete", api.delete),
    updateStatus: counted("updateStatus", api.updateStatus),
    discover: counted("discover", api.discover),
    watch: (...args) => {
      counts.set("watch", (counts.get("watch") ?? 0) + 1)
      return api.watch(...args)
    }
  }
  return { api: wrapped, counts }
}

const namespace = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })

/** Creates the Machines (and their namespaces) with the admin client, `concurrency` at a time. */
export const createMachines = async (
  admin: KubeApiService,
  prefix: string,
  machines: ReadonlyArray<BenchMachine>,
  concurrency: number
) => {
  for (const n of benchNamespaces(prefix)) await upsert(admin, namespace(n))
  const started = performance.now()
  await pool(machines, concurrency, (b) =>
    run(admin.create(refOf("Machine", b.name, b.namespace), structuredClone(b.object)))
  )
  return performance.now() - started
}

/** Every bench Machine has its finalizer and a status; its VM and PVCs exist on the remote. */
const convergedLive = async (
  supervisor: KubeApiService,
  remote: KubeApiService,
  machines: ReadonlyArray<BenchMachine>,
  finalizer = FINALIZER
) => {
  const selector = { labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } }
  const [onSupervisor, vms, pvcs] = await Promise.all([
    run(supervisor.list(Kinds.Machine)),
    run(remote.list(Kinds.VirtualMachine, selector)),
    run(remote.list(Kinds.PersistentVolumeClaim, selector))
  ])
  const byKey = new Map(onSupervisor.items.map((m) => [keyOf(m), m]))
  const vmKeys = new Set(vms.items.map(keyOf))
  const pvcKeys = new Set(pvcs.items.map(keyOf))
  const missing = machines.filter((b) => {
    const m = byKey.get(`${b.namespace}/${b.name}`)
    return !(
      m !== undefined &&
      (m.metadata.finalizers ?? []).includes(finalizer) &&
      (m.status as { phase?: string } | undefined)?.phase !== undefined &&
      vmKeys.has(keyOf(b.vm)) &&
      b.pvcs.every((p) => pvcKeys.has(keyOf(p)))
    )
  })
  return { missing: missing.length, byKey }
}

/** Writes other than Event creates (the supervisor's only creates): the Machines' and the remote's state. */
const stateWrites = (series: ReturnType<typeof requestSeries>) =>
  series
    .filter(([cluster, verb]) => WRITES.includes(verb) && !(cluster === "supervisor" && verb === "create"))
    .reduce((sum, x) => sum + x[3], 0)

/**
 * Polls the operator's write counters every 250 ms; once they have not moved for `quietMs`, checks the state with the
 * admin clients. Returns the time of the last write and of the last write that was not an Event (when the state the
 * check reads was complete; to the poll), or undefined after `timeoutMs`. Nothing else runs in the operator's process
 * meanwhile (no watches of the harness's own).
 */
const awaitConvergence = async (
  op: RunningOperator,
  started: number,
  check: () => Promise<{ readonly missing: number }>,
  quietMs: number,
  timeoutMs: number,
  progress: (line: string) => void
) => {
  let lastWrites = -1
  let lastWriteAt = started
  let lastState = -1
  let lastStateAt = started
  const cpuAtStart = process.cpuUsage()
  let cpuAtLastState = cpuAtStart
  let firstWriteAt: number | undefined
  let lastReport = started
  let missing = Number.NaN
  for (;;) {
    await sleep(250)
    const now = performance.now()
    const series = await op
      .metrics()
      .then(requestSeries)
      .catch(() => undefined)
    const writes = series === undefined ? lastWrites : summarise(series).writes
    const state = series === undefined ? lastState : stateWrites(series)
    if (state !== lastState) {
      lastState = state
      lastStateAt = now
      cpuAtLastState = process.cpuUsage()
    }
    if (firstWriteAt === undefined && writes > 0) firstWriteAt = now
    if (writes !== lastWrites) {
      lastWrites = writes
      lastWriteAt = now
    } else if (now - lastWriteAt >= quietMs) {
      missing = (await check()).missing
      if (missing === 0)
        return {
          lastWriteMs: lastWriteAt - started,
          stateMs: lastStateAt - started,
          stateCpuMs: cpuMs(process.cpuUsage(cpuAtStart)) - cpuMs(process.cpuUsage(cpuAtLastState)),
          firstWriteMs: (firstWriteAt ?? started) - started
        }
      lastWriteAt = performance.now() // not there yet: wait for another quiet window
    }
    if (now - lastReport > 15_000) {
      progress(
        `  … ${seconds(now - started)}: ${int(writes)} writes so far${Number.isNaN(missing) ? "" : `, ${missing} Machines not converged at last check`}`
      )
      lastReport = now
    }
    if (now - started > timeoutMs) return undefined
  }
}

export interface RealOptions {
  readonly machines: number
  readonly rssMachines: number
  readonly convergeTimeoutMs: number
  readonly skipRss: boolean
  /** How long the RSS child keeps sampling after it is ready, unless its queue drains first. */
  readonly rssWindowMs: number
  readonly note: (line: string) => void
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * bench/rss.ts bundled as the image bundles the operator (scripts/image/bundle.ts: one minified module), in a temporary
 * directory beside links to node_modules and package.json.
 */
const bundledRss = async () => {
  const root = mkdtempSync(join(tmpdir(), "kvo-js-"))
  await bundle(join(here, "rss.ts"), join(root, "bench", "rss.js"))
  symlinkSync(join(here, "..", "node_modules"), join(root, "node_modules"))
  symlinkSync(join(here, "..", "package.json"), join(root, "package.json"))
  return join(root, "bench", "rss.js")
}

/**
 * Runs bench/rss.ts (bundled as in the image, unless another script is given) as a child process, as the operator runs in a pod: in-cluster credentials (the operator's token
 * and the CA in a service-account directory, KUBERNETES_SERVICE_HOST/PORT), so client-node is not loaded, and the
 * image's V8 flags. Returns its JSON report.
 */
export const rssChild = async (
  cluster: ClusterContext,
  expectMachines: number,
  timeoutMs: number,
  windowMs: number,
  script?: string
) => {
  const path = script ?? (await bundledRss())
  return new Promise<Record<string, number | string | boolean>>((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "kvo-sa-"))
    writeFileSync(join(dir, "token"), cluster.operatorTokens.primary)
    writeFileSync(join(dir, "ca.crt"), readFileSync(cluster.caFile))
    const url = new URL(cluster.server)
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        ...IMAGE_NODE_FLAGS,
        ...IMAGE_NODE_ARGS,
        ...(process.env.RSS_EXTRA_FLAGS?.split(" ").filter((f) => f !== "") ?? []),
        path
      ],
      {
        env: {
          ...process.env,
          KUBERNETES_SERVICE_HOST: url.hostname,
          KUBERNETES_SERVICE_PORT: url.port,
          RSS_SERVICE_ACCOUNT_DIR: dir,
          RSS_EXPECT_MACHINES: String(expectMachines),
          RSS_TIMEOUT_MS: String(timeoutMs),
          RSS_WINDOW_MS: String(windowMs)
        },
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
    let out = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (d: string) => {
      out += d
    })
    child.on("error", reject)
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RSS_RESULT ")) ?? ""
      try {
        resolve(JSON.parse(line.slice("RSS_RESULT ".length)) as Record<string, number | string | boolean>)
      } catch {
        reject(new Error(`bench/rss.ts exited with code ${code}; output: ${out.slice(-2000)}`))
      }
    })
  })
}

/** The first time each object of `kind` is seen satisfying `when`, from a watch (admin client), by namespace/name. */
const firstSeen = (
  api: KubeApiService,
  kind: { readonly apiVersion: string; readonly kind: string },
  when: (o: KubeObject) => boolean
) => {
  const at = new Map<string, number>()
  const fiber = Effect.runFork(
    Effect.forever(
      api.watch(kind, { allowBookmarks: true, timeoutSeconds: 300 }).pipe(
        Stream.runForEach((e) =>
          Effect.sync(() => {
            const key = keyOf(e.object)
            if (!at.has(key) && e.type !== "DELETED" && e.type !== "BOOKMARK" && when(e.object))
              at.set(key, performance.now())
          })
        ),
        Effect.ignore
      )
    )
  )
  return { at, stop: () => run(Fiber.interrupt(fiber)) }
}

const phaseIs = (phase: string) => (o: KubeObject) => (o.status as { phase?: string } | undefined)?.phase === phase

/** Requests by verb, from the operator's metrics, per Machine. */
const perMachineByVerb = (s: ReturnType<typeof summarise>, n: number) =>
  s.byVerb
    .filter(([, v]) => v >= n / 100)
    .map(([k, v]) => `${k} ${(v / n).toFixed(1)}`)
    .join(", ")

export const realBench = async (options: RealOptions) => {
  const { note } = options
  const envStarted = performance.now()
  let env: Environment
  try {
    env = await startEnvironment()
  } catch (e) {
    row("real apiservers", `could not start: ${(e as Error).message.split("\n")[0]}`)
    return
  }
  note(`  (two kube-apiservers started in ${seconds(performance.now() - envStarted)})`)
  try {
    const ctx = env.context
    const supAdmin = await liveClient(ctx.supervisor.adminKubeconfig)
    const remAdmin = await liveClient(ctx.remote.adminKubeconfig)
    await installKubevirtConfig(supAdmin, CONFIG, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    const n = options.machines
    const machines = benchMachines("bench", n, CONFIG)
    const createMs = await createMachines(supAdmin, "bench", machines, 8)
    row(
      `create ${int(n)} Machines on the supervisor (admin client, 8 concurrent)`,
      `${seconds(createMs)} (${int((n / createMs) * 1000)} creates/s)`
    )

    // The floor: the same writes with the same identity, on fresh names, once before the operator and once after it
    // (the apiservers' speed drifts within a run; the two bracket it). The run before writes short statuses, and its
    // Machines are another provider's with another finalizer, so the operator leaves them alone (design 3.1).
    const floor = async (
      prefix: string,
      statusOf: (b: BenchMachine) => unknown,
      notOurs = false,
      withEvents = false,
      /** Also burn this fraction of a core beside the writes, this much CPU at most (BENCH_FLOOR_BURN). */
      burn?: { readonly fraction: number; readonly totalMs: number }
    ) => {
      const floorMachines = benchMachines(prefix, n, CONFIG).map((b) =>
        notOurs ? { ...b, object: { ...b.object, spec: { ...(b.object.spec as object), provider: "bench-floor" } } } : b
      )
      await createMachines(supAdmin, prefix, floorMachines, 8)
      const sup = counting(await liveClient(ctx.supervisor.operatorKubeconfig))
      const rem = counting(await liveClient(ctx.remote.operatorKubeconfig))
      const finalizer = notOurs ? "bench.vitistack.io/floor" : FINALIZER
      const stopBurning = burn === undefined ? undefined : burnBeside(burn.fraction, burn.totalMs)
      const cpuAtStart = process.cpuUsage()
      const floorStarted = performance.now()
      await run(
        floorWrites(sup.api, rem.api, benchNamespaces(prefix), floorMachines, statusOf, CONFIG, finalizer, withEvents)
      )
      const ms = performance.now() - floorStarted
      const cpu = cpuMs(process.cpuUsage(cpuAtStart))
      const burned = stopBurning?.() ?? 0
      const requests = [...sup.counts.values(), ...rem.counts.values()].reduce((a, b) => a + b, 0)
      return {
        ms,
        cpuMs: cpu - burned,
        burnedMs: burned,
        requests,
        missing: (await convergedLive(supAdmin, remAdmin, floorMachines, finalizer)).missing
      }
    }
    const floorBefore = await floor("floor0", () => fallbackStatus, true)

    // The operator, in-process, restricted identity.
    const started = performance.now()
    const resyncNow = await run(Queue.unbounded<void>())
    const op = startOperator(ctx.supervisor.operatorKubeconfig, { operator: { resyncNow } })
    let statuses = new Map<string, unknown>()
    let stateMs: number | undefined
    let stateCpuMs = 0
    let firstWriteMs = 0
    try {
      const ms = await awaitConvergence(
        op,
        started,
        async () => {
          const c = await convergedLive(supAdmin, remAdmin, machines)
          statuses = new Map([...c.byKey].map(([k, m]) => [k, m.status]))
          return c
        },
        1000,
        options.convergeTimeoutMs,
        note
      )
      const s = summarise(requestSeries(await op.metrics()))
      const reconciles = (text: string) =>
        text
          .split("\n")
          .filter((l) => l.startsWith("kubevirt_operator_reconcile_total{"))
          .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0)
      stateMs = ms?.stateMs
      stateCpuMs = ms?.stateCpuMs ?? 0
      firstWriteMs = ms?.firstWriteMs ?? 0
      if (ms === undefined) {
        row(
          `operator, real apiservers, ${int(n)} Machines`,
          `NOT converged after ${seconds(options.convergeTimeoutMs)}; ${int(s.total)} requests (${int(s.writes)} writes)`
        )
      } else {
        row(
          `operator, real apiservers, ${int(n)} Machines (4 workers)`,
          `converged at ${seconds(ms.stateMs)} (its last write other than an Event; the state then checked complete), ${seconds(ms.stateMs - ms.firstWriteMs)} after its first write (at ${seconds(ms.firstWriteMs)}: start, caches listed, remote checked); last write at ${seconds(ms.lastWriteMs)} (Events trail); ${int(s.total)} API requests (${int(s.writes)} writes), ${(s.total / n).toFixed(1)} per Machine`
        )
      }
      note(
        `  real apiservers, requests per Machine by cluster and verb (non-2xx codes shown): ${perMachineByVerb(s, n)}`
      )
      note(
        `  real apiservers, all requests: ${s.byVerb.map(([k, v]) => `${k} ${int(v)}`).join(", ")}; ${int(reconciles(await op.metrics()))} reconciles`
      )

      // A full resync of the converged fleet: every Machine reconciled once more.
      const metricsBefore = await op.metrics()
      const before = summarise(requestSeries(metricsBefore))
      const reconcilesBefore = reconciles(metricsBefore)
      const resyncStarted = performance.now()
      await run(Queue.offer(resyncNow, undefined))
      let resyncMs = Number.NaN
      while (performance.now() - resyncStarted < 120_000) {
        await sleep(100)
        if (reconciles(await op.metrics()) - reconcilesBefore >= n) {
          resyncMs = performance.now() - resyncStarted
          break
        }
      }
      await sleep(1000)
      const after = summarise(requestSeries(await op.metrics()))
      const delta = after.byVerb
        .map(([k, v]) => [k, v - (before.byVerb.find(([b]) => b === k)?.[1] ?? 0)] as const)
        .filter(([, v]) => v > 0)
      row(
        `full resync of the ${int(n)} converged Machines, real apiservers`,
        `${int(after.total - before.total)} API requests, ${int(after.writes - before.writes)} writes; every Machine reconciled in ${seconds(resyncMs)}`
      )
      note(
        `  real resync window requests (health probes included): ${delta.length === 0 ? "none" : delta.map(([k, v]) => `${k} ${v}`).join(", ")}`
      )
    } finally {
      await op.stop()
    }

    const floorAfter = await floor("floor", (b) => statuses.get(`bench-${b.index % 10}/${b.name}`) ?? fallbackStatus)
    const floors = [floorBefore, floorAfter]
    for (const [when, f] of [
      ["before", floorBefore],
      ["after", floorAfter]
    ] as const)
      row(
        `floor, real apiservers, ${when} the operator: bare client, same writes, 4 concurrent`,
        `${seconds(f.ms)}; ${int(f.requests)} API requests (${int(f.requests)} writes); this process's CPU ${seconds(f.cpuMs)} (${(f.cpuMs / n).toFixed(1)} ms per Machine)${f.missing === 0 ? "" : ` — ${f.missing} Machines incomplete!`}`
      )
    const floorMs = (floorBefore.ms + floorAfter.ms) / 2
    const floorCpuMs = (floorBefore.cpuMs + floorAfter.cpuMs) / 2
    if (stateMs !== undefined)
      row(
        "process CPU of the operator, real apiservers (until its last state write; the bench's polling of its metrics included)",
        `${seconds(stateCpuMs)} (${(stateCpuMs / n).toFixed(1)} ms per Machine), against the floors' ${(floorCpuMs / n).toFixed(1)} ms per Machine`
      )
    if (stateMs !== undefined)
      row(
        "operator against the floor, real apiservers (its convergence from its start / from its first write, against each floor run)",
        floors
          .map((f) => `${(stateMs! / f.ms).toFixed(2)}x / ${((stateMs! - firstWriteMs) / f.ms).toFixed(2)}x`)
          .join(", ")
      )
    // BENCH_FLOOR_EVENTS=1: a third floor that also writes the operator's one Event per Machine, beside its chain (off
    // by default: its Machines' VMs and claims would change what the RSS child below holds).
    if (process.env.BENCH_FLOOR_EVENTS === "1") {
      const withEvents = await floor(
        "floorev",
        (b) => statuses.get(`bench-${b.index % 10}/${b.name}`) ?? fallbackStatus,
        false,
        true
      )
      row(
        "floor, real apiservers, after the operator, with the operator's Events too: bare client, 4 concurrent",
        `${seconds(withEvents.ms)}; ${int(withEvents.requests)} API requests${withEvents.missing === 0 ? "" : ` — ${withEvents.missing} Machines incomplete!`}${stateMs === undefined ? "" : `; the operator ${(stateMs / withEvents.ms).toFixed(2)}x / ${((stateMs - firstWriteMs) / withEvents.ms).toFixed(2)}x of it`}`
      )
    }

    // BENCH_FLOOR_BURN=1: two more floors, the first with the CPU the operator took beyond a floor's burned beside it on
    // the same event loop (a busy loop, that total spread over a floor's time): how much of the operator's ratio is the
    // CPU it takes from the two cores the apiservers run on. Against the floors on either side of it, since the
    // apiservers slow as their stores grow. Off by default, as the Events floor above.
    if (process.env.BENCH_FLOOR_BURN === "1" && stateMs !== undefined) {
      const extraMs = Math.max(0, stateCpuMs - floorCpuMs)
      const fraction = Math.min(0.95, extraMs / floorMs)
      const statusOf = (b: BenchMachine) => statuses.get(`bench-${b.index % 10}/${b.name}`) ?? fallbackStatus
      const burned = await floor("floorburn", statusOf, false, false, { fraction, totalMs: extraMs })
      const plain = await floor("floorlast", statusOf)
      const around = (floorAfter.ms + plain.ms) / 2
      row(
        `floor with the operator's extra CPU burned beside it (${seconds(burned.burnedMs)} of its ${seconds(extraMs)}, paced at ${(fraction * 100).toFixed(0)} % of a core), real apiservers, between two plain floors`,
        `${seconds(burned.ms)}: ${(burned.ms / around).toFixed(2)}x the floors on either side (${seconds(floorAfter.ms)}, ${seconds(plain.ms)}), where the operator took ${(stateMs / floorMs).toFixed(2)}x the two around it${burned.missing + plain.missing === 0 ? "" : " — Machines incomplete!"}`
      )
    }

    // A bulk create with the KubeVirt stand-in making VMs run: how long after its VMI a Machine shows Running.
    await lagPhase(ctx, supAdmin, remAdmin, n, options)

    // RSS of the operator holding 10,000 Machines, in a child process.
    if (options.skipRss) {
      row("operator RSS with 10,000 Machines", "skipped (BENCH_RSS=0)")
      return
    }
    const present = (await run(supAdmin.list(Kinds.Machine))).items.length
    const extra = Math.max(0, options.rssMachines - present)
    const extraMachines = benchMachines("rss", extra, "no-such-config")
    const extraMs = await createMachines(supAdmin, "rss", extraMachines, 16)
    note(
      `  (created ${int(extra)} more Machines in ${seconds(extraMs)}, 16 concurrent, placed on KubevirtConfig 'no-such-config', which does not exist: ${int(present + extra)} Machines on the supervisor)`
    )
    const report = await rssChild(ctx.supervisor, present + extra, 240_000, options.rssWindowMs)
    const r = (k: string) => Number(report[k])
    row(
      `operator RSS holding ${int(r("machines"))} Machines, caches synced (child process, as in a pod)`,
      `${mib(r("rssAtReady"))} (ready ${seconds(r("readyMs"))} after start; Node before start ${mib(r("baselineRss"))})`
    )
    row(
      `operator peak RSS while reconciling them`,
      `${mib(r("hwm"))} VmHWM, ${int(r("reconciles"))} reconciles and ${int(r("writes"))} writes ${report.drained === true ? `until the queue drained (${seconds(r("drainedMs"))} after start)` : `in the ${seconds(r("windowMs"))} sampled after ready (queue not drained)`}`
    )
    note(
      `  RSS Machines: ${int(n)} converged, ${int(n)} from the floor run after the operator, ${int(n)} another provider's from the floor run before it (their VMs and PVCs ours by label, so cached), ${int(n)} Running from the stand-in run, ${int(extra)} on a missing KubevirtConfig; heapUsed at ready ${mib(r("heapUsedAtReady"))} (${mib(r("retainedAtReady"))} after a full GC), at the end ${mib(r("heapUsedEnd"))} (${mib(r("retainedEnd"))} after a full GC), heapTotal ${mib(r("heapTotalEnd"))}, external ${mib(r("externalEnd"))} (arrayBuffers ${mib(r("arrayBuffersEnd"))}); max sampled RSS ${mib(r("maxRss"))}, final ${mib(r("rssEnd"))}; @kubernetes/client-node loaded: ${report.clientNodeLoaded}, undici loaded: ${report.undiciLoaded}`
    )
    note(
      `  heap by object kind at the end (each kind's cached objects, measured as the retained size of a deep copy): ${report.heapByKind}`
    )
    const supMem = procMemory(env.clusters.supervisor.pid)
    const remMem = procMemory(env.clusters.remote.pid)
    if (supMem !== undefined && remMem !== undefined)
      row(
        "kcluster processes (etcd + kube-apiserver + KCM each), at the end",
        `supervisor RSS ${mib(supMem.rss)} (peak ${mib(supMem.hwm)}); remote RSS ${mib(remMem.rss)} (peak ${mib(remMem.hwm)})`
      )
  } finally {
    await env.stop()
  }
}

/**
 * The stand-in (admin rights on the remote) makes every VM run; the operator restarts (it lists the fleet again) and
 * `n` new Machines are created at once. For each new Machine: the time its VMI was first seen Running and the time
 * the Machine was first seen Running, from watches.
 */
const lagPhase = async (
  ctx: Environment["context"],
  supAdmin: KubeApiService,
  remAdmin: KubeApiService,
  n: number,
  options: RealOptions
) => {
  const standIn = Effect.runFork(
    runKubevirtStandIn(remAdmin, { step: "300 millis", concurrency: 32 }).pipe(
      Effect.provideService(References.MinimumLogLevel, "Error")
    )
  )
  const vmis = firstSeen(remAdmin, Kinds.VirtualMachineInstance, phaseIs("Running"))
  const machinesRunning = firstSeen(supAdmin, Kinds.Machine, phaseIs("Running"))
  const op = startOperator(ctx.supervisor.operatorKubeconfig)
  try {
    const lagMachines = benchMachines("lag", n, CONFIG)
    const started = performance.now()
    await createMachines(supAdmin, "lag", lagMachines, 16)
    const keys = lagMachines.map((b) => `${b.namespace}/${b.name}`)
    while (performance.now() - started < options.convergeTimeoutMs) {
      await sleep(500)
      if (keys.every((k) => machinesRunning.at.has(k))) break
    }
    const lags = keys
      .filter((k) => machinesRunning.at.has(k) && vmis.at.has(k))
      .map((k) => machinesRunning.at.get(k)! - vmis.at.get(k)!)
    row(
      `real apiservers with the KubeVirt stand-in, ${int(n)} Machines created at once (the other ${int(2 * n)} listed again): VMI Running → Machine Running`,
      `p50 ${int(percentile(lags, 50))} ms, p95 ${int(percentile(lags, 95))} ms, max ${int(percentile(lags, 100))} ms (${int(lags.length)} of ${int(n)} Machines Running after ${seconds(performance.now() - started)})`
    )
  } finally {
    await op.stop()
    await vmis.stop()
    await machinesRunning.stop()
    await run(Fiber.interrupt(standIn))
  }
}
