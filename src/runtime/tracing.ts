/**
 * Span export over OTLP (ADR 0016): the spans the code already opens (`Effect.fn("reconcile")`, `"observe"`,
 * `"decide"`, `"execute"`, `"Executor.*"`, ...) go to an OpenTelemetry collector when an endpoint is configured, and
 * nowhere otherwise. Runtime layer, on `effect/observability`'s `OtlpTracer` (OTLP/HTTP JSON, through
 * `effect/http`'s fetch client). The standard environment applies as Effect reads it: `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (`/v1/traces` is appended) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `..._HEADERS`, `..._TIMEOUT`,
 * `..._COMPRESSION`, `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_SDK_DISABLED`; `OTEL_TRACES_EXPORTER` defaults to `otlp` when an endpoint is set (the OpenTelemetry default;
 * `none` turns export off), `OTEL_SERVICE_NAME` to `kubevirt-operator`.
 */
import { ConfigProvider, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"

export const SERVICE_NAME = "kubevirt-operator"

type Env = Readonly<Record<string, string | undefined>>

/** Whether spans are exported: an endpoint is set, and the SDK and the traces exporter are not turned off. */
export const tracingEnabled = (env: Env): boolean =>
  ((env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? "") !== "" || (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "") !== "") &&
  env.OTEL_SDK_DISABLED !== "true" &&
  (env.OTEL_TRACES_EXPORTER ?? "otlp").split(",").some((e) => e.trim() === "otlp")

/**
 * The span exporter for this environment, or none. Spans are batched and sent in the background; an unreachable
 * collector loses spans, never slows or stops the operator. Pending spans are flushed when the layer's scope closes.
 */
export const tracingLayer = (env: Env, serviceVersion?: string) => {
  if (!tracingEnabled(env)) return undefined
  const defined = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
  const provider = ConfigProvider.fromEnv({
    env: {
      ...defined,
      OTEL_TRACES_EXPORTER: env.OTEL_TRACES_EXPORTER ?? "otlp",
      OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME ?? SERVICE_NAME
    }
  })
  return OtlpTracer.layerFromConfig(serviceVersion === undefined ? undefined : { resource: { serviceVersion } }).pipe(
    Layer.provide(Layer.mergeAll(OtlpSerialization.layerJson, FetchHttpClient.layer)),
    Layer.provide(ConfigProvider.layer(provider))
  )
}
