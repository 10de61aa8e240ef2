/**
 * A small, dependency-free Prometheus registry: counters, gauges and histograms with label sets, rendered in text
 * exposition format 0.0.4. Runtime layer (the operator's metrics on it: `Metrics.ts`).
 * Every update exists twice: as an Effect (`inc`, `set`, `observe`) for Effect code, and synchronously with the
 * `Unsafe` suffix (`incUnsafe`, ...) for plain callbacks such as WorkQueue hooks, where a returned Effect would be
 * silently dropped. Recording never fails and never suspends.
 */
import { Effect } from "effect"

/** One value per label name of the metric. */
export type LabelValues<L extends string> = { readonly [K in L]: string }

/** Arguments of an instrument call: `A` alone for label-less metrics, `[labels, ...A]` otherwise. */
export type WithLabels<L extends string, A extends ReadonlyArray<unknown>> = [L] extends [never]
  ? A
  : [labels: LabelValues<L>, ...A]

export type MetricType = "counter" | "gauge" | "histogram"

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** HELP text: backslash and newline are escaped (format 0.0.4). */
const escapeHelp = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

/** Label values: backslash, double quote and newline are escaped (format 0.0.4). */
export const escapeLabelValue = (s: string): string =>
  s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, `NaN`, else the shortest round-trip decimal. */
export const formatValue = (n: number): string =>
  Number.isNaN(n)
    ? "NaN"
    : n === Number.POSITIVE_INFINITY
      ? "+Inf"
      : n === Number.NEGATIVE_INFINITY
        ? "-Inf"
        : String(n)

const renderLabels = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`

interface Series<S> {
  readonly values: ReadonlyArray<string>
  state: S
}

/**
 * The shared part of every instrument: name, help, label names and one state per label-value combination.
 * Series are rendered sorted by label values, so a scrape is stable whatever order they were created in.
 */
abstract class Instrument<L extends string, S> {
  readonly name: string
  readonly help: string
  readonly labelNames: ReadonlyArray<L>
  abstract readonly type: MetricType
  private readonly series = new Map<string, Series<S>>()

  constructor(name: string, help: string, labelNames: ReadonlyArray<L>, reserved: ReadonlyArray<string> = []) {
    if (!metricName.test(name)) throw new Error(`invalid metric name '${name}'`)
    for (const l of labelNames) {
      if (!labelName.test(l) || l.startsWith("__") || reserved.includes(l)) {
        throw new Error(`invalid label name '${l}' for metric '${name}'`)
      }
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label names for metric '${name}'`)
    this.name = name
    this.help = help
    this.labelNames = labelNames
  }

  protected abstract initial(): S

  /** Label-less metrics have one series from the start, so they are scraped as 0 before the first update. */
  protected seedUnlabelled(): void {
    if (this.labelNames.length === 0) this.stateFor({})
  }

  /** Splits `WithLabels` arguments into the label values and the rest. */
  protected split(args: ReadonlyArray<unknown>): readonly [Readonly<Record<string, string>>, ReadonlyArray<unknown>] {
    return this.labelNames.length === 0
      ? [{}, args]
      : [(args[0] ?? {}) as Readonly<Record<string, string>>, args.slice(1)]
  }

  private valuesOf(labels: Readonly<Record<string, string>>): ReadonlyArray<string> {
    const keys = Object.keys(labels)
    if (keys.length !== this.labelNames.length || keys.some((k) => !this.labelNames.includes(k as L))) {
      throw new Error(
        `metric '${this.name}' takes labels [${this.labelNames.join(", ")}], got [${keys.sort().join(", ")}]`
      )
    }
    return this.labelNames.map((l) => {
      const v = labels[l]
      if (typeof v !== "string") throw new Error(`metric '${this.name}': label '${l}' must be a string`)
      return v
    })
  }

  protected stateFor(labels: Readonly<Record<string, string>>): Series<S> {
    const values = this.valuesOf(labels)
    const key = JSON.stringify(values)
    let s = this.series.get(key)
    if (s === undefined) {
      s = { values, state: this.initial() }
      this.series.set(key, s)
    }
    return s
  }

  protected peek(labels: Readonly<Record<string, string>>): S | undefined {
    return this.series.get(JSON.stringify(this.valuesOf(labels)))?.state
  }

  /** Drops one series (a deleted cluster's gauge, say); label-less metrics go back to their initial state. */
  remove(...args: WithLabels<L, []>): Effect.Effect<void> {
    return Effect.sync(() => {
      const [labels] = this.split(args)
      this.series.delete(JSON.stringify(this.valuesOf(labels)))
      this.seedUnlabelled()
    })
  }

  /** Every series, sorted by label values, with its label pairs. */
  protected sortedSeries(): ReadonlyArray<readonly [ReadonlyArray<readonly [string, string]>, S]> {
    return [...this.series.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, s]) => [this.labelNames.map((l, i) => [l, s.values[i]!] as const), s.state] as const)
  }

  protected abstract samples(): ReadonlyArray<string>

  /** This metric family in text format 0.0.4: HELP, TYPE, then one line per sample. */
  render(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()]
      .map((line) => `${line}\n`)
      .join("")
  }
}

/** A monotonically increasing count. `inc` with a negative amount is a defect. */
export class Counter<L extends string = never> extends Instrument<L, { value: number }> {
  readonly type = "counter" as const

  constructor(name: string, help: string, labelNames: ReadonlyArray<L> = []) {
    super(name, help, labelNames)
    this.seedUnlabelled()
  }

  protected initial() {
    return { value: 0 }
  }

  /** Adds `by` (default 1). */
  inc(...args: WithLabels<L, [by?: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.incUnsafe(...args))
  }

  /** `inc`, synchronously. Throws on a negative amount or a wrong label set. */
  incUnsafe(...args: WithLabels<L, [by?: number]>): void {
    const [labels, [by = 1]] = this.split(args) as readonly [Record<string, string>, [number?]]
    if (!(by >= 0)) throw new Error(`counter '${this.name}' cannot be increased by ${by}`)
    this.stateFor(labels).state.value += by
  }

  /** The current value (0 for a series never updated). */
  value(...args: WithLabels<L, []>): Effect.Effect<number> {
    return Effect.sync(() => this.peek(this.split(args)[0])?.value ?? 0)
  }

  protected samples() {
    return this.sortedSeries().map(([pairs, s]) => `${this.name}${renderLabels(pairs)} ${formatValue(s.value)}`)
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = never> extends Instrument<L, { value: number }> {
  readonly type = "gauge" as const

  constructor(name: string, help: string, labelNames: ReadonlyArray<L> = []) {
    super(name, help, labelNames)
    this.seedUnlabelled()
  }

  protected initial() {
    return { value: 0 }
  }

  set(...args: WithLabels<L, [value: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.setUnsafe(...args))
  }

  setUnsafe(...args: WithLabels<L, [value: number]>): void {
    const [labels, [value]] = this.split(args) as readonly [Record<string, string>, [number]]
    this.stateFor(labels).state.value = value
  }

  /** Adds `by` (default 1; negative to decrease). */
  inc(...args: WithLabels<L, [by?: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.incUnsafe(...args))
  }

  incUnsafe(...args: WithLabels<L, [by?: number]>): void {
    const [labels, [by = 1]] = this.split(args) as readonly [Record<string, string>, [number?]]
    this.stateFor(labels).state.value += by
  }

  /** Subtracts `by` (default 1). */
  dec(...args: WithLabels<L, [by?: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.decUnsafe(...args))
  }

  decUnsafe(...args: WithLabels<L, [by?: number]>): void {
    const [labels, [by = 1]] = this.split(args) as readonly [Record<string, string>, [number?]]
    this.stateFor(labels).state.value -= by
  }

  value(...args: WithLabels<L, []>): Effect.Effect<number> {
    return Effect.sync(() => this.peek(this.split(args)[0])?.value ?? 0)
  }

  protected samples() {
    return this.sortedSeries().map(([pairs, s]) => `${this.name}${renderLabels(pairs)} ${formatValue(s.value)}`)
  }
}

interface HistogramState {
  /** Per bucket, the observations `<=` its bound and above the previous bound (made cumulative on render). */
  readonly counts: Array<number>
  sum: number
  count: number
}

/** What a histogram series holds: cumulative counts per upper bound (the last one `+Inf`), sum and count. */
export interface HistogramSnapshot {
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>
  readonly sum: number
  readonly count: number
}

/** client_golang's DefBuckets: 5 ms to 10 s, for request-like durations in seconds. */
export const defaultBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Observations counted into buckets by upper bound. `buckets` must be finite and strictly increasing;
 * `+Inf` is always added. The label name `le` is reserved.
 */
export class Histogram<L extends string = never> extends Instrument<L, HistogramState> {
  readonly type = "histogram" as const
  readonly buckets: ReadonlyArray<number>

  constructor(name: string, help: string, labelNames: ReadonlyArray<L> = [], buckets = defaultBuckets) {
    super(name, help, labelNames, ["le"])
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`histogram '${name}': buckets must be finite and strictly increasing`)
    }
    this.buckets = buckets
    this.seedUnlabelled()
  }

  protected initial(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 }
  }

  observe(...args: WithLabels<L, [value: number]>): Effect.Effect<void> {
    return Effect.sync(() => this.observeUnsafe(...args))
  }

  observeUnsafe(...args: WithLabels<L, [value: number]>): void {
    const [labels, [value]] = this.split(args) as readonly [Record<string, string>, [number]]
    const s = this.stateFor(labels).state
    const i = this.buckets.findIndex((b) => value <= b)
    s.counts[i < 0 ? this.buckets.length : i]! += 1
    s.sum += value
    s.count += 1
  }

  snapshot(...args: WithLabels<L, []>): Effect.Effect<HistogramSnapshot> {
    return Effect.sync(() => {
      const s = this.peek(this.split(args)[0]) ?? this.initial()
      return { buckets: this.cumulative(s), sum: s.sum, count: s.count }
    })
  }

  private cumulative(s: HistogramState): ReadonlyArray<readonly [number, number]> {
    let running = 0
    return [...this.buckets, Number.POSITIVE_INFINITY].map((le, i) => {
      running += s.counts[i]!
      return [le, running] as const
    })
  }

  protected samples() {
    return this.sortedSeries().flatMap(([pairs, s]) => [
      ...this.cumulative(s).map(
        ([le, n]) => `${this.name}_bucket${renderLabels([...pairs, ["le", formatValue(le)]])} ${formatValue(n)}`
      ),
      `${this.name}_sum${renderLabels(pairs)} ${formatValue(s.sum)}`,
      `${this.name}_count${renderLabels(pairs)} ${formatValue(s.count)}`
    ])
  }
}

export type AnyInstrument = Counter<any> | Gauge<any> | Histogram<any>

/**
 * A set of metric families with unique names, rendered in registration order. Registering a second family
 * with the same name is a defect (it would produce an invalid scrape).
 */
export class Registry {
  private readonly families = new Map<string, AnyInstrument>()

  register<I extends AnyInstrument>(instrument: I): I {
    if (this.families.has(instrument.name)) throw new Error(`metric '${instrument.name}' is already registered`)
    this.families.set(instrument.name, instrument)
    return instrument
  }

  counter<L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []): Counter<L> {
    return this.register(new Counter(name, help, labelNames))
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []): Gauge<L> {
    return this.register(new Gauge(name, help, labelNames))
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: ReadonlyArray<L> = [],
    buckets: ReadonlyArray<number> = defaultBuckets
  ): Histogram<L> {
    return this.register(new Histogram(name, help, labelNames, buckets))
  }

  /** The whole registry in text exposition format 0.0.4 (serve with `contentType`). */
  readonly expose: Effect.Effect<string> = Effect.sync(() => this.exposeUnsafe())

  /** `expose` without the Effect, for synchronous callers. */
  exposeUnsafe(): string {
    return [...this.families.values()].map((f) => f.render()).join("")
  }
}

/** The Content-Type of text exposition format 0.0.4. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"
