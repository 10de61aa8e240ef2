/**
 * The operator's `Metrics` service (its metrics under their documented names, synchronous updates for callbacks) and
 * `instrumentKubeApi`, which counts a cluster client's requests through the instrumentation decorator.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { describeObject, kubeApiError, Transport } from "../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { readOnly } from "../../src/effects/kube/readOnly.ts"
import { instrumentKubeApi, Metrics, makeOperatorMetrics } from "../../src/runtime/Metrics.ts"

describe("Metrics service", () => {
  it.effect("holds the operator's metrics under their documented names", () =>
    Effect.gen(function* () {
      const m = yield* Metrics
      yield* m.reconciles.inc({ result: "success" })
      yield* m.reconcileErrors.inc({ reason: "Conflict" })
      yield* m.reconcileDuration.observe({ result: "success" }, 0.2)
      yield* m.workqueueDepth.set(3)
      yield* m.workqueueAdds.inc()
      yield* m.workqueueRetries.inc()
      yield* m.workqueueLatency.observe(0.02)
      yield* m.apiRequests.inc({ cluster: "supervisor", verb: "get", code: "200" })
      yield* m.actions.inc({ action: "CreateVirtualMachine", outcome: "success" })
      yield* m.leader.set(1)
      yield* m.remoteReachable.set({ cluster: "remote-a" }, 1)
      const text = yield* m.expose
      for (const line of [
        'kubevirt_operator_reconcile_total{result="success"} 1',
        'kubevirt_operator_reconcile_errors_total{reason="Conflict"} 1',
        'kubevirt_operator_reconcile_duration_seconds_bucket{result="success",le="0.25"} 1',
        'kubevirt_operator_reconcile_duration_seconds_count{result="success"} 1',
        "kubevirt_operator_workqueue_depth 3",
        "kubevirt_operator_workqueue_adds_total 1",
        "kubevirt_operator_workqueue_retries_total 1",
        'kubevirt_operator_workqueue_latency_seconds_bucket{le="0.1"} 1',
        'kubevirt_operator_api_requests_total{cluster="supervisor",verb="get",code="200"} 1',
        'kubevirt_operator_actions_total{action="CreateVirtualMachine",outcome="success"} 1',
        "kubevirt_operator_leader 1",
        'kubevirt_operator_remote_reachable{cluster="remote-a"} 1'
      ]) {
        assert.include(text.split("\n"), line)
      }
      for (const [name, type] of [
        ["kubevirt_operator_reconcile_duration_seconds", "histogram"],
        ["kubevirt_operator_workqueue_latency_seconds", "histogram"],
        ["kubevirt_operator_leader", "gauge"],
        ["kubevirt_operator_api_requests_total", "counter"]
      ]) {
        assert.include(text, `# TYPE ${name} ${type}\n`)
      }
    }).pipe(Effect.provide(Metrics.layer))
  )

  it.effect("the Unsafe variants record synchronously, for plain callbacks such as WorkQueue hooks", () =>
    Effect.gen(function* () {
      const m = yield* Metrics
      const hooks = {
        onAdd: (_key: string) => m.workqueueAdds.incUnsafe(),
        onDepth: (depth: number) => m.workqueueDepth.setUnsafe(depth),
        onLatency: (seconds: number) => m.workqueueLatency.observeUnsafe(seconds)
      }
      hooks.onAdd("ns/a")
      hooks.onAdd("ns/b")
      hooks.onDepth(2)
      hooks.onLatency(0.5)
      m.remoteReachable.setUnsafe({ cluster: "remote-a" }, 1)
      m.remoteReachable.decUnsafe({ cluster: "remote-a" })
      assert.strictEqual(yield* m.workqueueAdds.value(), 2)
      assert.strictEqual(yield* m.workqueueDepth.value(), 2)
      assert.strictEqual((yield* m.workqueueLatency.snapshot()).count, 1)
      assert.strictEqual(yield* m.remoteReachable.value({ cluster: "remote-a" }), 0)
    }).pipe(Effect.provide(Metrics.layer))
  )

  it.effect("each layer build has its own registry", () =>
    Effect.gen(function* () {
      yield* Effect.gen(function* () {
        yield* (yield* Metrics).workqueueAdds.inc(5)
      }).pipe(Effect.provide(Metrics.layer))
      const fresh = yield* Effect.gen(function* () {
        return yield* (yield* Metrics).workqueueAdds.value()
      }).pipe(Effect.provide(Metrics.layer))
      assert.strictEqual(fresh, 0)
    })
  )
})

describe("instrumentKubeApi", () => {
  const cm = refOf("Secret", "s", "default")
  const seeded = () => {
    const cluster = InMemoryCluster.make()
    cluster.seed([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } }])
    return makeInMemoryApi(cluster)
  }

  it.effect("counts each request by cluster, verb and code, and marks the cluster reachable", () =>
    Effect.gen(function* () {
      const m = makeOperatorMetrics()
      const api = instrumentKubeApi(seeded(), "remote-a", m)
      yield* api.get(cm)
      yield* api.create(cm, { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" } })
      yield* Effect.flip(api.create(cm, { apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }))
      yield* api.get(cm)
      yield* api.watch({ apiVersion: "v1", kind: "Secret" }).pipe(Stream.take(1), Stream.runCollect)
      const count = (verb: string, code: string) => m.apiRequests.value({ cluster: "remote-a", verb, code })
      assert.deepStrictEqual(
        [
          yield* count("get", "404"),
          yield* count("get", "200"),
          yield* count("create", "201"),
          yield* count("create", "409"),
          yield* count("watch", "200")
        ],
        [1, 1, 1, 1, 1]
      )
      assert.strictEqual(yield* m.remoteReachable.value({ cluster: "remote-a" }), 1)
    })
  )

  it.effect("a request without a response counts as 'transport' and marks the cluster unreachable", () =>
    Effect.gen(function* () {
      const m = makeOperatorMetrics()
      const down: KubeApiService = {
        ...seeded(),
        get: (ref) => Effect.fail(kubeApiError("get", describeObject(ref), new Transport({ message: "ECONNREFUSED" })))
      }
      const api = instrumentKubeApi(down, "remote-b", m)
      yield* Effect.flip(api.get(cm))
      assert.strictEqual(yield* m.apiRequests.value({ cluster: "remote-b", verb: "get", code: "transport" }), 1)
      assert.strictEqual(yield* m.remoteReachable.value({ cluster: "remote-b" }), 0)
    })
  )

  it.effect("writes refused by the read-only layer are not requests and are not counted", () =>
    Effect.gen(function* () {
      const m = makeOperatorMetrics()
      const api = instrumentKubeApi(readOnly(seeded()), "supervisor", m)
      yield* Effect.flip(api.delete(cm))
      assert.notInclude(yield* m.expose, 'verb="delete"')
    })
  )
})
