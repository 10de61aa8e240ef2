/**
 * The operator loop: informers feed Machine keys into the work queue; N workers reconcile them, never two on one key;
 * the outcome decides the requeue; a periodic resync is the safety net. Runtime layer.
 * Watches: Machines (status-only changes are ignored, so our own status writes do not wake us), KubevirtConfigs, the
 * Secrets they reference (only in their namespaces), the Secrets and ConfigMaps Machines take cloud-init from (only in
 * those Machines' namespaces; an event wakes the Machines naming the object, and no value is kept), NetworkNamespaces
 * and NetworkConfigurations (`vitistackWatches.ts`, into the cache reconciles read), and on every remote cluster the
 * watches the capabilities declare (`domain/remoteWatches.ts`), one informer each.
 */
import { Duration, Effect, FiberMap, Result, Schema } from "effect"
import { cloudInitReads } from "../domain/cloudInitPayload.ts"
import type { KubeObject } from "../domain/KubeObject.ts"
import { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import { PLACEMENT_ANNOTATION } from "../domain/labels.ts"
import { Machine } from "../domain/Machine.ts"
import { Kinds } from "../domain/ObjectRef.ts"
import type { PlacedMachines, RemoteWatch } from "../domain/RemoteWatch.ts"
import type { ReconcileOutcome } from "../domain/reconcileOutcome.ts"
import { REMOTE_WATCHES } from "../domain/remoteWatches.ts"
import type { Settings } from "../domain/Settings.ts"
import { Remotes, Supervisor } from "../effects/Clusters.ts"
import type { EventRecorder } from "../effects/EventRecorder.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import { NetworkCache, NetworkCacheStore } from "../effects/NetworkCache.ts"
import { type ReconcileReport, reconcile } from "../effects/reconcile.ts"
import { apiRetry, informerRetry, retryApi } from "../effects/retry.ts"
import { type ClusterHealth, makeClusterHealth } from "./clusterHealth.ts"
import { runInformer } from "./informer.ts"
import { runVitistackWatches } from "./vitistackWatches.ts"
import { makeWorkQueue, type WorkQueue, type WorkQueueHooks, type WorkQueueOptions } from "./WorkQueue.ts"

export interface OperatorOptions {
  readonly settings: Settings
  /** Concurrent reconciles (never two on the same Machine). Default 4. */
  readonly workers?: number
  /** Every Machine is reconciled at least this often. Default 10 minutes. */
  readonly resync?: Duration.Input
  readonly queue?: WorkQueueOptions
  readonly queueHooks?: WorkQueueHooks
  /** Called after each reconcile, for metrics and the embedded UI. */
  readonly onReconciled?: (key: string, report: ReconcileReport, seconds: number) => Effect.Effect<void>
  /** Called when the Machine and KubevirtConfig caches have synced once (readiness). */
  readonly onSynced?: () => void
  /**
   * Called when an in-scope Machine's `status.phase` in the watch cache changes (`Unknown`: none yet; undefined: not
   * in the cache or out of scope), so a gauge of Machines by phase can be kept without counting the cache.
   */
  readonly onMachinePhase?: (before: string | undefined, after: string | undefined) => void
}

/** What in a Machine change is worth a reconcile: everything except status. */
const fingerprint = (o: KubeObject) =>
  JSON.stringify([
    o.metadata.generation,
    o.metadata.annotations,
    o.metadata.labels,
    o.metadata.finalizers,
    o.metadata.deletionTimestamp,
    o.spec
  ])

const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`

/** The phase a Machine counts under, or undefined when it is out of scope (the planner's `inScope`, on the raw object). */
const phaseOf = (o: KubeObject): string | undefined => {
  const provider = (o.spec as { provider?: unknown } | undefined)?.provider
  if (provider !== undefined && provider !== "" && provider !== "kubevirt") return undefined
  const phase = (o.status as { phase?: unknown } | undefined)?.phase
  return typeof phase === "string" && phase !== "" ? phase : "Unknown"
}

const decodeConfig = Schema.decodeUnknownResult(KubevirtConfig)
const decodeMachine = Schema.decodeUnknownResult(Machine)

/** The supervisor objects a Machine takes cloud-init from, as `Kind/name` (its namespace is the Machine's). */
const sourcesOf = (o: KubeObject): ReadonlyArray<string> => {
  const m = decodeMachine(o)
  return Result.isSuccess(m) ? cloudInitReads(m.success).map((s) => `${s.kind}/${s.name}`) : []
}

/** One line for the debug log: what ran, what failed, what the planner said. */
const describeReport = (r: ReconcileReport): string => {
  const failed = r.result?.failed
  const diagnostics = r.plan?.diagnostics ?? []
  return [
    `${r.result?.executed.length ?? 0} action(s) executed`,
    ...(failed === undefined ? [] : [`${failed.action._tag} failed: ${failed.error.message}`]),
    ...diagnostics.map((d) => `${d.severity} ${d.reason}: ${d.message}`)
  ].join("; ")
}

/**
 * One capability's watch on one remote cluster: an informer whose events wake the Machines the declaration maps them
 * to. An optional kind is first probed with a list: not served or not permitted means no watch (said once) and a new
 * probe after `reprobeAfter`; transient failures are retried before deciding, and anything else starts the informer
 * (which backs off by itself).
 */
const runRemoteWatch = (
  api: KubeApiService,
  cluster: string,
  watch: RemoteWatch,
  wake: { readonly queue: WorkQueue; readonly machines: PlacedMachines; readonly health: ClusterHealth }
): Effect.Effect<void> => {
  const informer = runInformer(
    api,
    watch.kind,
    Object.keys(watch.labelSelector).length === 0 ? {} : { labelSelector: watch.labelSelector },
    {
      onEvent: (_t, o) => Effect.forEach(watch.toKeys(o, cluster, wake.machines), wake.queue.add, { discard: true }),
      ...(watch.reportsHealth === true
        ? {
            onSynced: () => wake.health.report(cluster, true, "the remote cluster answers"),
            onError: (e) => wake.health.report(cluster, false, e.message)
          }
        : {})
    },
    `${cluster}/${watch.kind.kind}s`
  )
  const optional = watch.optional
  if (optional === undefined) return informer
  const probe = (said: boolean): Effect.Effect<void> =>
    retryApi(apiRetry)(api.list(watch.kind, {})).pipe(
      Effect.matchEffect({
        onFailure: (e) =>
          e.reason._tag === "NotFound" || e.reason._tag === "Forbidden"
            ? (said
                ? Effect.void
                : Effect.logInfo(
                    `not watching ${watch.kind.kind}s on ${cluster} (${e.message}); Machines waiting for one retry with backoff`
                  )
              ).pipe(
                Effect.andThen(Effect.sleep(optional.reprobeAfter)),
                Effect.andThen(Effect.suspend(() => probe(true)))
              )
            : informer,
        onSuccess: () => informer
      })
    )
  return probe(false)
}

/** Runs the operator until interrupted: every part of it loops forever. */
export const runOperator = (
  options: OperatorOptions
): Effect.Effect<never, never, Supervisor | Remotes | EventRecorder> =>
  Effect.gen(function* () {
    const supervisor = yield* Supervisor
    const remotes = yield* Remotes
    const queue = yield* makeWorkQueue(options.queue, options.queueHooks)
    const machines = new Map<
      string,
      { readonly fingerprint: string; readonly cluster: string | undefined; readonly sources: ReadonlyArray<string> }
    >()
    const phases = new Map<string, string>()
    const configs = new Map<string, KubevirtConfig>()
    const remoteWatchers = yield* FiberMap.make<string>()
    const secretWatchers = yield* FiberMap.make<string>()
    const configMapWatchers = yield* FiberMap.make<string>()
    // Ready once both supervisor caches have listed once.
    const syncedInformers = new Set<string>()
    const markSynced = (informer: string) => () =>
      Effect.sync(() => {
        syncedInformers.add(informer)
        if (syncedInformers.size === 2) options.onSynced?.()
      })

    const placed: PlacedMachines = {
      inNamespace: (cluster, namespace) =>
        [...machines].filter(([k, m]) => m.cluster === cluster && k.startsWith(`${namespace}/`)).map(([k]) => k)
    }

    const enqueueCluster = (cluster: string) =>
      Effect.forEach(
        [...machines].filter(([, m]) => m.cluster === cluster || m.cluster === undefined),
        ([k]) => queue.add(k),
        { discard: true }
      )

    const health = makeClusterHealth(supervisor)
    // NetworkNamespaces and NetworkConfigurations (ADR 0013): a cache the reconciles read and claim MACs in.
    const networkCache = new NetworkCacheStore()

    // Per remote cluster, every declared watch. Restarted when the cluster's kubeconfig changes.
    const watchRemote = (cluster: string) =>
      Effect.gen(function* () {
        const api = yield* remotes.get(cluster).pipe(
          Effect.tapError((e) =>
            Effect.andThen(Effect.logWarning(e.message), health.report(cluster, false, e.message))
          ),
          Effect.retry({ schedule: informerRetry })
        )
        yield* Effect.forEach(
          REMOTE_WATCHES,
          (watch) => runRemoteWatch(api, cluster, watch, { queue, machines: placed, health }),
          { concurrency: "unbounded", discard: true }
        )
      }).pipe(Effect.annotateLogs({ cluster }))

    // A changed KubevirtConfig or Secret: forget the cached client, then watch through a new one.
    const restartRemote = (cluster: string) =>
      Effect.logDebug(`(re)starting watches on remote cluster ${cluster}`).pipe(
        Effect.andThen(remotes.invalidate(cluster)),
        Effect.andThen(FiberMap.run(remoteWatchers, cluster, watchRemote(cluster))),
        Effect.asVoid
      )

    /** The Machines of `namespace` that take cloud-init from `Kind/name`. */
    const readersOf = (namespace: string, source: string) =>
      [...machines].filter(([k, m]) => k.startsWith(`${namespace}/`) && m.sources.includes(source)).map(([k]) => k)

    // Secrets are watched only in the namespaces KubevirtConfigs point at or Machines take cloud-init from, and only
    // referenced ones matter. Nothing of them is kept: an event only wakes who reads them.
    const watchSecrets = (namespace: string) =>
      runInformer(
        supervisor,
        Kinds.Secret,
        { namespace },
        {
          onEvent: (_t, o) =>
            Effect.andThen(
              Effect.forEach(
                [...configs.values()].filter(
                  (c) => c.spec.secretNamespace === namespace && c.spec.kubeconfigSecretRef === o.metadata.name
                ),
                (c) => Effect.andThen(restartRemote(c.metadata.name), enqueueCluster(c.metadata.name)),
                { discard: true }
              ),
              Effect.forEach(readersOf(namespace, `Secret/${o.metadata.name}`), queue.add, { discard: true })
            )
        },
        `Secrets in ${namespace}`
      )

    const watchConfigMaps = (namespace: string) =>
      runInformer(
        supervisor,
        Kinds.ConfigMap,
        { namespace },
        {
          onEvent: (_t, o) =>
            Effect.forEach(readersOf(namespace, `ConfigMap/${o.metadata.name}`), queue.add, { discard: true })
        },
        `ConfigMaps in ${namespace}`
      )

    /** Starts the watches of the kinds a Machine's cloud-init reads in its namespace (once per namespace). */
    const watchSources = (namespace: string, sources: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        if (sources.some((s) => s.startsWith("Secret/")) && !(yield* FiberMap.has(secretWatchers, namespace)))
          yield* FiberMap.run(secretWatchers, namespace, watchSecrets(namespace))
        if (sources.some((s) => s.startsWith("ConfigMap/")) && !(yield* FiberMap.has(configMapWatchers, namespace)))
          yield* FiberMap.run(configMapWatchers, namespace, watchConfigMaps(namespace))
      })

    const onConfig = (type: string, o: KubeObject) =>
      Effect.gen(function* () {
        const name = o.metadata.name
        if (type === "DELETED") {
          configs.delete(name)
          yield* remotes.invalidate(name)
          yield* FiberMap.remove(remoteWatchers, name)
          return yield* enqueueCluster(name)
        }
        const decoded = decodeConfig(o)
        if (Result.isFailure(decoded))
          return yield* Effect.logWarning(`KubevirtConfig ${name} is malformed: ${decoded.failure.message}`)
        const before = configs.get(name)
        configs.set(name, decoded.success)
        const ns = decoded.success.spec.secretNamespace
        if (!(yield* FiberMap.has(secretWatchers, ns))) yield* FiberMap.run(secretWatchers, ns, watchSecrets(ns))
        if (before === undefined || JSON.stringify(before.spec) !== JSON.stringify(decoded.success.spec)) {
          yield* restartRemote(name)
          yield* enqueueCluster(name)
        }
      })

    const onMachine = (type: string, o: KubeObject) =>
      Effect.gen(function* () {
        const key = keyOf(o)
        const phaseBefore = phases.get(key)
        const phase = type === "DELETED" ? undefined : phaseOf(o)
        if (phase === undefined) phases.delete(key)
        else phases.set(key, phase)
        if (phase !== phaseBefore) options.onMachinePhase?.(phaseBefore, phase)
        if (type === "DELETED") {
          machines.delete(key)
          return
        }
        const print = fingerprint(o)
        const before = machines.get(key)
        const sources = before?.fingerprint === print ? before.sources : sourcesOf(o)
        machines.set(key, { fingerprint: print, cluster: o.metadata.annotations?.[PLACEMENT_ANNOTATION], sources })
        if (sources.length > 0) yield* watchSources(o.metadata.namespace ?? "default", sources)
        if (before?.fingerprint !== print) yield* queue.add(key)
      })

    const apply = (key: string, outcome: ReconcileOutcome) => {
      switch (outcome._tag) {
        case "Done":
          return queue.forget(key)
        case "Requeue":
          return Effect.andThen(queue.forget(key), queue.add(key))
        case "Backoff":
          return queue.addRateLimited(key)
        case "AwaitChange":
          return Effect.andThen(queue.forget(key), queue.addAfter(key, Duration.seconds(outcome.requeueAfterSeconds)))
      }
    }

    const worker = Effect.gen(function* () {
      const key = yield* queue.take
      const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const report = yield* reconcile(key, options.settings, () =>
        syncedInformers.has("KubevirtConfigs") ? [...configs.keys()] : undefined
      ).pipe(
        Effect.provideService(NetworkCache, networkCache),
        Effect.catchCause((cause) =>
          Effect.as(Effect.logError(`reconcile ${key} failed unexpectedly`, cause), {
            outcome: { _tag: "Backoff", reason: "Unexpected" },
            statusWritten: false
          } satisfies ReconcileReport)
        ),
        Effect.annotateLogs({ machine: key })
      )
      const ended = yield* Effect.clockWith((c) => c.currentTimeMillis)
      yield* Effect.logDebug(
        `reconciled ${key}: ${report.outcome._tag}${"reason" in report.outcome ? ` (${report.outcome.reason})` : ""}; ` +
          describeReport(report)
      )
      if (options.onReconciled !== undefined) yield* options.onReconciled(key, report, (ended - started) / 1000)
      yield* apply(key, report.outcome)
      yield* queue.done(key)
    }).pipe(Effect.forever)

    const resync = Effect.gen(function* () {
      yield* Effect.sleep(options.resync ?? "10 minutes")
      yield* Effect.forEach([...machines.keys()], (k) => queue.add(k), { discard: true })
    }).pipe(Effect.forever)

    yield* Effect.all(
      [
        runInformer(
          supervisor,
          Kinds.Machine,
          {},
          { onEvent: onMachine, onSynced: markSynced("Machines") },
          "Machines"
        ),
        runInformer(
          supervisor,
          Kinds.KubevirtConfig,
          {},
          { onEvent: onConfig, onSynced: markSynced("KubevirtConfigs") },
          "KubevirtConfigs"
        ),
        runVitistackWatches(supervisor, networkCache, {
          add: queue.add,
          machinesIn: (namespace) => [...machines.keys()].filter((k) => k.startsWith(`${namespace}/`))
        }),
        resync,
        ...Array.from({ length: options.workers ?? 4 }, () => worker)
      ],
      { concurrency: "unbounded", discard: true }
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)
