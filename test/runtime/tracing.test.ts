/**
 * OTLP span export (`tracing.ts`, ADR 0016): on only with an endpoint (and not turned off), and then the spans the
 * code opens reach the collector as OTLP/HTTP JSON, with the operator's service name, flushed when the program ends.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { tracingEnabled, tracingLayer } from "../../src/runtime/tracing.ts"

describe("tracing", () => {
  it("exports only with an endpoint, unless the SDK or the traces exporter is off", () => {
    assert.isFalse(tracingEnabled({}))
    assert.isFalse(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }))
    assert.isTrue(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }))
    assert.isTrue(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }))
    assert.isFalse(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" }))
    assert.isFalse(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" }))
    assert.isUndefined(tracingLayer({}))
  })

  it.live("the spans of an Effect.fn reach the collector at <endpoint>/v1/traces, with the service name", () =>
    Effect.gen(function* () {
      const received: Array<{ url: string | undefined; body: string }> = []
      const collector = createServer((req, res) => {
        let body = ""
        req.on("data", (c) => {
          body += String(c)
        })
        req.on("end", () => {
          received.push({ url: req.url, body })
          res.writeHead(200, { "content-type": "application/json" })
          res.end("{}")
        })
      })
      yield* Effect.promise(() => new Promise<void>((r) => collector.listen(0, "127.0.0.1", r)))
      const port = (collector.address() as AddressInfo).port
      const layer = tracingLayer({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, "0.1.0")
      assert.isDefined(layer)
      const reconcileLike = Effect.fn("reconcile")(function* (key: string) {
        yield* Effect.annotateCurrentSpan({ machine: key })
        yield* Effect.sleep("5 millis").pipe(Effect.withSpan("observe"))
      })
      yield* reconcileLike("default/vm-a").pipe(Effect.provide(layer!))
      yield* Effect.promise(() => new Promise((r) => collector.close(r)))
      const all = received.map((r) => r.body).join("\n")
      assert.deepStrictEqual([...new Set(received.map((r) => r.url))], ["/v1/traces"])
      for (const s of ['"name":"reconcile"', '"name":"observe"', "kubevirt-operator", "default/vm-a"])
        assert.include(all, s)
    })
  )
})
