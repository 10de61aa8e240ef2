/**
 * The RSS part of the operator benchmark alone (a few minutes instead of ~8): two kube-apiservers, the operator
 * in-process with the KubeVirt stand-in converges $BENCH_MACHINES x 3 Machines (Running, as the full run leaves them),
 * $BENCH_RSS_MACHINES in all are created (the rest on a missing KubevirtConfig), then bench/rss.ts runs as a child
 * process as in a pod, once per script given on the command line (default bench/rss.ts; another worktree's
 * bench/rss.ts compares two trees on the same clusters). Before each child the extra Machines' statuses are cleared,
 * so every child has the same writes to do. RSS_EXTRA_FLAGS adds V8 flags to the child. Not a test.
 */
import { readdirSync, readFileSync, renameSync } from "node:fs"
import { join } from "node:path"
import { Effect, Fiber, References } from "effect"
import { Kinds, refOf } from "../src/domain/ObjectRef.ts"
import { runKubevirtStandIn } from "../src/runtime/standin/KubevirtStandIn.ts"
import { startEnvironment } from "../test/harness/environment.ts"
import {
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  run,
  startOperator
} from "../test/integration/operatorEnv.ts"
import { benchMachines, int, mib, pool, seconds, sleep } from "./common.ts"
import { createMachines, rssChild } from "./real.ts"

const converged = Number(process.env.BENCH_MACHINES ?? 1000) * 3
const total = Number(process.env.BENCH_RSS_MACHINES ?? 10_000)
const windowMs = Number(process.env.RSS_WINDOW_MS ?? 120_000)
const scripts = process.argv.slice(2)
const say = (line: string) => process.stderr.write(`${line}\n`)

const env = await startEnvironment()
try {
  const ctx = env.context
  const supAdmin = await liveClient(ctx.supervisor.adminKubeconfig)
  const remAdmin = await liveClient(ctx.remote.adminKubeconfig)
  await installKubevirtConfig(supAdmin, "remote-a", kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
  const standIn = Effect.runFork(
    runKubevirtStandIn(remAdmin, { step: "300 millis", concurrency: 32 }).pipe(
      Effect.provideService(References.MinimumLogLevel, "Error")
    )
  )
  const op = startOperator(ctx.supervisor.operatorKubeconfig)
  const started = performance.now()
  await createMachines(supAdmin, "bench", benchMachines("bench", converged, "remote-a"), 16)
  for (;;) {
    await sleep(2000)
    const running = (await run(supAdmin.list(Kinds.Machine))).items.filter(
      (m) => (m.status as { phase?: string } | undefined)?.phase === "Running"
    ).length
    say(`${int(running)} of ${int(converged)} Machines Running after ${seconds(performance.now() - started)}`)
    if (running >= converged || performance.now() - started > 600_000) break
  }
  await op.stop()
  await run(Fiber.interrupt(standIn))
  const extra = benchMachines("rss", Math.max(0, total - converged), "no-such-config")
  await createMachines(supAdmin, "rss", extra, 16)
  // RSS_QUEUE_DIR: after the given scripts, keep the clusters and run each `<dir>/*.req` (a script path) as it comes.
  const queue = process.env.RSS_QUEUE_DIR
  const next = async function* () {
    for (const s of scripts.length === 0 && queue === undefined ? [undefined] : scripts) yield s
    if (queue === undefined) return
    for (;;) {
      const req = readdirSync(queue).find((f) => f.endsWith(".req"))
      if (req === undefined) {
        await sleep(1000)
        continue
      }
      const script = readFileSync(join(queue, req), "utf8").trim()
      renameSync(join(queue, req), join(queue, `${req}.taken`))
      if (script === "stop") return
      yield script
    }
  }
  for await (const script of next()) {
    const withStatus = (await run(supAdmin.list(Kinds.Machine))).items.filter(
      (m) => m.metadata.namespace?.startsWith("rss-") === true && m.status !== undefined
    )
    await pool(withStatus, 16, (m) =>
      run(
        supAdmin
          .updateStatus(
            refOf("Machine", m.metadata.name, m.metadata.namespace),
            {},
            {
              resourceVersion: m.metadata.resourceVersion ?? ""
            }
          )
          .pipe(Effect.ignore)
      )
    )
    say(`cleared the status of ${int(withStatus.length)} Machines`)
    const r = await rssChild(ctx.supervisor, total, 240_000, windowMs, script)
    const n = (k: string) => Number(r[k])
    console.log(
      `${script ?? "bench/rss.ts"}: ready ${mib(n("rssAtReady"))} (before start ${mib(n("baselineRss"))}, ready after ${seconds(n("readyMs"))}); peak ${mib(n("hwm"))} VmHWM (max sampled ${mib(n("maxRss"))}), ${int(n("reconciles"))} reconciles, ${int(n("writes"))} writes, drained ${r.drained} ${seconds(n("drainedMs"))}; heapUsed at ready ${mib(n("heapUsedAtReady"))} (${mib(n("retainedAtReady"))} after GC), end ${mib(n("heapUsedEnd"))} (${mib(n("retainedEnd"))} after GC), heapTotal ${mib(n("heapTotalEnd"))}, external ${mib(n("externalEnd"))}; client-node ${r.clientNodeLoaded}, undici ${r.undiciLoaded}`
    )
    console.log(
      `  at ready: RSS after a full GC ${mib(n("rssAfterGcAtReady"))}, heapTotal ${mib(n("heapTotalAtReady"))}, external ${mib(n("externalAtReady"))}; V8 spaces (committed MiB): ${r.spacesAtReady}`
    )
    console.log(`  by kind: ${r.heapByKind}`)
  }
} finally {
  await env.stop()
}
