/**
 * The operator loop: informers feed Machine keys into the work queue; N workers reconcile them, never two on one key;
 * the outcome decides the requeue; a periodic resync is the safety net. Runtime layer.
 * Watches: Machines (status-only changes are ignored, so our own status writes do not wake us), KubevirtConfigs, the
 * Secrets they reference (only in their namespaces), and per remote cluster the VMs, VMIs and PVCs that carry our
 * `managed-by` label, so a VM's status change reaches its Machine without polling, and the NetworkAttachmentDefinitions
 * (not ours: a new one wakes the Machines of its namespace that wait for it; ADR 0007).
 */
import { Duration, Effect, FiberMap, Option, Result, Schedule, Schema } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PLACEMENT_ANNOTATION,
  SOURCE_MACHINE_ANNOTATION,
  SOURCE_MACHINE_LABEL
} from "../domain/labels.ts"
import { Kinds, refOf } from "../domain/ObjectRef.ts"
import type { ReconcileOutcome } from "../domain/reconcileOutcome.ts"
import type { Settings } from "../domain/Settings.ts"
import { Remotes, Supervisor } from "../effects/Clusters.ts"
import type { EventRecorder } from "../effects/EventRecorder.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import { type ReconcileReport, reconcile } from "../effects/reconcile.ts"
import { apiRetry, retryApi } from "../effects/retry.ts"
import { runInformer } from "./informer.ts"
import { makeWorkQueue, type WorkQueueHooks, type WorkQueueOptions } from "./WorkQueue.ts"

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

/** The Machine a remote object belongs to: VMs and VMIs share its name; PVCs say it in a label (or annotation). */
const machineKeyOfRemote = (o: KubeObject): string | undefined => {
  if (o.kind !== "PersistentVolumeClaim") return keyOf(o)
  const source = o.metadata.annotations?.[SOURCE_MACHINE_ANNOTATION] ?? o.metadata.labels?.[SOURCE_MACHINE_LABEL]
  return source === undefined ? undefined : `${o.metadata.namespace}/${source}`
}

const decodeConfig = Schema.decodeUnknownResult(KubevirtConfig)

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

/** How often a remote without a NetworkAttachmentDefinition watch (not served, not permitted) is asked again. */
const NAD_REPROBE = Duration.minutes(10)

/** Retry for resolving a remote client before watching it: 1 s doubling to 60 s, jittered, forever. */
const informerRetry = Schedule.min([Schedule.exponential("1 second"), Schedule.spaced("60 seconds")]).pipe(
  Schedule.jittered
)

/** Runs the operator until interrupted. */
export const runOperator = (options: OperatorOptions) =>
  Effect.gen(function* () {
    const supervisor = yield* Supervisor
    const remotes = yield* Remotes
    const queue = yield* makeWorkQueue(options.queue, options.queueHooks)
    const machines = new Map<string, { readonly fingerprint: string; readonly cluster: string | undefined }>()
    const phases = new Map<string, string>()
    const configs = new Map<string, KubevirtConfig>()
    const remoteWatchers = yield* FiberMap.make<string>()
    const secretWatchers = yield* FiberMap.make<string>()
    // Ready once both supervisor caches have listed once.
    const syncedInformers = new Set<string>()
    const markSynced = (informer: string) => () =>
      Effect.sync(() => {
        syncedInformers.add(informer)
        if (syncedInformers.size === 2) options.onSynced?.()
      })

    const enqueueNamespace = (cluster: string, namespace: string | undefined) =>
      Effect.forEach(
        namespace === undefined
          ? []
          : [...machines].filter(([k, m]) => m.cluster === cluster && k.startsWith(`${namespace}/`)),
        ([k]) => queue.add(k),
        { discard: true }
      )

    const enqueueCluster = (cluster: string) =>
      Effect.forEach(
        [...machines].filter(([, m]) => m.cluster === cluster || m.cluster === undefined),
        ([k]) => queue.add(k),
        { discard: true }
      )

    // What each remote cluster last looked like, reported on its KubevirtConfig's status (written only on change).
    const health = new Map<string, string>()
    const reportHealth = (cluster: string, reachable: boolean, message: string) =>
      Effect.gen(function* () {
        const status = {
          phase: reachable ? "Ready" : "Error",
          status: reachable ? "Reachable" : "Unreachable",
          message
        }
        if (health.get(cluster) === JSON.stringify(status)) return
        const ref = refOf("KubevirtConfig", cluster)
        const current = yield* supervisor.get(ref)
        if (Option.isNone(current)) return
        yield* supervisor.updateStatus(
          ref,
          { ...(current.value.status as object | undefined), name: cluster, ...status },
          { resourceVersion: current.value.metadata.resourceVersion ?? "" }
        )
        health.set(cluster, JSON.stringify(status))
      }).pipe(Effect.catch((e) => Effect.logWarning(`cannot report health on KubevirtConfig ${cluster}: ${e.message}`)))

    // Per remote cluster: VMs, VMIs and PVCs with our label. Restarted when the cluster's kubeconfig changes.
    const watchRemote = (cluster: string) =>
      Effect.gen(function* () {
        const api = yield* remotes.get(cluster).pipe(
          Effect.tapError((e) => Effect.andThen(Effect.logWarning(e.message), reportHealth(cluster, false, e.message))),
          Effect.retry({ schedule: informerRetry })
        )
        const onEvent = (_t: string, o: KubeObject) => {
          const key = machineKeyOfRemote(o)
          return key === undefined ? Effect.void : queue.add(key)
        }
        const selector = { labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } }
        yield* Effect.all(
          [
            runInformer(
              api,
              Kinds.VirtualMachine,
              selector,
              {
                onEvent,
                onSynced: () => reportHealth(cluster, true, "the remote cluster answers"),
                onError: (e) => reportHealth(cluster, false, e.message)
              },
              `${cluster}/VirtualMachines`
            ),
            runInformer(api, Kinds.VirtualMachineInstance, selector, { onEvent }, `${cluster}/VirtualMachineInstances`),
            runInformer(api, Kinds.PersistentVolumeClaim, selector, { onEvent }, `${cluster}/PersistentVolumeClaims`),
            watchNetworkAttachments(api, cluster)
          ],
          { concurrency: "unbounded", discard: true }
        )
      }).pipe(Effect.annotateLogs({ cluster }))

    // NetworkAttachmentDefinitions are the cluster owner's and carry no label of ours: all are watched, and an event
    // wakes the Machines of that namespace on this cluster. Where the kind is not served (no Multus) or the identity
    // may not list it, there is no watch (said once) and waiting Machines retry with backoff; the question is asked
    // again every NAD_REPROBE, so Multus or the permission arriving later is noticed. Transient failures are retried
    // before deciding.
    const watchNetworkAttachments = (api: KubeApiService, cluster: string, said = false): Effect.Effect<void> =>
      retryApi(apiRetry)(api.list(Kinds.NetworkAttachmentDefinition, {})).pipe(
        Effect.matchEffect({
          onFailure: (e) =>
            e.reason._tag === "NotFound" || e.reason._tag === "Forbidden"
              ? (said
                  ? Effect.void
                  : Effect.logInfo(
                      `not watching NetworkAttachmentDefinitions on ${cluster} (${e.message}); Machines waiting for one retry with backoff`
                    )
                ).pipe(
                  Effect.andThen(Effect.sleep(NAD_REPROBE)),
                  Effect.andThen(Effect.suspend(() => watchNetworkAttachments(api, cluster, true)))
                )
              : watchNads(api, cluster),
          onSuccess: () => watchNads(api, cluster)
        })
      )
    const watchNads = (api: KubeApiService, cluster: string) =>
      runInformer(
        api,
        Kinds.NetworkAttachmentDefinition,
        {},
        { onEvent: (_t, o) => enqueueNamespace(cluster, o.metadata.namespace) },
        `${cluster}/NetworkAttachmentDefinitions`
      )

    // A changed KubevirtConfig or Secret: forget the cached client, then watch through a new one.
    const restartRemote = (cluster: string) =>
      Effect.logDebug(`(re)starting watches on remote cluster ${cluster}`).pipe(
        Effect.andThen(remotes.invalidate(cluster)),
        Effect.andThen(FiberMap.run(remoteWatchers, cluster, watchRemote(cluster))),
        Effect.asVoid
      )

    // Secrets are watched only in the namespaces KubevirtConfigs point at, and only referenced ones matter.
    const watchSecrets = (namespace: string) =>
      runInformer(
        supervisor,
        Kinds.Secret,
        { namespace },
        {
          onEvent: (_t, o) =>
            Effect.forEach(
              [...configs.values()].filter(
                (c) => c.spec.secretNamespace === namespace && c.spec.kubeconfigSecretRef === o.metadata.name
              ),
              (c) => Effect.andThen(restartRemote(c.metadata.name), enqueueCluster(c.metadata.name)),
              { discard: true }
            )
        },
        `Secrets in ${namespace}`
      )

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
        machines.set(key, { fingerprint: print, cluster: o.metadata.annotations?.[PLACEMENT_ANNOTATION] })
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
        resync,
        ...Array.from({ length: options.workers ?? 4 }, () => worker)
      ],
      { concurrency: "unbounded", discard: true }
    )
  }).pipe(Effect.scoped) as Effect.Effect<never, never, Supervisor | Remotes | EventRecorder>
