/**
 * The operator's instruments on Effect's metrics (`MetricsRegistry.ts`, ADR 0016): the exposition PrometheusMetrics
 * renders for a small registry, declared families before their first series, label-less metrics at zero, registries
 * that share nothing, and the checks Effect's formatter would otherwise paper over (names, labels, buckets).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Registry } from "../../src/runtime/MetricsRegistry.ts"

describe("Registry exposition", () => {
  it.effect("renders a small registry through PrometheusMetrics: counters, gauges, cumulative histogram buckets", () =>
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
      const lines = (yield* r.expose).split("\n")
      for (const line of [
        "# HELP app_requests_total Requests served.",
        "# TYPE app_requests_total counter",
        'app_requests_total{method="DELETE",code="404"} 1',
        'app_requests_total{method="GET",code="200"} 3',
        "# HELP app_queue_depth Items queued.",
        "# TYPE app_queue_depth gauge",
        "app_queue_depth 5",
        "# TYPE app_latency_seconds histogram",
        'app_latency_seconds_bucket{route="/a",le="0.1"} 1',
        'app_latency_seconds_bucket{route="/a",le="1"} 2',
        'app_latency_seconds_bucket{route="/a",le="+Inf"} 3',
        'app_latency_seconds_sum{route="/a"} 3.55',
        'app_latency_seconds_count{route="/a"} 3'
      ])
        assert.include(lines, line)
      assert.strictEqual(yield* requests.value({ method: "GET", code: "200" }), 3)
      assert.deepStrictEqual(yield* latency.snapshot({ route: "/a" }), {
        buckets: [
          [0.1, 1],
          [1, 2]
        ],
        sum: 3.55,
        count: 3
      })
    })
  )

  it.effect(
    "every declared family has HELP and TYPE from the first scrape; label-less metrics are 0 until updated",
    () =>
      Effect.gen(function* () {
        const r = new Registry()
        r.counter("a_total", "A.")
        r.counter("b_total", "B, with a \\ and a\nnewline.", ["x"])
        r.gauge("c", "C.")
        const text = yield* r.expose
        assert.include(text.split("\n"), "a_total 0")
        assert.include(text.split("\n"), "c 0")
        assert.include(text, "# HELP b_total B, with a \\\\ and a\\nnewline.\n# TYPE b_total counter\n")
        assert.notInclude(text, "b_total{")
      })
  )

  it.effect("label values are escaped; a gauge series can be removed; registries share nothing", () =>
    Effect.gen(function* () {
      const r = new Registry()
      const g = r.gauge("g", "G.", ["cluster"])
      yield* g.set({ cluster: 'a"b\\c\nd' }, 1)
      yield* g.set({ cluster: "gone" }, 1)
      yield* g.remove({ cluster: "gone" })
      const text = yield* r.expose
      assert.include(text, 'g{cluster="a\\"b\\\\c\\nd"} 1')
      assert.notInclude(text, "gone")
      const other = new Registry()
      other.gauge("g", "G.", ["cluster"])
      assert.notInclude(yield* other.expose, "g{")
    })
  )

  it("refuses bad names, reserved or duplicate labels, a second family of one name, bad buckets, a decreasing counter", () => {
    const r = new Registry()
    assert.throws(() => r.counter("1bad", "x"))
    assert.throws(() => r.counter("ok_total", "x", ["__reserved"]))
    assert.throws(() => r.counter("ok2_total", "x", ["a", "a"]))
    assert.throws(() => r.histogram("h", "x", ["le"]))
    assert.throws(() => r.histogram("h2", "x", [], [1, 1]))
    r.counter("dup_total", "x")
    assert.throws(() => r.counter("dup_total", "x"))
    const c = r.counter("c_total", "x")
    assert.throws(() => c.incUnsafe(-1))
  })
})
