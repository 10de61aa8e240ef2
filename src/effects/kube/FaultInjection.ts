/**
 * Seeded, deterministic failure injection for the cluster service (500, 429, timeouts, connection resets,
 * Conflict), per verb and kind. Effects layer (cluster service), for tests of retries and idempotence.
 * Whether the n-th request of a verb+kind fails is a pure function of (seed, verb, kind, n): no
 * Math.random, and independent of how requests of other verbs/kinds interleave.
 */
import { Duration, Effect, Layer, Option, Stream } from "effect"
import { KubeApi, type KubeApiService } from "../KubeApi.ts"
import {
  Conflict,
  describeCollection,
  describeGroup,
  describeObject,
  type KubeApiErrorReason,
  type KubeVerb,
  kubeApiError,
  ServerError,
  Timeout,
  TooManyRequests,
  Transport
} from "../KubeApiError.ts"
import { DISCOVERY_KIND } from "./KindTable.ts"

export type FaultKind = "ServerError" | "TooManyRequests" | "Timeout" | "ConnectionReset" | "Conflict"

export interface FaultRule {
  /** Verbs this rule applies to; all verbs when omitted. */
  readonly verbs?: ReadonlyArray<KubeVerb> | undefined
  /** Kinds (`VirtualMachine`) this rule applies to; all kinds when omitted. */
  readonly kinds?: ReadonlyArray<string> | undefined
  /** Probability in [0, 1] that a matching request fails. */
  readonly rate: number
  /** The failures to choose from (uniformly, from the seed). */
  readonly faults: ReadonlyArray<FaultKind>
  /**
   * Fail AFTER the request took effect, as when a response is lost: the write happened but the caller
   * sees an error. Default false: the request fails before reaching the cluster.
   */
  readonly afterEffect?: boolean | undefined
}

export interface FaultConfig {
  readonly seed: number
  /** Checked in order; the first rule whose verbs and kinds match a request decides for it. */
  readonly rules: ReadonlyArray<FaultRule>
}

export interface Fault {
  readonly fault: FaultKind
  readonly afterEffect: boolean
}

export interface InjectedFault extends Fault {
  readonly verb: KubeVerb
  readonly kind: string
  /** 0-based index of this request among the requests of the same verb and kind. */
  readonly n: number
}

const fnv1a = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** mulberry32: a small, well-mixed 32-bit PRNG. */
const mulberry32 = (seed: number) => {
  let a = seed | 0
  return (): number => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ruleMatches = (rule: FaultRule, verb: KubeVerb, kind: string): boolean =>
  (rule.verbs === undefined || rule.verbs.includes(verb)) && (rule.kinds === undefined || rule.kinds.includes(kind))

/** The decision for the n-th request of `verb` on `kind`: pure and deterministic. */
export const faultAt = (config: FaultConfig, verb: KubeVerb, kind: string, n: number): Option.Option<Fault> => {
  const rule = config.rules.find((r) => ruleMatches(r, verb, kind))
  if (rule === undefined || rule.faults.length === 0) return Option.none()
  const next = mulberry32(fnv1a(`${config.seed}|${verb}|${kind}|${n}`))
  if (next() >= rule.rate) return Option.none()
  const fault = rule.faults[Math.floor(next() * rule.faults.length)]!
  return Option.some({ fault, afterEffect: rule.afterEffect === true })
}

/** The reason an injected fault surfaces as, shaped like the live layer's mapping of the real failure. */
export const faultReason = (fault: FaultKind): KubeApiErrorReason => {
  switch (fault) {
    case "ServerError":
      return new ServerError({ message: "injected fault: Internal Server Error", status: 500 })
    case "TooManyRequests":
      return new TooManyRequests({
        message: "injected fault: too many requests",
        status: 429,
        retryAfter: Duration.seconds(1)
      })
    case "Timeout":
      return new Timeout({ message: "injected fault: request timed out" })
    case "ConnectionReset":
      return new Transport({ message: "injected fault: cannot reach the API server (ECONNRESET)" })
    case "Conflict":
      return new Conflict({
        message: "injected fault: the object has been modified; please apply your changes to the latest version",
        status: 409
      })
  }
}

/** Stateful side of the plan: counts requests per verb+kind and records what it injected. */
export class FaultInjector {
  readonly config: FaultConfig
  private readonly counters = new Map<string, number>()
  private readonly injected: Array<InjectedFault> = []

  private constructor(config: FaultConfig) {
    this.config = config
  }

  static make(config: FaultConfig): FaultInjector {
    return new FaultInjector(config)
  }

  /** Decides for the next request of `verb` on `kind` (and advances that verb+kind's counter). */
  next(verb: KubeVerb, kind: string): Option.Option<Fault> {
    const key = `${verb}|${kind}`
    const n = this.counters.get(key) ?? 0
    this.counters.set(key, n + 1)
    const decision = faultAt(this.config, verb, kind, n)
    if (Option.isSome(decision)) this.injected.push({ ...decision.value, verb, kind, n })
    return decision
  }

  /** Every fault injected so far, in order. */
  get log(): ReadonlyArray<InjectedFault> {
    return [...this.injected]
  }
}

/**
 * Runs `effect` under the injector's decision for one request: fail before it, fail after it took
 * effect, or pass through.
 */
export const injectFault = <A, E>(
  injector: FaultInjector,
  verb: KubeVerb,
  kind: string,
  target: string,
  effect: Effect.Effect<A, E>
) =>
  Effect.suspend(() =>
    Option.match(injector.next(verb, kind), {
      onNone: () => effect,
      onSome: (f) => {
        const failure = Effect.fail(kubeApiError(verb, target, faultReason(f.fault)))
        return f.afterEffect ? Effect.andThen(effect, failure) : failure
      }
    })
  )

/** Wraps any KubeApi (live or in-memory) with the injector. */
export const withFaults = (api: KubeApiService, injector: FaultInjector): KubeApiService => ({
  get: (ref) => injectFault(injector, "get", ref.kind, describeObject(ref), api.get(ref)),
  list: (kind, options) =>
    injectFault(
      injector,
      "list",
      kind.kind,
      describeCollection(kind.kind, options?.namespace),
      api.list(kind, options)
    ),
  create: (ref, body) => injectFault(injector, "create", ref.kind, describeObject(ref), api.create(ref, body)),
  patch: (ref, patch, options) =>
    injectFault(injector, "patch", ref.kind, describeObject(ref), api.patch(ref, patch, options)),
  apply: (ref, body, options) =>
    injectFault(injector, "apply", ref.kind, describeObject(ref), api.apply(ref, body, options)),
  delete: (ref, options) => injectFault(injector, "delete", ref.kind, describeObject(ref), api.delete(ref, options)),
  watch: (kind, options) =>
    Stream.unwrap(
      Effect.sync(() =>
        Option.match(injector.next("watch", kind.kind), {
          onNone: () => api.watch(kind, options),
          onSome: (f) =>
            Stream.fail(kubeApiError("watch", describeCollection(kind.kind, options?.namespace), faultReason(f.fault)))
        })
      )
    ),
  updateStatus: (ref, status, options) =>
    injectFault(injector, "updateStatus", ref.kind, describeObject(ref), api.updateStatus(ref, status, options)),
  discover: (group) => injectFault(injector, "discover", DISCOVERY_KIND, describeGroup(group), api.discover(group))
})

/** Wraps the KubeApi below it with seeded, deterministic failures. */
export const layerFaulty = (config: FaultConfig): Layer.Layer<KubeApi, never, KubeApi> =>
  Layer.effect(
    KubeApi,
    Effect.map(KubeApi, (api) => withFaults(api, FaultInjector.make(config)))
  )
