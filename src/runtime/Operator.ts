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
 * (`vitistackWatches.ts`), and on every remote cluster the watches the capabilities declare
 * (`domain/remoteWatches.ts`), one informer each, plus every remote Namespace and, with adoption on (ADR 0014), the
 * Go operator's VMs and claims. KubevirtConfigs and Namespaces are served to tenancy from these caches
 * (`SupervisorCache`).
 * Reads from the watch caches (ADR 0017): the informers fill `WatchCaches` (Machines, KubevirtConfigs,
 * MachineClasses, the cloud-init sources Machines name, NetworkNamespaces and NetworkConfigurations; on each remote
 * every declared kind, the Namespaces and the adoption watches), and reconciles get clients that answer reads from
 * them (`effects/cache/cachedApi.ts`), so a steady-state reconcile sends no request. The fleet's MAC index
 * (`NetworkCacheStore`, ADR 0013) is filled by the same NetworkConfiguration informer. A cluster's Machines wait
 * until its caches have listed once (reconciles back off as for a cluster not checked yet, and are queued when the
 * lists are in). Wake-ups from remote objects go ahead of the backlog (the queue's high priority), as do the
 * confirmations right after a reconcile acted.
 */
import { Clock, Duration, Effect, FiberMap, Option, Queue, Result, Schema } from "effect"
import { adoptionWatches } from "../domain/adoption.ts"
import { uncheckedHealth } from "../domain/ClusterHealth.ts"
import { cloudInitReads } from "../domain/cloudInitPayload.ts"
import { RECONCILE_AT_ANNOTATION } from "../domain/governance.ts"
import type { KubeObject } from "../domain/KubeObject.ts"
import { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import { FINALIZER, PLACEMENT_ANNOTATION, SOURCE_MACHINE_LABEL } from "../domain/labels.ts"
import { Machine, requestedClass } from "../domain/Machine.ts"
import { Kinds } from "../domain/ObjectRef.ts"
import type { PlacedMachines, RemoteWatch } from "../domain/RemoteWatch.ts"
import { CLUSTER_RECHECK_SECONDS, type ReconcileOutcome } from "../domain/reconcileOutcome.ts"
import { redactUrlsIn } from "../domain/redactUrl.ts"
import { REMOTE_WATCHES } from "../domain/remoteWatches.ts"
import type { Settings } from "../domain/Settings.ts"
import { tenancyAnnotations } from "../domain/tenancy.ts"
import { ClusterHealthFacts } from "../effects/ClusterHealthFacts.ts"
import { Remotes, type RemotesService, Supervisor } from "../effects/Clusters.ts"
import { type CacheReadResult, cachedApi } from "../effects/cache/cachedApi.ts"
import { metadataOnly, slimFor } from "../effects/cache/slim.ts"
import { matchesSelector, type WatchCache } from "../effects/cache/WatchCache.ts"
import { type ClusterCaches, type RegisterOptions, WatchCaches } from "../effects/cache/WatchCaches.ts"
import type { EventRecorder } from "../effects/EventRecorder.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import { NetworkCache, NetworkCacheStore } from "../effects/NetworkCache.ts"
import { SupervisorCache, type SupervisorCacheService } from "../effects/observeTenancy.ts"
import { type ReconcileReport, reconcile } from "../effects/reconcile.ts"
import { apiRetry, informerRetry, retryApi } from "../effects/retry.ts"
import { type ClusterHealthMonitor, makeClusterHealth } from "./clusterHealth.ts"
import { defaultClusterLimit, makeClusterSlots } from "./clusterSlots.ts"
import { compactHeap } from "./compactHeap.ts"
import { runInformer } from "./informer.ts"
import { type MachineProviderOptions, runMachineProvider } from "./machineProvider.ts"
import { makeMachineTally } from "./machineTally.ts"
import { runVitistackWatches } from "./vitistackWatches.ts"
import { makeWorkQueue, type WorkQueue, type WorkQueueHooks, type WorkQueueOptions } from "./WorkQueue.ts"

/** How long a watch cache whose watch is failing is still read; after it, its facts are Unknown (ADR 0017). */
export const CACHE_STALE_AFTER = Duration.seconds(30)

/**
 * How long a remote's StorageClass and StorageProfile lists are reused for new claims' access modes (ADR 0017): the
 * remote identity may only get and list them (ADR 0010), and they change rarely.
 */
export const STORAGE_FACTS_TTL = Duration.seconds(30)

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
  /** How long a failing watch's cache is still read before its facts are Unknown. Default `CACHE_STALE_AFTER`. */
  readonly cacheStaleAfter?: Duration.Input | undefined
  /** Told each read a reconcile made through a watch cache: answered from memory, asked live, or Unknown. */
  readonly onCacheRead?: ((cluster: string, kind: string, result: CacheReadResult) => void) | undefined
  /** Every value taken from it triggers a resync at once, besides the periodic one (the benchmark's full resync). */
  readonly resyncNow?: Queue.Dequeue<void> | undefined
  /** Given the watch caches once they exist (the benchmark reports objects held by kind). */
  readonly onCaches?: ((caches: WatchCaches) => void) | undefined
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

/**
 * Another provider's Machine without our finalizer: the planner's `isOurs` false, on the raw object (design 3.1; the
 * CRD makes `spec.provider` a string). It is never reconciled, so it is neither queued nor indexed, nor counted.
 */
const isForeign = (o: KubeObject): boolean => {
  const provider = (o.spec as { provider?: unknown } | undefined)?.provider
  return (
    provider !== undefined &&
    provider !== "" &&
    provider !== "kubevirt" &&
    !(o.metadata.finalizers ?? []).includes(FINALIZER)
  )
}

/** The phase a Machine counts under, or undefined when it is not ours. */
const phaseOf = (o: KubeObject): string | undefined => {
  if (isForeign(o)) return undefined
  const phase = (o.status as { phase?: unknown } | undefined)?.phase
  return typeof phase === "string" && phase !== "" ? phase : "Unknown"
}

const decodeConfig = Schema.decodeUnknownResult(KubevirtConfig)
const decodeMachine = Schema.decodeUnknownResult(Machine)

const noSources: ReadonlyArray<string> = []

/**
 * The supervisor objects a Machine takes cloud-init from, as `Kind/name` (its namespace is the Machine's), and the
 * MachineClass it names.
 */
const referencesOf = (o: KubeObject): { readonly sources: ReadonlyArray<string>; readonly machineClass?: string } => {
  const m = decodeMachine(o)
  if (Result.isFailure(m)) return { sources: noSources }
  const sources = cloudInitReads(m.success).map((s) => `${s.kind}/${s.name}`)
  const machineClass = requestedClass(m.success)
  return {
    sources: sources.length === 0 ? noSources : sources,
    ...(machineClass === undefined ? {} : { machineClass })
  }
}

/**
 * The remote kinds read by name where someone else's object of that name is a clash (the VM, the claims, the
 * DataVolumes): their informers watch the whole kind and keep the names of the objects that are not ours, so a clash is
 * seen before anything is created, as it was when every reconcile read them live (ADR 0017).
 */
const FOREIGN_NAMES: ReadonlyArray<{ readonly apiVersion: string; readonly kind: string }> = [
  Kinds.VirtualMachine,
  Kinds.PersistentVolumeClaim,
  Kinds.DataVolume
]

/**
 * With adoption on (ADR 0014) the VMIs too: an adopted VM's VMI keeps the Go operator's labels until the VM restarts,
 * so the label-selected cache would miss it; known by name as someone else's, it is read live instead.
 */
const foreignNameKinds = (settings: Settings): ReadonlyArray<{ readonly apiVersion: string; readonly kind: string }> =>
  settings.adoptGoOperator === undefined ? FOREIGN_NAMES : [...FOREIGN_NAMES, Kinds.VirtualMachineInstance]

/**
 * The cache a remote watch fills (ADR 0017). A watch of another manager's objects (adoption's, ADR 0014) keeps only
 * their metadata, indexed by the label naming their Machine; it is not the one that knows foreign names (the watch of
 * ours is). Every cache of a kind that is not optional gates its cluster's reconciles (they all read it).
 */
const remoteCacheOptions = (watch: RemoteWatch, settings: Settings): RegisterOptions => ({
  kind: watch.kind,
  labelSelector: watch.labelSelector,
  complete: true,
  foreignNames:
    watch.others === undefined &&
    foreignNameKinds(settings).some((k) => k.apiVersion === watch.kind.apiVersion && k.kind === watch.kind.kind),
  slim: watch.others === undefined ? slimFor(watch.kind) : metadataOnly,
  indexLabel: watch.others?.machineLabel ?? SOURCE_MACHINE_LABEL,
  gatesReconciles: watch.optional === undefined
})

/** Remote Namespaces: the operator's own watch on each remote, for its cache (observe reads the Machine's namespace). */
const namespaceWatch: RemoteWatch = {
  kind: Kinds.Namespace,
  labelSelector: {},
  toKeys: (o, cluster, machines) => machines.inNamespace(cluster, o.metadata.name)
}

/** One line for the debug log: what ran, what failed, what the planner said. */
const describeReport = (r: ReconcileReport): string => {
  const failed = r.result?.failed
  const diagnostics = r.plan?.diagnostics ?? []
  return [
    `${r.result?.executed.length ?? 0} action(s) executed`,
    ...(failed === undefined ? [] : [`${failed.action._tag} failed: ${redactUrlsIn(failed.error.message)}`]),
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
    /** Whether the key is one of our Machines (another provider's, or one gone, is not woken). */
    readonly ours: (key: string) => boolean
    readonly health: ClusterHealthMonitor["report"]
    readonly caches: ClusterCaches
    /** A cache its Machines wait for has listed. */
    readonly synced: () => Effect.Effect<void>
    /** The informer failed: its cache will turn Unknown unless it recovers in time. */
    readonly failing: () => Effect.Effect<void>
    /** A cache that had turned Unknown has listed again. */
    readonly recovered: () => Effect.Effect<void>
  },
  /** The cache registered for it already (the kinds every Machine reads are registered before the client exists). */
  registered: WatchCache | undefined,
  settings: Settings
): Effect.Effect<void> => {
  const informer = Effect.suspend(() => {
    // An optional kind's cache is registered when its informer starts: before that (while it is probed) reads go live.
    const cache = registered ?? wake.caches.register(remoteCacheOptions(watch, settings))
    return runInformer(
      api,
      watch.kind,
      cache.watchesEverything() ? {} : { labelSelector: watch.labelSelector },
      {
        // A change of a Machine's remote objects (a VM's status above all) goes ahead of the backlog. An event that
        // shows a read nothing new (the echo of our own create, a PVC's binding, which the cache does not keep) wakes
        // nobody: the reconcile after our write already looked. Of someone else's objects only their coming and going
        // matters (a name clash that starts or ends).
        onEvent: (type, o, _previous, unchanged) =>
          unchanged === true || (type === "MODIFIED" && !matchesSelector(watch.labelSelector, o.metadata.labels))
            ? Effect.void
            : Effect.forEach(
                watch.toKeys(o, cluster, wake.machines).filter(wake.ours),
                (k) => wake.queue.add(k, "high"),
                { discard: true }
              ),
        onSynced: () =>
          Effect.andThen(
            // The cluster's caches answered Unknown and answer again: the Machines that saw them Unknown look again.
            wake.caches.takeRecovered() ? wake.recovered() : watch.optional === undefined ? wake.synced() : Effect.void,
            watch.reportsHealth === true ? wake.health(cluster, true, "the remote cluster answers") : Effect.void
          ),
        onError: (e) =>
          Effect.andThen(
            wake.failing(),
            watch.reportsHealth === true ? wake.health(cluster, false, e.message) : Effect.void
          )
      },
      `${cluster}/${watch.kind.kind}s`,
      cache
    )
  })
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
    const clock = yield* Clock.Clock
    const scope = yield* Effect.scope
    const queue = yield* makeWorkQueue(options.queue, options.queueHooks)
    const caches = new WatchCaches({
      staleAfterMillis: Duration.toMillis(Duration.fromInputUnsafe(options.cacheStaleAfter ?? CACHE_STALE_AFTER))
    })
    options.onCaches?.(caches)
    const supervisorCaches = caches.cluster("supervisor")
    // What the operator keeps of each Machine beyond its cached object: where it is placed and what it names.
    const machines = new Map<
      string,
      {
        readonly cluster: string | undefined
        readonly sources: ReadonlyArray<string>
        readonly machineClass?: string
        readonly reconcileAt?: string | undefined
      }
    >()
    // The keys of the Machines placed on a cluster, by namespace (a NAD or Namespace event wakes them).
    const placedIndex = new Map<string, Set<string>>()
    const indexKey = (cluster: string, namespace: string) => `${cluster}\u0000${namespace}`
    const unindex = (key: string, cluster: string | undefined) => {
      if (cluster === undefined) return
      const k = indexKey(cluster, key.slice(0, key.indexOf("/")))
      placedIndex.get(k)?.delete(key)
      if (placedIndex.get(k)?.size === 0) placedIndex.delete(k)
    }
    const index = (key: string, cluster: string | undefined) => {
      if (cluster === undefined) return
      const k = indexKey(cluster, key.slice(0, key.indexOf("/")))
      let set = placedIndex.get(k)
      if (set === undefined) {
        set = new Set()
        placedIndex.set(k, set)
      }
      set.add(key)
    }
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
      Effect.suspend(() => {
        const first = !syncedInformers.has(informer)
        syncedInformers.add(informer)
        if (syncedInformers.size !== 2) return Effect.void
        // The initial lists' garbage is collected before the process says it is ready (compactHeap.ts).
        return Effect.andThen(
          first ? compactHeap : Effect.void,
          Effect.sync(() => options.onSynced?.())
        )
      })

    const placed: PlacedMachines = {
      inNamespace: (cluster, namespace) => [...(placedIndex.get(indexKey(cluster, namespace)) ?? [])],
      isPlaced: (cluster, key) => placedIndex.get(indexKey(cluster, key.slice(0, key.indexOf("/"))))?.has(key) === true
    }

    /**
     * Queues the Machines placed on the cluster (and those not placed yet). `afresh`: after an outage of its caches,
     * the backoffs they built up while it could not be read were the outage's, not theirs; they start again, so one
     * more transient error right after it is retried in a moment rather than minutes later.
     */
    const enqueueCluster = (cluster: string, afresh = false) =>
      Effect.forEach(
        [...machines].filter(([, m]) => m.cluster === cluster || m.cluster === undefined),
        ([k]) => (afresh ? Effect.andThen(queue.forget(k), queue.add(k)) : queue.add(k)),
        { discard: true }
      )

    // Each remote's health: probed, written on its KubevirtConfig, read by the planner (ADR 0012).
    const health = yield* makeClusterHealth(supervisor, remotes, {
      interval: options.healthInterval,
      onReadinessChange: (cluster) => enqueueCluster(cluster)
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
    // NetworkNamespaces and NetworkConfigurations (ADR 0013): watch caches the reconciles read (ADR 0017), and the
    // fleet's MAC index they claim MACs in, filled by the same informers; a watch failing for too long makes both
    // answer Unknown.
    const vitistackCaches = {
      namespaces: supervisorCaches.register({
        kind: Kinds.NetworkNamespace,
        labelSelector: {},
        complete: true,
        slim: slimFor(Kinds.NetworkNamespace)
      }),
      configurations: supervisorCaches.register({
        kind: Kinds.NetworkConfiguration,
        labelSelector: {},
        complete: true,
        slim: slimFor(Kinds.NetworkConfiguration)
      })
    }
    const networkCache = new NetworkCacheStore({
      indexOnly: true,
      unknownReason: (kind) =>
        (kind === Kinds.NetworkNamespace.kind
          ? vitistackCaches.namespaces
          : vitistackCaches.configurations
        ).ownUnknownReason(clock.currentTimeMillisUnsafe())
    })
    const slots = makeClusterSlots(options.perClusterLimit ?? defaultClusterLimit(options.workers ?? 4))
    /** The cluster a Machine's reconcile talks to: its placement, or where placement will put it. */
    const clusterOf = (key: string): string | undefined =>
      machines.get(key)?.cluster ??
      (options.settings.defaultKubevirtConfig !== undefined && options.settings.defaultKubevirtConfig !== ""
        ? options.settings.defaultKubevirtConfig
        : configs.size === 1
          ? [...configs.keys()][0]
          : undefined)

    // Per remote cluster, every declared watch and the Namespaces, each filling a fresh cache. Restarted when the
    // cluster's kubeconfig changes (a new client may see another cluster: nothing cached before is kept). The caches
    // every Machine reads are registered at once, before the client is built, so the cluster's Machines wait for their
    // first lists (and, if the client cannot be built, turn Unknown after the bound instead of waiting forever).
    const remoteKinds: ReadonlyArray<RemoteWatch> = [
      ...REMOTE_WATCHES,
      namespaceWatch,
      ...adoptionWatches(options.settings)
    ]
    const prepareCaches = (cluster: string) => {
      caches.forget(cluster)
      const clusterCaches = caches.cluster(cluster)
      const registered = new Map<RemoteWatch, WatchCache>()
      for (const w of remoteKinds)
        if (w.optional === undefined) registered.set(w, clusterCaches.register(remoteCacheOptions(w, options.settings)))
      return { clusterCaches, registered }
    }
    const watchRemote = (cluster: string, prepared: ReturnType<typeof prepareCaches>) =>
      Effect.gen(function* () {
        const { clusterCaches, registered } = prepared
        // Once every cache its Machines wait for has listed, they are queued (they backed off meanwhile).
        let wasSynced = false
        const synced = () =>
          Effect.suspend(() => {
            if (wasSynced || !clusterCaches.hasSynced()) return Effect.void
            wasSynced = true
            return Effect.andThen(compactHeap, enqueueCluster(cluster))
          })
        // A failing informer's cache turns Unknown after the bound: its Machines are looked at again then, so their
        // status says the cluster cannot be read (one wake per outage, not per failure).
        let staleWake = false
        const failing = () =>
          Effect.suspend(() => {
            if (staleWake) return Effect.void
            staleWake = true
            return Effect.forkIn(
              Effect.sleep(Duration.sum(Duration.millis(caches.staleAfterMillis), Duration.seconds(1))).pipe(
                Effect.andThen(
                  Effect.suspend(() => {
                    staleWake = false
                    return clusterCaches.unknownReason(clock.currentTimeMillisUnsafe()) === undefined
                      ? Effect.void
                      : enqueueCluster(cluster)
                  })
                )
              ),
              scope
            ).pipe(Effect.asVoid)
          })
        const api = yield* remotes.get(cluster).pipe(
          Effect.tapError((e) =>
            Effect.gen(function* () {
              const now = clock.currentTimeMillisUnsafe()
              for (const c of registered.values()) c.failed(e.message, now)
              yield* failing()
              yield* Effect.logWarning(e.message)
              yield* reportHealth(cluster, false, e.message)
            })
          ),
          Effect.retry({ schedule: informerRetry })
        )
        yield* Effect.forEach(
          remoteKinds,
          (watch) =>
            runRemoteWatch(
              api,
              cluster,
              watch,
              {
                queue,
                machines: placed,
                ours: (key) => machines.has(key),
                health: reportHealth,
                caches: clusterCaches,
                synced,
                failing,
                recovered: () => enqueueCluster(cluster, true)
              },
              registered.get(watch),
              options.settings
            ),
          { concurrency: "unbounded", discard: true }
        )
      }).pipe(Effect.annotateLogs({ cluster }))

    // A changed KubevirtConfig or Secret: forget the cached client, then watch through a new one.
    const restartRemote = (cluster: string) =>
      Effect.logDebug(`(re)starting watches on remote cluster ${cluster}`).pipe(
        Effect.andThen(remotes.invalidate(cluster)),
        Effect.andThen(
          Effect.suspend(() => FiberMap.run(remoteWatchers, cluster, watchRemote(cluster, prepareCaches(cluster))))
        ),
        Effect.andThen(health.restart(cluster)),
        Effect.asVoid
      )

    /** The Machines of `namespace` that take cloud-init from `Kind/name`. */
    const readersOf = (namespace: string, source: string) =>
      [...machines].filter(([k, m]) => k.startsWith(`${namespace}/`) && m.sources.includes(source)).map(([k]) => k)

    /** Some Machine of `namespace` takes cloud-init from `Kind/name`: the source's cache keeps it. */
    const isRead = (namespace: string, source: string) => {
      for (const [k, m] of machines) if (m.sources.includes(source) && k.startsWith(`${namespace}/`)) return true
      return false
    }

    // Secrets are watched only in the namespaces KubevirtConfigs point at or Machines take cloud-init from, and only
    // referenced ones matter. The cache keeps those Machines name (their values, for cloud-init); an event on any
    // wakes who reads it.
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
              Effect.forEach(readersOf(namespace, `Secret/${o.metadata.name}`), (k) => queue.add(k), { discard: true })
            )
        },
        `Secrets in ${namespace}`,
        supervisorCaches.register({
          kind: Kinds.Secret,
          namespace,
          labelSelector: {},
          complete: false,
          keep: (o) => isRead(namespace, `Secret/${o.metadata.name}`),
          slim: slimFor(Kinds.Secret)
        })
      )

    const watchConfigMaps = (namespace: string) =>
      runInformer(
        supervisor,
        Kinds.ConfigMap,
        { namespace },
        {
          onEvent: (_t, o) =>
            Effect.forEach(readersOf(namespace, `ConfigMap/${o.metadata.name}`), (k) => queue.add(k), {
              discard: true
            })
        },
        `ConfigMaps in ${namespace}`,
        supervisorCaches.register({
          kind: Kinds.ConfigMap,
          namespace,
          labelSelector: {},
          complete: false,
          keep: (o) => isRead(namespace, `ConfigMap/${o.metadata.name}`),
          slim: slimFor(Kinds.ConfigMap)
        })
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
          caches.forget(name)
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

    const onMachine = (
      type: string,
      o: KubeObject,
      previous: KubeObject | undefined,
      _unchanged?: boolean,
      written?: KubeObject | undefined
    ) =>
      Effect.gen(function* () {
        const key = keyOf(o)
        const phaseBefore = previous === undefined ? undefined : phaseOf(previous)
        const phase = type === "DELETED" ? undefined : phaseOf(o)
        if (phase !== phaseBefore) options.onMachinePhase?.(phaseBefore, phase)
        tally.observe(type as "ADDED" | "MODIFIED" | "DELETED", o)
        const before = machines.get(key)
        // Gone, or another provider's (its provider changed, or our finalizer went with our last cleanup): nothing
        // wakes it, resyncs skip it.
        if (type === "DELETED" || isForeign(o)) {
          unindex(key, before?.cluster)
          machines.delete(key)
          return
        }
        // Status-only changes (our own status writes) wake nothing.
        const changed = previous === undefined || before === undefined || fingerprint(previous) !== fingerprint(o)
        if (!changed) return
        const references = referencesOf(o)
        const cluster = o.metadata.annotations?.[PLACEMENT_ANNOTATION]
        if (before?.cluster !== cluster) {
          unindex(key, before?.cluster)
          index(key, cluster)
        }
        const reconcileAt = o.metadata.annotations?.[RECONCILE_AT_ANNOTATION]
        machines.set(key, { cluster, ...references, reconcileAt })
        if (references.sources.length > 0) yield* watchSources(o.metadata.namespace ?? "default", references.sources)
        // The echo of the operator's own write (the finalizer and placement patch) shows nothing that the reconcile
        // which wrote it, and the confirming one after it, did not read from the cache: it wakes nobody (ADR 0017,
        // decision 13). The index above still learns the placement from it.
        if (before !== undefined && written !== undefined && fingerprint(written) === fingerprint(o)) return
        // A person asked for a reconcile now (ADR 0015): it runs at once, and a backoff it was in starts afresh.
        if (before !== undefined && reconcileAt !== undefined && reconcileAt !== before.reconcileAt)
          yield* queue.forget(key)
        yield* queue.add(key)
      })

    // MachineClasses (cluster-scoped, few): cached for observe; a change wakes the Machines naming the class.
    let machineClassesSynced = false
    const onMachineClass = (_type: string, o: KubeObject) =>
      machineClassesSynced
        ? Effect.forEach(
            [...machines].filter(([, m]) => m.machineClass === o.metadata.name),
            ([k]) => queue.add(k),
            { discard: true }
          )
        : Effect.void

    const apply = (key: string, outcome: ReconcileOutcome) => {
      switch (outcome._tag) {
        case "Done":
          return queue.forget(key)
        case "Requeue":
          // Actions ran: the confirmation (from the caches, which already hold what was written) goes first.
          return Effect.andThen(queue.forget(key), queue.add(key, "high"))
        case "Backoff":
          return queue.addRateLimited(
            key,
            outcome.maxDelaySeconds === undefined ? undefined : Duration.seconds(outcome.maxDelaySeconds)
          )
        case "AwaitChange":
          return Effect.andThen(queue.forget(key), queue.addAfter(key, Duration.seconds(outcome.requeueAfterSeconds)))
      }
    }

    // Reconciles read through the caches: one client per cluster client, built once.
    const cachedClients = new Map<string, { readonly raw: KubeApiService; readonly cached: KubeApiService }>()
    const cachedClient = (cluster: string, raw: KubeApiService) => {
      const known = cachedClients.get(cluster)
      if (known?.raw === raw) return known.cached
      const cached = cachedApi(raw, caches.cluster(cluster), {
        onRead: options.onCacheRead === undefined ? undefined : (kind, r) => options.onCacheRead?.(cluster, kind, r),
        listMemo: { kinds: [Kinds.StorageClass, Kinds.StorageProfile], millis: Duration.toMillis(STORAGE_FACTS_TTL) }
      })
      cachedClients.set(cluster, { raw, cached })
      return cached
    }
    const cachedSupervisor = cachedClient("supervisor", supervisor)
    const cachedRemotes: RemotesService = {
      get: (cluster) => Effect.map(remotes.get(cluster), (api) => cachedClient(cluster, api)),
      invalidate: remotes.invalidate
    }

    // Keys whose last reconcile left the status to the next one: that one writes it whatever it does.
    const deferredStatus = new Set<string>()
    const reconcileKey = (key: string) =>
      Effect.gen(function* () {
        const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const report: ReconcileReport = yield* reconcile(
          key,
          options.settings,
          () => (syncedInformers.has("KubevirtConfigs") ? [...configs.keys()] : undefined),
          { deferStatus: !deferredStatus.has(key) }
        ).pipe(
          Effect.provideService(SupervisorCache, supervisorCache),
          Effect.provideService(Supervisor, cachedSupervisor),
          Effect.provideService(Remotes, cachedRemotes),
          Effect.provideService(NetworkCache, networkCache),
          Effect.catchCause((cause) =>
            Effect.as(Effect.logError(`reconcile ${key} failed unexpectedly`, cause), {
              outcome: { _tag: "Backoff", reason: "Unexpected" },
              statusWritten: false
            } satisfies ReconcileReport)
          ),
          Effect.annotateLogs({ machine: key })
        )
        if (report.statusDeferred === true) deferredStatus.add(key)
        else deferredStatus.delete(key)
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
      // Its cluster cannot be decided on yet (not checked, caches filling): a reconcile would read nothing and write
      // nothing (reconcile.ts), so none runs. The cluster's readiness queues its Machines (enqueueCluster); the
      // recheck is the safety net for one whose cluster turns out to be another (ADR 0017, decision 14).
      const bound = clusterOf(key)
      if (bound !== undefined && healthFor(bound)?.phase === "Unknown") {
        yield* queue.done(key)
        yield* queue.addAfter(key, Duration.seconds(CLUSTER_RECHECK_SECONDS))
        return
      }
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
            return Effect.forEach(again, (k) => queue.add(k), { discard: true })
          })
        )
      )
    }).pipe(Effect.forever)

    const resyncAll = Effect.suspend(() => Effect.forEach([...machines.keys()], (k) => queue.add(k), { discard: true }))
    const resync = Effect.gen(function* () {
      yield* Effect.sleep(options.resync ?? "10 minutes")
      yield* resyncAll
    }).pipe(Effect.forever)
    const resyncOnDemand =
      options.resyncNow === undefined
        ? Effect.void
        : Effect.forever(Effect.andThen(Queue.take(options.resyncNow), resyncAll))

    /**
     * The health a reconcile sees: every cluster counts as not checked until the KubevirtConfigs have been listed,
     * and while its watch caches are filling (ADR 0017), so its Machines wait without a write instead of being
     * decided on reads the caches cannot answer yet.
     */
    const healthFor = (cluster: string) => {
      if (!syncedInformers.has("KubevirtConfigs")) return uncheckedHealth(cluster)
      if (caches.find(cluster)?.isFilling(clock.currentTimeMillisUnsafe()) === true)
        return {
          ...uncheckedHealth(cluster),
          message: "its watch caches are being filled (the first list of its objects is under way)"
        }
      return health.lookup(cluster)
    }

    yield* Effect.all(
      [
        runInformer(
          supervisor,
          Kinds.Machine,
          {},
          { onEvent: onMachine, onSynced: markSynced("Machines") },
          "Machines",
          supervisorCaches.register({
            kind: Kinds.Machine,
            labelSelector: {},
            complete: true,
            slim: slimFor(Kinds.Machine)
          })
        ),
        runInformer(
          supervisor,
          Kinds.KubevirtConfig,
          {},
          { onEvent: onConfig, onSynced: markSynced("KubevirtConfigs") },
          "KubevirtConfigs",
          supervisorCaches.register({
            kind: Kinds.KubevirtConfig,
            labelSelector: {},
            complete: true,
            slim: slimFor(Kinds.KubevirtConfig)
          })
        ),
        runInformer(
          supervisor,
          Kinds.MachineClass,
          {},
          {
            onEvent: onMachineClass,
            onSynced: () =>
              Effect.sync(() => {
                machineClassesSynced = true
              })
          },
          "MachineClasses",
          supervisorCaches.register({
            kind: Kinds.MachineClass,
            labelSelector: {},
            complete: true,
            slim: slimFor(Kinds.MachineClass)
          })
        ),
        runVitistackWatches(
          supervisor,
          networkCache,
          {
            add: queue.add,
            machinesIn: (namespace) => [...machines.keys()].filter((k) => k.startsWith(`${namespace}/`))
          },
          vitistackCaches
        ),
        resync,
        resyncOnDemand,
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
    ).pipe(Effect.provideService(ClusterHealthFacts, healthFor))
    return yield* Effect.never
  }).pipe(Effect.scoped)
