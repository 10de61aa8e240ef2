/**
 * The operator process against live clusters: supervisor client (kubeconfig file or in-cluster), remote clients from
 * KubevirtConfigs, metrics, the health server on every replica, leader election, JSON logs, and shutdown on SIGTERM
 * that stops the loop, abandons in-flight reconciles at their next step (every executor is idempotent, so the next
 * leader redoes safely) and releases the Lease. Runtime layer.
 */
import { Cause, Effect, Layer, Logger, References, Result } from "effect"
import type { ProviderSettings } from "../domain/MachineProvider.ts"
import type { Settings } from "../domain/Settings.ts"
import { Remotes, Supervisor } from "../effects/Clusters.ts"
import { EventRecorder } from "../effects/EventRecorder.ts"
import { IsoSizeProbe, probeIsoSize } from "../effects/isoSizeProbe.ts"
import {
  makeLiveApiFromKubeconfigFile,
  makeLiveApiInCluster,
  type RateLimit,
  rateLimited
} from "../effects/kube/clients.ts"
import { makeCacheReadiness } from "./cacheReadiness.ts"
import { type DecisionTraceOptions, decisionTracesLayer } from "./decisionTraces.ts"
import { HealthServer, parseBindAddress } from "./HealthServer.ts"
import { defaultIdentity, LeaderElection } from "./LeaderElection.ts"
import { instrumentKubeApi, Metrics } from "./Metrics.ts"
import { type OperatorOptions, runOperator } from "./Operator.ts"
import { checkSupervisorCrds, supervisorCrdsCheck } from "./supervisorCrds.ts"
import { tracingLayer } from "./tracing.ts"

export interface LiveRunOptions {
  readonly settings: Settings
  /** Supervisor kubeconfig path; undefined: in-cluster service account. */
  readonly kubeconfigPath: string | undefined
  readonly allowExecAuth: boolean
  /** Permit remote kubeconfigs with `http://` servers or `insecure-skip-tls-verify`. */
  readonly allowInsecureRemotes: boolean
  /** Size installer ISOs by an HTTP HEAD from the operator (ADR 0010); off by default. */
  readonly isoSizeProbe?: boolean | undefined
  readonly leaderElect: boolean
  readonly leaseNamespace: string
  readonly leaseName: string
  readonly healthBindAddress: string
  readonly workers: number
  readonly resyncSeconds: number
  /** Requests per second and burst to each remote cluster (`--remote-qps`, `--remote-burst`). Default `REMOTE_RATE`. */
  readonly remoteRate?: RateLimit | undefined
  readonly logLevel: "Debug" | "Info" | "Warn" | "Error"
  readonly logJson: boolean
  /**
   * The MachineProvider to register and keep (`NAME_MACHINE_PROVIDER`, `VITISTACK_NAME`, `MACHINE_PROVIDER_REGION`);
   * omitted: none (ADR 0012).
   */
  readonly provider?: ProviderSettings | undefined
  /** Time between two health probes of a remote cluster and two MachineProvider checks; default 30 s (tests shorten it). */
  readonly healthIntervalSeconds?: number | undefined
  /** With no kubeconfig: where the service account is mounted (the benchmark runs the in-cluster path this way). */
  readonly serviceAccountDir?: string | undefined
  /** Passed to the operator loop (the benchmark: the caches, to report what they hold; an on-demand resync). */
  readonly operator?: Pick<OperatorOptions, "onCaches" | "resyncNow" | "cacheStaleAfter"> | undefined
  /** Told the health server's bound port once it listens (useful with port 0). */
  readonly onListening?: ((port: number) => void) | undefined
  /** Record decision traces (`DECISION_TRACE`, ADR 0015); omitted: none. */
  readonly decisionTrace?: DecisionTraceOptions | undefined
  /**
   * The environment OTLP span export is configured from (`OTEL_EXPORTER_OTLP_ENDPOINT` and the other standard
   * variables, `tracing.ts`, ADR 0016); omitted or without an endpoint: no export.
   */
  readonly otelEnv?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * The default token bucket of each remote client (ADR 0017). A kube-apiserver with priority and fairness answers 429
 * only once a flow's queues are full (6 queues of 50 requests by default); 4 workers and the event writer cannot
 * fill them, and a bulk create of 1,000 Machines sends about 170 requests a second to the remote on the dev machine.
 * The bucket bounds a storm, not normal work.
 */
export const REMOTE_RATE: RateLimit = { qps: 200, burst: 400 }

/** The operator program; runs until interrupted or leadership is lost. */
export const liveProgram = (options: LiveRunOptions) => {
  const tracing = options.otelEnv === undefined ? undefined : tracingLayer(options.otelEnv)
  const program = programOf(options)
  return tracing === undefined ? program : program.pipe(Effect.provide(tracing))
}

const programOf = (options: LiveRunOptions) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    // The operator's own kubeconfig is trusted configuration: certificate and token file references are fine.
    const supervisorApi = yield* options.kubeconfigPath === undefined
      ? makeLiveApiInCluster(
          options.serviceAccountDir === undefined ? {} : { serviceAccountDir: options.serviceAccountDir }
        )
      : makeLiveApiFromKubeconfigFile(options.kubeconfigPath, { allowExecAuth: options.allowExecAuth })
    const supervisor = instrumentKubeApi(supervisorApi, "supervisor", metrics)
    // Readiness follows the caches a replica runs, not its role: a standby (no caches) is ready (ADR 0004 §6).
    const caches = makeCacheReadiness()
    const clusters = Layer.provideMerge(
      Layer.merge(
        EventRecorder.layerAsync({ onDropped: (reason) => metrics.eventsDropped.incUnsafe({ reason }) }),
        Remotes.layerFromKubevirtConfigs({
          cache: "untilInvalidated",
          allowExecAuth: options.allowExecAuth,
          allowInsecure: options.allowInsecureRemotes,
          wrap: (cluster, api) =>
            instrumentKubeApi(rateLimited(api, options.remoteRate ?? REMOTE_RATE), cluster, metrics)
        })
      ),
      Supervisor.layer(supervisor)
    )
    const bind = parseBindAddress(options.healthBindAddress)
    if (Result.isFailure(bind)) return yield* bind.failure
    const health = HealthServer.layer({
      ...bind.success,
      readiness: [supervisorCrdsCheck(supervisor), caches.check]
    })
    const operator = runOperator({
      ...options.operator,
      settings: options.settings,
      provider:
        options.provider === undefined
          ? undefined
          : { settings: options.provider, interval: `${options.healthIntervalSeconds ?? 30} seconds` },
      healthInterval: `${options.healthIntervalSeconds ?? 30} seconds`,
      workers: options.workers,
      resync: `${options.resyncSeconds} seconds`,
      onSynced: caches.synced,
      onCacheRead: (cluster, kind, result) => metrics.cacheReads.incUnsafe({ cluster, kind, result }),
      onMachinePhase: (before, after) => {
        if (before !== undefined) metrics.machines.decUnsafe({ phase: before })
        if (after !== undefined) metrics.machines.incUnsafe({ phase: after })
      },
      queueHooks: {
        onAdd: () => metrics.workqueueAdds.incUnsafe(),
        onRetry: () => metrics.workqueueRetries.incUnsafe(),
        onDepth: (d) => metrics.workqueueDepth.setUnsafe(d),
        onLatency: (s) => metrics.workqueueLatency.observeUnsafe(s)
      },
      onReconciled: (_key, report, seconds) =>
        Effect.gen(function* () {
          const result =
            report.outcome._tag === "Done" ? "success" : report.outcome._tag === "Requeue" ? "requeue" : "error"
          yield* metrics.reconciles.inc({ result })
          yield* metrics.reconcileDuration.observe({ result }, seconds)
          if (report.outcome._tag === "Backoff" || report.outcome._tag === "AwaitChange")
            yield* metrics.reconcileErrors.inc({ reason: report.outcome.reason })
          for (const a of report.result?.executed ?? [])
            yield* metrics.actions.inc({ action: a._tag, outcome: "success" })
          if (report.result?.failed !== undefined)
            yield* metrics.actions.inc({ action: report.result.failed.action._tag, outcome: "failure" })
        })
    })
    const traced =
      options.decisionTrace === undefined
        ? operator
        : operator.pipe(Effect.provide(decisionTracesLayer(options.decisionTrace)))
    const leading = options.leaderElect
      ? Effect.flatMap(LeaderElection, (elector) => elector.run(caches.track(traced))).pipe(
          Effect.provide(
            LeaderElection.layer({
              lease: { namespace: options.leaseNamespace, name: options.leaseName },
              identity: yield* defaultIdentity
            })
          )
        )
      : caches.track(traced)
    yield* Effect.logInfo(
      `kubevirt-operator starting (leader election ${options.leaderElect ? "on" : "off"}, ${options.workers} workers)`
    )
    // Missing supervisor CRDs are a readiness failure, said once here too; never a reason to stop (W6).
    yield* checkSupervisorCrds(supervisor).pipe(Effect.catch((reason) => Effect.logWarning(`not ready: ${reason}`)))
    const program = Effect.flatMap(HealthServer, (bound) => {
      options.onListening?.(bound.port)
      return leading
    })
    return yield* program.pipe(Effect.provide(Layer.merge(clusters, health)))
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        Metrics.layer,
        Layer.succeed(IsoSizeProbe, options.isoSizeProbe === true ? (url: string) => probeIsoSize(url) : undefined),
        Layer.succeed(References.MinimumLogLevel, options.logLevel),
        Logger.layer([options.logJson ? Logger.consoleJson : Logger.consolePretty()])
      )
    )
  )

/**
 * Runs the program as the process: SIGTERM/SIGINT interrupt it (the Lease is released on the way out); exit code 0
 * after a clean stop, 1 when it failed (bad kubeconfig, port in use, leadership lost).
 */
export const runLiveProcess = (options: LiveRunOptions, shutdownDeadlineMs = 25_000): Promise<number> =>
  new Promise((resolve) => {
    const fiber = Effect.runFork(liveProgram(options))
    let stopping = false
    const stop = () => {
      if (stopping) return
      stopping = true
      fiber.interruptUnsafe()
      // Past the deadline, leave anyway: Kubernetes sends SIGKILL after the grace period.
      setTimeout(() => resolve(1), shutdownDeadlineMs).unref()
    }
    process.once("SIGTERM", stop)
    process.once("SIGINT", stop)
    fiber.addObserver((exit) => {
      process.off("SIGTERM", stop)
      process.off("SIGINT", stop)
      if (exit._tag === "Success" || stopping) resolve(0)
      else {
        const error = Cause.squash(exit.cause)
        process.stderr.write(`kubevirt-operator stopped: ${error instanceof Error ? error.message : String(error)}\n`)
        resolve(1)
      }
    })
  })
