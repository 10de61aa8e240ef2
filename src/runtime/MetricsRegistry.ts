/**
 * The operator's instruments on Effect's own metrics (`effect/Metric`), rendered for Prometheus by
 * `effect/observability`'s `PrometheusMetrics` (ADR 0016). Runtime layer (the operator's metrics: `Metrics.ts`).
 * Series, their state and the text format are Effect's; this file adds what the operator needs on top:
 * - label sets typed by name (`Counter<"cluster" | "verb" | "code">`), turned into the metric's attributes in the
 *   declared order, one Effect metric per label set (created once, then reused);
 * - a registry per `Registry` (Effect's `MetricRegistry` reference, given a map of its own in a context of its own), so
 *   two operators in one process, or two tests, never share series;
 * - every update as an Effect (`inc`, `set`, `observe`) and synchronously with the `Unsafe` suffix for plain callbacks
 *   such as WorkQueue hooks, where a returned Effect would be dropped;
 * - `# HELP`/`# TYPE` for every declared family, also before its first series (Effect registers a series on its first
 *   update; dashboards and alerts can rely on the family being declared from the first scrape);
 * - label-less metrics scraped as 0 from the start (read once when declared, which registers them).
 */
import { Context, Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"

/** One value per label name of the metric. */
export type LabelValues<L extends string> = { readonly [K in L]: string }

/** Arguments of an instrument call: `A` alone for label-less metrics, `[labels, ...A]` otherwise. */
export type WithLabels<L extends string, A extends ReadonlyArray<unknown>> = [L] extends [never]
  ? A
  : [labels: LabelValues<L>, ...A]

export type MetricType = "counter" | "gauge" | "histogram"

/** The Prometheus text format's content type (0.0.4), as PrometheusMetrics serves it. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * What every instrument shares: its name, help and label names, and one Effect metric per label set in the
 * registry's context.
 */
abstract class Instrument<L extends string, M> {
  abstract readonly type: MetricType
  readonly name: string
  readonly help: string
  readonly labelNames: ReadonlyArray<L>
  protected readonly context: Context.Context<never>
  private readonly byLabels = new Map<string, M>()

  constructor(
    name: string,
    help: string,
    labelNames: ReadonlyArray<L>,
    context: Context.Context<never>,
    reserved: ReadonlyArray<string> = []
  ) {
    // Prometheus would accept what Effect's formatter silently rewrites: refuse it here instead.
    if (!metricName.test(name)) throw new Error(`invalid metric name '${name}'`)
    for (const l of labelNames)
      if (!labelName.test(l) || l.startsWith("__") || reserved.includes(l))
        throw new Error(`invalid label name '${l}' for metric '${name}'`)
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label names for metric '${name}'`)
    this.name = name
    this.help = help
    this.labelNames = labelNames
    this.context = context
  }

  /** The Effect metric of a label set (its attributes in the declared label order). */
  protected abstract make(attributes: Readonly<Record<string, string>> | undefined): M

  /** Splits `WithLabels` arguments into the label values and the rest. */
  protected split(args: ReadonlyArray<unknown>): readonly [Readonly<Record<string, string>>, ReadonlyArray<unknown>] {
    return this.labelNames.length === 0
      ? [{}, args]
      : [(args[0] ?? {}) as Readonly<Record<string, string>>, args.slice(1)]
  }

  protected metricFor(labels: Readonly<Record<string, string>>): M {
    const values = this.labelNames.map((l) => {
      const v = labels[l]
      if (v === undefined) throw new Error(`metric '${this.name}' needs label '${l}'`)
      return v
    })
    const key = JSON.stringify(values)
    let m = this.byLabels.get(key)
    if (m === undefined) {
      m = this.make(
        this.labelNames.length === 0 ? undefined : Object.fromEntries(this.labelNames.map((l, i) => [l, values[i]!]))
      )
      this.byLabels.set(key, m)
    }
    return m
  }

  /** Drops one series (a gauge of a cluster that is gone). */
  remove(...args: WithLabels<L, []>): Effect.Effect<void> {
    return Effect.sync(() => {
      const [labels] = this.split(args)
      Metric.removeUnsafe(this.metricFor(labels) as Metric.Metric<never, unknown>, this.context)
    })
  }
}

export class Counter<L extends string = never> extends Instrument<L, Metric.Counter<number>> {
  readonly type = "counter" as const

  protected make(attributes: Readonly<Record<string, string>> | undefined) {
    return Metric.counter(this.name, { description: this.help, incremental: true, attributes })
  }

  inc(...args: WithLabels<L, [by?: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.incUnsafe(...args))
  }

  incUnsafe(...args: WithLabels<L, [by?: number]>): void {
    const [labels, [by]] = this.split(args)
    const n = (by as number | undefined) ?? 1
    if (n < 0) throw new Error(`counter '${this.name}' cannot decrease`)
    this.metricFor(labels).updateUnsafe(n, this.context)
  }

  value(...args: WithLabels<L, []>): Effect.Effect<number> {
    return Effect.sync(() => this.metricFor(this.split(args)[0]).valueUnsafe(this.context).count)
  }
}

export class Gauge<L extends string = never> extends Instrument<L, Metric.Gauge<number>> {
  readonly type = "gauge" as const

  protected make(attributes: Readonly<Record<string, string>> | undefined) {
    return Metric.gauge(this.name, { description: this.help, attributes })
  }

  set(...args: WithLabels<L, [value: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.setUnsafe(...args))
  }

  setUnsafe(...args: WithLabels<L, [value: number]>): void {
    const [labels, [value]] = this.split(args)
    this.metricFor(labels).updateUnsafe(value as number, this.context)
  }

  inc(...args: WithLabels<L, [by?: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.incUnsafe(...args))
  }

  incUnsafe(...args: WithLabels<L, [by?: number]>): void {
    const [labels, [by]] = this.split(args)
    this.metricFor(labels).modifyUnsafe((by as number | undefined) ?? 1, this.context)
  }

  dec(...args: WithLabels<L, [by?: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.decUnsafe(...args))
  }

  decUnsafe(...args: WithLabels<L, [by?: number]>): void {
    const [labels, [by]] = this.split(args)
    this.metricFor(labels).modifyUnsafe(-((by as number | undefined) ?? 1), this.context)
  }

  value(...args: WithLabels<L, []>): Effect.Effect<number> {
    return Effect.sync(() => this.metricFor(this.split(args)[0]).valueUnsafe(this.context).value)
  }
}

/** A histogram's state: cumulative counts per upper bound, sum and count. */
export interface HistogramSnapshot {
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>
  readonly sum: number
  readonly count: number
}

/** Prometheus client libraries' default buckets (seconds). */
export const defaultBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Histogram<L extends string = never> extends Instrument<L, Metric.Histogram<number>> {
  readonly type = "histogram" as const
  readonly buckets: ReadonlyArray<number>

  constructor(
    name: string,
    help: string,
    labelNames: ReadonlyArray<L>,
    context: Context.Context<never>,
    buckets: ReadonlyArray<number> = defaultBuckets
  ) {
    super(name, help, labelNames, context, ["le"])
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!)))
      throw new Error(`histogram '${name}' needs finite, strictly increasing buckets`)
    this.buckets = buckets
  }

  protected make(attributes: Readonly<Record<string, string>> | undefined) {
    return Metric.histogram(this.name, { description: this.help, boundaries: this.buckets, attributes })
  }

  observe(...args: WithLabels<L, [value: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.observeUnsafe(...args))
  }

  observeUnsafe(...args: WithLabels<L, [value: number]>): void {
    const [labels, [value]] = this.split(args)
    this.metricFor(labels).updateUnsafe(value as number, this.context)
  }

  snapshot(...args: WithLabels<L, []>): Effect.Effect<HistogramSnapshot> {
    return Effect.sync(() => {
      const s = this.metricFor(this.split(args)[0]).valueUnsafe(this.context)
      return { buckets: s.buckets.filter(([le]) => Number.isFinite(le)), sum: s.sum, count: s.count }
    })
  }
}

export type AnyInstrument = Counter<any> | Gauge<any> | Histogram<any>

/** A set of metric families in a registry of their own; `expose` renders them through PrometheusMetrics. */
export class Registry {
  /** Effect's metric registry for these families only. */
  readonly context: Context.Context<never> = Context.make(Metric.MetricRegistry, new Map())
  private readonly families = new Map<string, AnyInstrument>()

  private register<I extends AnyInstrument>(instrument: I): I {
    if (this.families.has(instrument.name)) throw new Error(`metric '${instrument.name}' is already registered`)
    this.families.set(instrument.name, instrument)
    return instrument
  }

  counter<L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []): Counter<L> {
    const c = this.register(new Counter<L>(name, help, labelNames, this.context))
    if (labelNames.length === 0) Effect.runSync(c.value(...([] as unknown as WithLabels<L, []>)))
    return c
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []): Gauge<L> {
    const g = this.register(new Gauge<L>(name, help, labelNames, this.context))
    if (labelNames.length === 0) Effect.runSync(g.value(...([] as unknown as WithLabels<L, []>)))
    return g
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: ReadonlyArray<L> = [],
    buckets: ReadonlyArray<number> = defaultBuckets
  ): Histogram<L> {
    const h = this.register(new Histogram<L>(name, help, labelNames, this.context, buckets))
    if (labelNames.length === 0) Effect.runSync(h.snapshot(...([] as unknown as WithLabels<L, []>)))
    return h
  }

  /** The declared families, by name, with their type. */
  declared(): ReadonlyArray<{ readonly name: string; readonly type: MetricType; readonly help: string }> {
    return [...this.families.values()].map((f) => ({ name: f.name, type: f.type, help: f.help }))
  }

  /** Text format 0.0.4: PrometheusMetrics' rendering, then the families that have no series yet. */
  readonly expose: Effect.Effect<string> = Effect.sync(() => this.exposeUnsafe())

  exposeUnsafe(): string {
    const text = PrometheusMetrics.formatUnsafe(this.context)
    const present = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]))
    const empty = this.declared()
      .filter((f) => !present.has(f.name))
      .map(
        (f) => `# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${f.name} ${f.type}\n`
      )
    return text + empty.join("")
  }
}
