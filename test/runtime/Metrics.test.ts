/**
 * The Prometheus registry: exact text exposition (format 0.0.4) for a small registry, label and HELP escaping,
 * cumulative histogram buckets, validation, and the operator's `Metrics` service.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Stream } from "effect"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { describeObject, kubeApiError, Transport } from "../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { readOnly } from "../../src/effects/kube/readOnly.ts"
import {
  Counter,
  escapeLabelValue,
  formatValue,
  Gauge,
  Histogram,
  instrumentKubeApi,
  Metrics,
  makeOperatorMetrics,
  Registry
} from "../../src/runtime/Metrics.ts"

describe("Registry exposition", () => {
  it.effect("renders a small registry exactly", () =>
    Effect.gen(function* () {
      const r = new Registry()
      const requests = r.counter("app_requests_total", "Requests served.", ["method", "code"])
      const depth = r.gauge("app_queue_depth", "Items queued.")
      const latency = r.histogram("app_latency_seconds", "Request latency.", ["route"], [0.1, 1])
      yield* requests.inc({ method: "GET", code: "200" })
      yield* requests.inc({ method: "GET", code: "200" }, 2)
      yield* requests.inc({ method: "DELETE", code: "404" })
      yield* depth.set(7)
      yield* depth.dec(2)
      yield* latency.observe({ route: "/a" }, 0.05)
      yield* latency.observe({ route: "/a" }, 0.5)
      yield* latency.observe({ route: "/a" }, 3)
      assert.strictEqual(
        yield* r.expose,
        [
          "# HELP app_requests_total Requests served.",
          "# TYPE app_requests_total counter",
          'app_requests_total{method="DELETE",code="404"} 1',
          'app_requests_total{method="GET",code="200"} 3',
          "# HELP app_queue_depth Items queued.",
          "# TYPE app_queue_depth gauge",
          "app_queue_depth 5",
          "# HELP app_latency_seconds Request latency.",
          "# TYPE app_latency_seconds histogram",
          'app_latency_seconds_bucket{route="/a",le="0.1"} 1',
          'app_latency_seconds_bucket{route="/a",le="1"} 2',
          'app_latency_seconds_bucket{route="/a",le="+Inf"} 3',
          'app_latency_seconds_sum{route="/a"} 3.55',
          'app_latency_seconds_count{route="/a"} 3',
          ""
        ].join("\n")
      )
    })
  )

  it.effect("label-less metrics are scraped as zero before any update; labelled ones have no series yet", () =>
    Effect.gen(function* () {
      const r = new Registry()
      r.counter("a_total", "A.")
      r.counter("b_total", "B.", ["x"])
      r.histogram("c_seconds", "C.", [], [1])
      assert.strictEqual(
        yield* r.expose,
        [
          "# HELP a_total A.",
          "# TYPE a_total counter",
          "a_total 0",
          "# HELP b_total B.",
          "# TYPE b_total counter",
          "# HELP c_seconds C.",
          "# TYPE c_seconds histogram",
          'c_seconds_bucket{le="1"} 0',
          'c_seconds_bucket{le="+Inf"} 0',
          "c_seconds_sum 0",
          "c_seconds_count 0",
          ""
        ].join("\n")
      )
    })
  )

  it.effect("escapes backslash, double quote and newline in label values, and backslash/newline in HELP", () =>
    Effect.gen(function* () {
      const r = new Registry()
      const c = r.counter("esc_total", 'Help with \\ and\nnewline and "quotes".', ["path"])
      yield* c.inc({ path: 'C:\\dir\n"x"' })
      assert.strictEqual(
        yield* r.expose,
        [
          '# HELP esc_total Help with \\\\ and\\nnewline and "quotes".',
          "# TYPE esc_total counter",
          'esc_total{path="C:\\\\dir\\n\\"x\\""} 1',
          ""
        ].join("\n")
      )
      assert.strictEqual(escapeLabelValue('a"b'), 'a\\"b')
    })
  )

  it("formats special values the Prometheus way", () => {
    assert.deepStrictEqual(
      [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0.25, 1e-9, 42].map(formatValue),
      ["+Inf", "-Inf", "NaN", "0.25", "1e-9", "42"]
    )
  })

  it.effect("series are sorted by label values, whatever order they were created in", () =>
    Effect.gen(function* () {
      const g = new Gauge("reach", "R.", ["cluster"])
      yield* g.set({ cluster: "zeta" }, 1)
      yield* g.set({ cluster: "alpha" }, 0)
      yield* g.set({ cluster: "mid" }, 1)
      assert.deepStrictEqual(g.render().split("\n").slice(2, 5), [
        'reach{cluster="alpha"} 0',
        'reach{cluster="mid"} 1',
        'reach{cluster="zeta"} 1'
      ])
      yield* g.remove({ cluster: "mid" })
      assert.notInclude(g.render(), "mid")
    })
  )
})

describe("Histogram", () => {
  it.effect("buckets are cumulative: each count includes every smaller bucket, +Inf equals _count", () =>
    Effect.gen(function* () {
      const h = new Histogram("h_seconds", "H.", [], [1, 2, 5])
      for (const v of [0.5, 1, 1.5, 2, 2, 4, 9, 100]) yield* h.observe(v)
      const s = yield* h.snapshot()
      assert.deepStrictEqual(s.buckets, [
        [1, 2],
        [2, 5],
        [5, 6],
        [Number.POSITIVE_INFINITY, 8]
      ])
      assert.strictEqual(s.count, 8)
      assert.strictEqual(s.sum, 120)
      for (let i = 1; i < s.buckets.length; i++) assert.isAtLeast(s.buckets[i]![1], s.buckets[i - 1]![1])
      assert.include(h.render(), 'h_seconds_bucket{le="+Inf"} 8\nh_seconds_sum 120\nh_seconds_count 8\n')
    })
  )

  it("rejects unsorted buckets and the reserved label 'le'", () => {
    assert.throws(() => new Histogram("h", "H.", [], [1, 1]), /strictly increasing/)
    assert.throws(() => new Histogram("h", "H.", [], []), /strictly increasing/)
    assert.throws(() => new Histogram("h", "H.", ["le"]), /invalid label name 'le'/)
  })
})

describe("validation", () => {
  it("rejects bad metric and label names, and duplicate registrations", () => {
    assert.throws(() => new Counter("1bad", "x"), /invalid metric name/)
    assert.throws(() => new Counter("ok_total", "x", ["bad-label"]), /invalid label name/)
    assert.throws(() => new Counter("ok_total", "x", ["__reserved"]), /invalid label name/)
    const r = new Registry()
    r.counter("dup_total", "x")
    assert.throws(() => r.gauge("dup_total", "y"), /already registered/)
  })

  it.effect("a wrong label set or a negative counter increment is a defect", () =>
    Effect.gen(function* () {
      const c = new Counter("c_total", "C.", ["a"])
      const wrong = yield* Effect.exit(c.inc({ b: "x" } as unknown as { a: string }))
      assert.isTrue(Exit.hasDies(wrong))
      const negative = yield* Effect.exit(c.inc({ a: "x" }, -1))
      assert.isTrue(Exit.hasDies(negative))
      assert.strictEqual(yield* c.value({ a: "x" }), 0)
    })
  )
})

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
