/**
 * The health of each remote cluster, kept by the operator (leader only) and never fatal (reference W6): a probe loop
 * per KubevirtConfig (`effects/probeCluster.ts`, every 30 s) and the signals of the remote watches (the cluster
 * answered, or failed with a message) give one `ClusterHealth` per cluster (`domain/ClusterHealth.ts`). Runtime layer.
 * What changes is published: the KubevirtConfig's status (phase, reason, message; written only when it differs from
 * the stored one), `kubevirt_operator_remote_health{cluster,phase}`, a log line, and, when the cluster starts or stops
 * holding back its Machines, `onReadinessChange` so they are reconciled. The planner reads it through `lookup`.
 * It is not a plan action (ADR 0008 §6): it records what the operator saw of a cluster, not a decision about a
 * Machine. A failed status write is logged and tried again at the next probe.
 */
import { Duration, Effect, FiberMap, Option, Semaphore } from "effect"
import {
  blocksMachines,
  type ClusterHealth,
  ClusterPhase,
  evaluateHealth,
  isUsable,
  kubevirtConfigStatus,
  uncheckedHealth,
  unreachableHealth
} from "../domain/ClusterHealth.ts"
import { refOf } from "../domain/ObjectRef.ts"
import type { ClusterHealthLookup } from "../effects/ClusterHealthFacts.ts"
import type { RemotesService } from "../effects/Clusters.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import { probeCluster } from "../effects/probeCluster.ts"
import { Metrics, type OperatorMetrics } from "./Metrics.ts"

export interface ClusterHealthOptions {
  /** Time between two probes of one cluster. Default 30 seconds. */
  readonly interval?: Duration.Input | undefined
  /** The cluster was checked for the first time, or started or stopped holding back the Machines placed on it. */
  readonly onReadinessChange?: ((cluster: string) => Effect.Effect<void>) | undefined
}

export interface ClusterHealthMonitor {
  /**
   * A signal from a remote watch or from building the cluster's client: it answered (`reachable`), or failed with
   * `message`. A failure stands until the cluster answers again; an answer after a failure probes at once.
   */
  readonly report: (cluster: string, reachable: boolean, message: string) => Effect.Effect<void>
  /** (Re)starts the probe loop of `cluster` with a probe now (a new or changed KubevirtConfig or Secret). */
  readonly restart: (cluster: string) => Effect.Effect<void>
  /** Stops probing `cluster` and forgets it (its KubevirtConfig was deleted). */
  readonly forget: (cluster: string) => Effect.Effect<void>
  /** The last published health of a cluster, Unknown before its first check; undefined for one never configured. */
  readonly lookup: ClusterHealthLookup
  /** Every published health, by cluster name. */
  readonly snapshot: () => ReadonlyMap<string, ClusterHealth>
}

interface State {
  /** From `report`: the last watch or client failure, until the cluster answers. */
  reported?: string | undefined
  /** From the probe loop: its client could not be built. Cleared by the next probe that gets a client. */
  client?: string | undefined
  probed?: ClusterHealth | undefined
  published?: ClusterHealth | undefined
  /** The status last written to (or found on) the KubevirtConfig, as JSON. */
  written?: string | undefined
}

const current = (cluster: string, s: State): ClusterHealth | undefined => {
  const failure = s.reported ?? s.client
  return failure !== undefined ? unreachableHealth(cluster, failure) : s.probed
}

/** The `remote_api_served` series of a health. */
const servedSeries = (h: ClusterHealth | undefined) =>
  h === undefined
    ? []
    : [
        ...h.virtualMachineVersions.map((version) => ({ cluster: h.cluster, resource: "virtualmachines", version })),
        ...h.dataVolumeVersions.map((version) => ({ cluster: h.cluster, resource: "datavolumes", version }))
      ]

/** The phase as a state set (1 for the current one), and the served API versions (series that went are removed). */
const setMetrics = (metrics: OperatorMetrics, before: ClusterHealth | undefined, h: ClusterHealth) =>
  Effect.gen(function* () {
    for (const phase of ClusterPhase.literals)
      yield* metrics.remoteHealth.set({ cluster: h.cluster, phase }, phase === h.phase ? 1 : 0)
    const now = servedSeries(h)
    const key = (x: { readonly resource: string; readonly version: string }) => `${x.resource}/${x.version}`
    const kept = new Set(now.map(key))
    for (const gone of servedSeries(before).filter((x) => !kept.has(key(x))))
      yield* metrics.remoteApiServed.remove(gone)
    for (const series of now) yield* metrics.remoteApiServed.set(series, 1)
  })

/** A monitor writing through `supervisor`, resolving clients through `remotes`. Needs a Scope for its fibers. */
export const makeClusterHealth = (
  supervisor: KubeApiService,
  remotes: Pick<RemotesService, "get">,
  options: ClusterHealthOptions = {}
) =>
  Effect.gen(function* () {
    const interval = Duration.fromInputUnsafe(options.interval ?? "30 seconds")
    const metrics = yield* Effect.serviceOption(Metrics)
    const states = new Map<string, State>()
    const loops = yield* FiberMap.make<string>()
    const writes = Semaphore.makeUnsafe(1)
    const stateOf = (cluster: string) => {
      let s = states.get(cluster)
      if (s === undefined) {
        s = {}
        states.set(cluster, s)
      }
      return s
    }

    // Written when it differs from what was last written or found, so an unchanged cluster costs no write, also
    // after a restart of the operator (the first comparison is against the stored status).
    const writeStatus = (h: ClusterHealth) =>
      writes.withPermit(
        Effect.gen(function* () {
          const s = states.get(h.cluster)
          if (s === undefined) return
          const ref = refOf("KubevirtConfig", h.cluster)
          const stored = yield* supervisor.get(ref)
          if (Option.isNone(stored)) return
          const status = kubevirtConfigStatus(stored.value.status, h)
          if (JSON.stringify(status) !== JSON.stringify(stored.value.status ?? {}))
            yield* supervisor.updateStatus(ref, status, {
              resourceVersion: stored.value.metadata.resourceVersion ?? ""
            })
          s.written = JSON.stringify(h)
        })
      )

    const publish = (cluster: string) =>
      Effect.gen(function* () {
        const s = states.get(cluster)
        if (s === undefined) return
        const h = current(cluster, s)
        if (h === undefined) return
        const before = s.published
        if (JSON.stringify(before) !== JSON.stringify(h)) {
          s.published = h
          if (before?.phase !== h.phase || before?.message !== h.message) {
            const line = `remote cluster ${cluster} is ${h.phase} (${h.reason}): ${h.message}`
            yield* isUsable(h) ? Effect.logInfo(line) : Effect.logWarning(line)
          }
          if (Option.isSome(metrics)) yield* setMetrics(metrics.value, before, h)
          // The first health also wakes the cluster's Machines: their reconciles waited for it.
          if (
            (before === undefined || blocksMachines(before) !== blocksMachines(h)) &&
            options.onReadinessChange !== undefined
          )
            yield* options.onReadinessChange(cluster)
        }
        if (s.written !== JSON.stringify(h))
          yield* writeStatus(h).pipe(
            Effect.catch((e) =>
              Effect.logWarning(`cannot write the health of ${cluster} on its KubevirtConfig: ${e.message}`)
            )
          )
      })

    const probeOnce = (cluster: string) =>
      remotes.get(cluster).pipe(
        Effect.matchEffect({
          onFailure: (e) =>
            Effect.sync(() => {
              stateOf(cluster).client = e.message
            }),
          onSuccess: (api) =>
            Effect.map(probeCluster(api), (probe) => {
              const s = stateOf(cluster)
              s.client = undefined
              s.probed = evaluateHealth(cluster, probe)
            })
        }),
        Effect.andThen(publish(cluster))
      )

    const loop = (cluster: string) =>
      Effect.forever(Effect.andThen(probeOnce(cluster), Effect.sleep(interval))).pipe(Effect.annotateLogs({ cluster }))

    const restart = (cluster: string) =>
      Effect.andThen(
        Effect.sync(() => stateOf(cluster)),
        Effect.asVoid(FiberMap.run(loops, cluster, loop(cluster)))
      )

    const report = (cluster: string, reachable: boolean, message: string) =>
      Effect.gen(function* () {
        const s = stateOf(cluster)
        if (reachable) {
          const wasFailing = s.reported !== undefined
          s.reported = undefined
          // An answer after a failure: probe now rather than publish the last probe, which may be stale.
          if (wasFailing) return yield* restart(cluster)
        } else s.reported = message
        yield* publish(cluster)
      })

    const forget = (cluster: string) =>
      Effect.gen(function* () {
        yield* FiberMap.remove(loops, cluster)
        const published = states.get(cluster)?.published
        states.delete(cluster)
        if (Option.isSome(metrics)) {
          for (const phase of ClusterPhase.literals) yield* metrics.value.remoteHealth.remove({ cluster, phase })
          for (const series of servedSeries(published)) yield* metrics.value.remoteApiServed.remove(series)
        }
      })

    const monitor: ClusterHealthMonitor = {
      report,
      restart,
      forget,
      // A configured cluster not checked yet is Unknown, which holds its Machines back until the first check.
      lookup: (cluster) => {
        const s = states.get(cluster)
        return s === undefined ? undefined : (s.published ?? uncheckedHealth(cluster))
      },
      snapshot: () =>
        new Map(
          [...states].flatMap(([cluster, s]) => (s.published === undefined ? [] : [[cluster, s.published] as const]))
        )
    }
    return monitor
  })
