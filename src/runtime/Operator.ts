/**
 * The operator loop: informers feed Machine keys into the work queue; N workers reconcile them, never two on one key;
 * the outcome decides the requeue; a periodic resync is the safety net. Runtime layer.
 * While there are several remote clusters, one may hold at most `perClusterLimit` workers (`clusterSlots.ts`): a
 * Machine whose cluster is at its limit is parked until one of that cluster's reconciles ends, so a hung cluster does
 * not stall the others. When a cluster's reachability changes (its health watch starts or stops answering), all its
 * Machines are reconciled once (ADR 0011).
 * Watches: Machines (status-only changes are ignored, so our own status writes do not wake us), KubevirtConfigs, the
 * Secrets they reference (only in their namespaces), the Secrets and ConfigMaps Machines take cloud-init from (only in
 * those Machines' namespaces; an event wakes the Machines naming the object, and no value is kept), supervisor
 * Namespaces once a KubevirtConfig has a tenancy selector, NetworkNamespaces and NetworkConfigurations
 * (`vitistackWatches.ts`, into the cache reconciles read), and on every remote cluster the watches the capabilities
 * declare (`domain/remoteWatches.ts`), one informer each. KubevirtConfigs and Namespaces are served to observe from
 * these caches (`SupervisorCache`).
 */
import { Duration, Effect, FiberMap, Option, Result, Schema } from "effect"
import { uncheckedHealth } from "../domain/ClusterHealth.ts"
import { cloudInitReads } from "../domain/cloudInitPayload.ts"
import { RECONCILE_AT_ANNOTATION } from "../domain/governance.ts"
import type { KubeObject } from "../domain/KubeObject.ts"
import { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import { FINALIZER, PLACEMENT_ANNOTATION } from "../domain/labels.ts"
import { Machine } from "../domain/Machine.ts"
import { Kinds } from "../domain/ObjectRef.ts"
import type { PlacedMachines, RemoteWatch } from "../domain/RemoteWatch.ts"
import type { ReconcileOutcome } from "../domain/reconcileOutcome.ts"
import { REMOTE_WATCHES } from "../domain/remoteWatches.ts"
import type { Settings } from "../domain/Settings.ts"
import { tenancyAnnotations } from "../domain/tenancy.ts"
import { ClusterHealthFacts } from "../effects/ClusterHealthFacts.ts"
import { Remotes, Supervisor } from "../effects/Clusters.ts"
import type { EventRecorder } from "../effects/EventRecorder.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import { NetworkCache, NetworkCacheStore } from "../effects/NetworkCache.ts"
import { SupervisorCache, type SupervisorCacheService } from "../effects/observeTenancy.ts"
import { type ReconcileReport, reconcile } from "../effects/reconcile.ts"
import { apiRetry, informerRetry, retryApi } from "../effects/retry.ts"
import { type ClusterHealthMonitor, makeClusterHealth } from "./clusterHealth.ts"
import { defaultClusterLimit, makeClusterSlots } from "./clusterSlots.ts"
import { runInformer } from "./informer.ts"
import { type MachineProviderOptions, runMachineProvider } from "./machineProvider.ts"
import { makeMachineTally } from "./machineTally.ts"
import { runVitistackWatches } from "./vitistackWatches.ts"
import { makeWorkQueue, type WorkQueue, type WorkQueueHooks, type WorkQueueOptions } from "./WorkQueue.ts"

export interface OperatorOptions {
  readonly settings: Settings
  /** Concurrent reconciles (never two on the same Machine). Default 4. */
  readonly workers?: number
  /**
   * Concurrent reconciles of Machines on one remote cluster while there are several, so a hung cluster cannot hold
   * every worker. Default half the workers, rounded up (`clusterSlots.ts`).
   */
  readonly perClusterLimit?: number
  /** Every Machine is reconciled at least this often. Default 10 minutes. */
  readonly resync?: Duration.Input
  readonly queue?: WorkQueueOptions
  readonly queueHooks?: WorkQueueHooks
  /**
   * Register the operator as this MachineProvider and keep its status (ADR 0012); omitted: no MachineProvider is
   * touched (tests, the embedded default).
   */
  readonly provider?: MachineProviderOptions | undefined
  /** Time between two health probes of one remote cluster (ADR 0012). Default 30 seconds. */
  readonly healthInterval?: Duration.Input | undefined
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

/** The phase a Machine counts under, or undefined when it is not ours (the planner's `isOurs`, on the raw object). */
const phaseOf = (o: KubeObject): string | undefined => {
  const provider = (o.spec as { provider?: unknown } | undefined)?.provider
  const finalized = (o.metadata.finalizers ?? []).includes(FINALIZER)
  if (provider !== undefined && provider !== "" && provider !== "kubevirt" && !finalized) return undefined
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
  wake: {
    readonly queue: WorkQueue
    readonly machines: PlacedMachines
    readonly health: ClusterHealthMonitor["report"]
  }
): Effect.Effect<void> => {
  const informer = runInformer(
    api,
    watch.kind,
    Object.keys(watch.labelSelector).length === 0 ? {} : { labelSelector: watch.labelSelector },
    {
      onEvent: (_t, o) => Effect.forEach(watch.toKeys(o, cluster, wake.machines), wake.queue.add, { discard: true }),
      ...(watch.reportsHealth === true
        ? {
            onSynced: () => wake.health(cluster, true, "the remote cluster answers"),
            onError: (e) => wake.health(cluster, false, e.message)
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
      {
        readonly fingerprint: string
        readonly cluster: string | undefined
        readonly sources: ReadonlyArray<string>
        readonly reconcileAt?: string | undefined
      }
    >()
    const phases = new Map<string, string>()
    // Phases, placement and sizing of the in-scope Machines, for the MachineProvider's status.
    const tally = makeMachineTally()
    const configs = new Map<string, KubevirtConfig>()
    const remoteWatchers = yield* FiberMap.make<string>()
    const secretWatchers = yield* FiberMap.make<string>()
    const configMapWatchers = yield* FiberMap.make<string>()
    const namespaceWatcher = yield* FiberMap.make<string>()
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

    // Each remote's health: probed, written on its KubevirtConfig, read by the planner (ADR 0012).
    const health = yield* makeClusterHealth(supervisor, remotes, {
      interval: options.healthInterval,
      onReadinessChange: enqueueCluster
    })
    // When a cluster starts or stops answering, every Machine placed there is looked at once, so their
    // RemoteReachable follows the cluster even when nothing else wakes them (a converged Machine during an outage).
    // Only transitions wake them: a cluster that stays down costs no writes.
    const reachability = new Map<string, boolean>()
    const reportHealth = (cluster: string, reachable: boolean, message: string) =>
      Effect.gen(function* () {
        yield* health.report(cluster, reachable, message)
        const before = reachability.get(cluster)
        reachability.set(cluster, reachable)
        if (before !== undefined && before !== reachable) {
          yield* Effect.logInfo(`remote cluster ${cluster} is ${reachable ? "reachable again" : "unreachable"}`)
          yield* enqueueCluster(cluster)
        }
      })
    // NetworkNamespaces and NetworkConfigurations (ADR 0013): a cache the reconciles read and claim MACs in.
    const networkCache = new NetworkCacheStore()
    const slots = makeClusterSlots(options.perClusterLimit ?? defaultClusterLimit(options.workers ?? 4))
    /** The cluster a Machine's reconcile talks to: its placement, or where placement will put it. */
    const clusterOf = (key: string): string | undefined =>
      machines.get(key)?.cluster ??
      (options.settings.defaultKubevirtConfig !== undefined && options.settings.defaultKubevirtConfig !== ""
        ? options.settings.defaultKubevirtConfig
        : configs.size === 1
          ? [...configs.keys()][0]
          : undefined)

    // Per remote cluster, every declared watch. Restarted when the cluster's kubeconfig changes.
    const watchRemote = (cluster: string) =>
      Effect.gen(function* () {
        const api = yield* remotes.get(cluster).pipe(
          Effect.tapError((e) => Effect.andThen(Effect.logWarning(e.message), reportHealth(cluster, false, e.message))),
          Effect.retry({ schedule: informerRetry })
        )
        yield* Effect.forEach(
          REMOTE_WATCHES,
          (watch) => runRemoteWatch(api, cluster, watch, { queue, machines: placed, health: reportHealth }),
          { concurrency: "unbounded", discard: true }
        )
      }).pipe(Effect.annotateLogs({ cluster }))

    // A changed KubevirtConfig or Secret: forget the cached client, then watch through a new one.
    const restartRemote = (cluster: string) =>
      Effect.logDebug(`(re)starting watches on remote cluster ${cluster}`).pipe(
        Effect.andThen(remotes.invalidate(cluster)),
        Effect.andThen(FiberMap.run(remoteWatchers, cluster, watchRemote(cluster))),
        Effect.andThen(health.restart(cluster)),
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
          reachability.delete(name)
          yield* remotes.invalidate(name)
          yield* FiberMap.remove(remoteWatchers, name)
          yield* health.forget(name)
          return yield* enqueueCluster(name)
        }
        const decoded = decodeConfig(o)
        if (Result.isFailure(decoded))
          return yield* Effect.logWarning(`KubevirtConfig ${name} is malformed: ${decoded.failure.message}`)
        const before = configs.get(name)
        configs.set(name, decoded.success)
        const ns = decoded.success.spec.secretNamespace
        if (!(yield* FiberMap.has(secretWatchers, ns))) yield* FiberMap.run(secretWatchers, ns, watchSecrets(ns))
        const tenancy = tenancyAnnotations(name, decoded.success.metadata.annotations)
        if (tenancy.allowedNamespaceSelector !== undefined) yield* watchNamespaces
        if (before === undefined || JSON.stringify(before.spec) !== JSON.stringify(decoded.success.spec)) {
          yield* restartRemote(name)
          yield* enqueueCluster(name)
        } else if (JSON.stringify(tenancyAnnotations(name, before.metadata.annotations)) !== JSON.stringify(tenancy))
          // Who may use the cluster changed: its Machines (and those not placed yet) are decided again.
          yield* enqueueCluster(name)
      })

    // Supervisor Namespaces' labels, for tenancy selectors (ADR 0011): watched from the first KubevirtConfig that has a
    // selector (so the operator needs namespaces list/watch on the supervisor only then); a change of a namespace's
    // labels wakes its Machines.
    const namespaceLabels = new Map<string, Readonly<Record<string, string>>>()
    let namespacesSynced = false
    const onNamespace = (type: string, o: KubeObject) =>
      Effect.gen(function* () {
        const name = o.metadata.name
        const before = namespaceLabels.get(name)
        const labels = o.metadata.labels ?? {}
        if (type === "DELETED") namespaceLabels.delete(name)
        else namespaceLabels.set(name, labels)
        if (namespacesSynced && JSON.stringify(before) !== JSON.stringify(type === "DELETED" ? undefined : labels))
          yield* Effect.forEach(
            [...machines.keys()].filter((k) => k.startsWith(`${name}/`)),
            (k) => queue.add(k),
            { discard: true }
          )
      })
    const watchNamespaces = Effect.gen(function* () {
      if (yield* FiberMap.has(namespaceWatcher, "namespaces")) return
      yield* FiberMap.run(
        namespaceWatcher,
        "namespaces",
        runInformer(
          supervisor,
          Kinds.Namespace,
          {},
          {
            onEvent: onNamespace,
            onSynced: () =>
              Effect.sync(() => {
                namespacesSynced = true
              })
          },
          "Namespaces"
        )
      )
    })
    // What the watch caches know, for observe (tenancy): nothing until the informer has listed once.
    const supervisorCache: SupervisorCacheService = {
      kubevirtConfig: (name) =>
        syncedInformers.has("KubevirtConfigs") ? Option.fromNullishOr(configs.get(name)) : undefined,
      namespaceLabels: (name) => (namespacesSynced ? Option.fromNullishOr(namespaceLabels.get(name)) : undefined)
    }

    const onMachine = (type: string, o: KubeObject) =>
      Effect.gen(function* () {
        const key = keyOf(o)
        const phaseBefore = phases.get(key)
        const phase = type === "DELETED" ? undefined : phaseOf(o)
        if (phase === undefined) phases.delete(key)
        else phases.set(key, phase)
        if (phase !== phaseBefore) options.onMachinePhase?.(phaseBefore, phase)
        tally.observe(type as "ADDED" | "MODIFIED" | "DELETED", o)
        if (type === "DELETED") {
          machines.delete(key)
          return
        }
        const print = fingerprint(o)
        const before = machines.get(key)
        const sources = before?.fingerprint === print ? before.sources : sourcesOf(o)
        const reconcileAt = o.metadata.annotations?.[RECONCILE_AT_ANNOTATION]
        machines.set(key, {
          fingerprint: print,
          cluster: o.metadata.annotations?.[PLACEMENT_ANNOTATION],
          sources,
          reconcileAt
        })
        if (sources.length > 0) yield* watchSources(o.metadata.namespace ?? "default", sources)
        // A person asked for a reconcile now (ADR 0015): it runs at once, and a backoff it was in starts afresh.
        if (before !== undefined && reconcileAt !== undefined && reconcileAt !== before.reconcileAt)
          yield* queue.forget(key)
        if (before?.fingerprint !== print) yield* queue.add(key)
      })

    const apply = (key: string, outcome: ReconcileOutcome) => {
      switch (outcome._tag) {
        case "Done":
          return queue.forget(key)
        case "Requeue":
          return Effect.andThen(queue.forget(key), queue.add(key))
        case "Backoff":
          return queue.addRateLimited(
            key,
            outcome.maxDelaySeconds === undefined ? undefined : Duration.seconds(outcome.maxDelaySeconds)
          )
        case "AwaitChange":
          return Effect.andThen(queue.forget(key), queue.addAfter(key, Duration.seconds(outcome.requeueAfterSeconds)))
      }
    }

    const reconcileKey = (key: string) =>
      Effect.gen(function* () {
        const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const report = yield* reconcile(key, options.settings, () =>
          syncedInformers.has("KubevirtConfigs") ? [...configs.keys()] : undefined
        ).pipe(
          Effect.provideService(SupervisorCache, supervisorCache),
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
      })

    const worker = Effect.gen(function* () {
      const key = yield* queue.take
      // With one cluster there is no other to keep workers for: its Machines may use all of them.
      const cluster = configs.size > 1 ? clusterOf(key) : undefined
      if (cluster !== undefined && !slots.acquire(cluster, key)) {
        // Its cluster is at its limit: parked, not waited for; a reconcile of that cluster that ends queues it again.
        yield* queue.done(key)
        return
      }
      yield* reconcileKey(key).pipe(
        Effect.ensuring(
          Effect.suspend(() => {
            if (cluster === undefined) return Effect.void
            const next = slots.release(cluster)
            // Down to one cluster meanwhile: nothing will take a slot again, so every parked key goes back now.
            const again = [...(next === undefined ? [] : [next]), ...(configs.size > 1 ? [] : slots.drain(cluster))]
            return Effect.forEach(again, queue.add, { discard: true })
          })
        )
      )
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
        ...(options.provider === undefined
          ? []
          : [
              runMachineProvider(supervisor, options.provider, {
                clusters: () => (syncedInformers.size === 2 ? [...configs.keys()] : undefined),
                config: (name) => configs.get(name),
                health: health.snapshot,
                tally,
                settings: options.settings
              })
            ]),
        ...Array.from({ length: options.workers ?? 4 }, () => worker)
      ],
      { concurrency: "unbounded", discard: true }
    ).pipe(
      // Until the KubevirtConfigs have been listed, no cluster has been checked: every one counts as unchecked.
      Effect.provideService(ClusterHealthFacts, (cluster) =>
        syncedInformers.has("KubevirtConfigs") ? health.lookup(cluster) : uncheckedHealth(cluster)
      )
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)
