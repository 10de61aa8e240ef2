/**
 * The Prometheus registry: exact text exposition (format 0.0.4) for a small registry, label and HELP escaping,
 * cumulative histogram buckets, validation.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import {
  Counter,
  escapeLabelValue,
  formatValue,
  Gauge,
  Histogram,
  Registry
} from "../../src/runtime/MetricsRegistry.ts"

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
