/**
 * The `Metrics` service holding the operator's named metrics (on a `MetricsRegistry`), and `instrumentKubeApi`,
 * which binds a cluster client's requests to them through the instrumentation decorator in `effects/kube`. Runtime
 * layer. `/metrics` (HealthServer.ts) serves `expose`.
 */
import { Context, Effect, Layer } from "effect"
import type { KubeApiService } from "../effects/KubeApi.ts"
import { instrumented } from "../effects/kube/clients.ts"
import { type Counter, type Gauge, type Histogram, Registry } from "./MetricsRegistry.ts"

/** Reconcile durations: 5 ms to 2 min (a reconcile may wait on several remote API calls). */
export const reconcileBuckets: ReadonlyArray<number> = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120
]

/** Time in the work queue: 1 ms to 1000 s (backoff can hold a key for minutes). */
export const queueLatencyBuckets: ReadonlyArray<number> = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1000]

/** The operator's metrics. Label values are bounded sets (results, reasons, verbs, codes, cluster names). */
export interface OperatorMetrics {
  readonly registry: Registry
  /** `kubevirt_operator_reconcile_total{result}`: result is `success`, `error`, `requeue`. */
  readonly reconciles: Counter<"result">
  /** `kubevirt_operator_reconcile_errors_total{reason}`: reason is a KubeApiError reason tag or a diagnostic. */
  readonly reconcileErrors: Counter<"reason">
  /** `kubevirt_operator_reconcile_duration_seconds{result}`. */
  readonly reconcileDuration: Histogram<"result">
  /** `kubevirt_operator_workqueue_depth`: keys waiting (ready or delayed). */
  readonly workqueueDepth: Gauge
  /** `kubevirt_operator_workqueue_adds_total`. */
  readonly workqueueAdds: Counter
  /** `kubevirt_operator_workqueue_retries_total`: keys requeued with backoff after a failure. */
  readonly workqueueRetries: Counter
  /** `kubevirt_operator_workqueue_latency_seconds`: from ready-to-run until a worker took the key. */
  readonly workqueueLatency: Histogram
  /** `kubevirt_operator_api_requests_total{cluster,verb,code}`: code is the HTTP status or `transport`. */
  readonly apiRequests: Counter<"cluster" | "verb" | "code">
  /** `kubevirt_operator_actions_total{action,outcome}`: action is an Action tag. */
  readonly actions: Counter<"action" | "outcome">
  /** `kubevirt_operator_leader`: 1 while this replica holds the leader Lease. */
  readonly leader: Gauge
  /** `kubevirt_operator_remote_reachable{cluster}`: 1 when the last call to the remote cluster got a response. */
  readonly remoteReachable: Gauge<"cluster">
  /** `kubevirt_operator_machines{phase}`: in-scope Machines in the leader's watch cache by status.phase. */
  readonly machines: Gauge<"phase">
  /**
   * `kubevirt_operator_remote_health{cluster,phase}`: 1 for the phase of the remote cluster's last health check
   * (Ready, Degraded, NotReady, Error), 0 for the others (ADR 0012).
   */
  readonly remoteHealth: Gauge<"cluster" | "phase">
  /**
   * `kubevirt_operator_remote_api_served{cluster,resource,version}`: 1 for each version of `virtualmachines`
   * (kubevirt.io) and `datavolumes` (cdi.kubevirt.io) the remote cluster serves, from its last health check.
   */
  readonly remoteApiServed: Gauge<"cluster" | "resource" | "version">
  /**
   * `kubevirt_operator_machine_provider_registered`: 1 while the operator's MachineProvider exists and the operator
   * keeps its status; 0 while it cannot (a failure is logged and retried, never fatal).
   */
  readonly machineProviderRegistered: Gauge
  /**
   * `kubevirt_operator_events_dropped_total{reason}`: Events not written, `full` (the pending set was full: the
   * recorder never makes a reconcile wait) or `failed` (the write failed).
   */
  readonly eventsDropped: Counter<"reason">
  /** `kubevirt_operator_cache_reads_total{cluster,kind,result}`: reconcile reads through the watch caches. */
  readonly cacheReads: Counter<"cluster" | "kind" | "result">
  /** The registry in text format 0.0.4. */
  readonly expose: Effect.Effect<string>
}

/** A fresh registry with the operator's metrics registered. */
export const makeOperatorMetrics = (): OperatorMetrics => {
  const registry = new Registry()
  const p = "kubevirt_operator_"
  return {
    registry,
    reconciles: registry.counter(`${p}reconcile_total`, "Reconciles by result.", ["result"]),
    reconcileErrors: registry.counter(`${p}reconcile_errors_total`, "Failed reconciles by reason.", ["reason"]),
    reconcileDuration: registry.histogram(
      `${p}reconcile_duration_seconds`,
      "Time spent in one reconcile (observe, plan, execute, status), by result.",
      ["result"],
      reconcileBuckets
    ),
    workqueueDepth: registry.gauge(`${p}workqueue_depth`, "Keys in the work queue."),
    workqueueAdds: registry.counter(`${p}workqueue_adds_total`, "Keys added to the work queue."),
    workqueueRetries: registry.counter(`${p}workqueue_retries_total`, "Keys requeued with backoff after a failure."),
    workqueueLatency: registry.histogram(
      `${p}workqueue_latency_seconds`,
      "Time a key waited in the work queue after it became due.",
      [],
      queueLatencyBuckets
    ),
    apiRequests: registry.counter(`${p}api_requests_total`, "Kubernetes API requests by cluster, verb and code.", [
      "cluster",
      "verb",
      "code"
    ]),
    actions: registry.counter(`${p}actions_total`, "Executed plan actions by action and outcome.", [
      "action",
      "outcome"
    ]),
    leader: registry.gauge(`${p}leader`, "1 while this replica holds the leader election Lease, else 0."),
    remoteReachable: registry.gauge(
      `${p}remote_reachable`,
      "1 when the remote cluster answered the last request, else 0.",
      ["cluster"]
    ),
    machines: registry.gauge(
      `${p}machines`,
      "Machines in scope (spec.provider kubevirt or empty) by status.phase, as the leader's watch cache holds them; Unknown: no phase yet.",
      ["phase"]
    ),
    remoteHealth: registry.gauge(
      `${p}remote_health`,
      "1 for the phase of the remote cluster's last health check (Ready, Degraded, NotReady, Error), 0 for the others.",
      ["cluster", "phase"]
    ),
    remoteApiServed: registry.gauge(
      `${p}remote_api_served`,
      "1 for each version of virtualmachines (kubevirt.io) and datavolumes (cdi.kubevirt.io) the remote cluster serves.",
      ["cluster", "resource", "version"]
    ),
    machineProviderRegistered: registry.gauge(
      `${p}machine_provider_registered`,
      "1 while the operator's MachineProvider exists and the operator keeps its status, else 0."
    ),
    eventsDropped: registry.counter(
      `${p}events_dropped_total`,
      "Events not written: the pending set was full (reconciles never wait for events), or the write failed.",
      ["reason"]
    ),
    cacheReads: registry.counter(
      `${p}cache_reads_total`,
      "Reads of reconciles through the watch caches: hit (answered from memory), live (asked the API), unknown (a watch failing for too long).",
      ["cluster", "kind", "result"]
    ),
    expose: registry.expose
  }
}

/** The operator's metrics registry. Every replica serves it (leaders and standbys). */
export class Metrics extends Context.Service<Metrics, OperatorMetrics>()("kubevirt-operator/runtime/Metrics") {
  /** A fresh registry per layer build; build the layer once per process so every component shares it. */
  static readonly layer: Layer.Layer<Metrics> = Layer.sync(Metrics, makeOperatorMetrics)
}

/**
 * Wraps a cluster client so that every request counts in `kubevirt_operator_api_requests_total{cluster,verb,code}`
 * and sets `kubevirt_operator_remote_reachable{cluster}` (1 after any response, 0 after a request that got none).
 * `cluster` is `supervisor` or the KubevirtConfig name. The decorator itself is `effects/kube/instrumented.ts`.
 */
export const instrumentKubeApi = (api: KubeApiService, cluster: string, metrics: OperatorMetrics): KubeApiService =>
  instrumented(api, {
    request: (verb, code, answered) =>
      Effect.andThen(
        metrics.apiRequests.inc({ cluster, verb, code }),
        metrics.remoteReachable.set({ cluster }, answered ? 1 : 0)
      )
  })
