/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics (leaseDuration 15 s,
 * renewDeadline 10 s, retryPeriod 2 s). Runtime layer: leader-only components (watches, queue, workers) run inside
 * `run`; health and metrics run on every replica. See docs/adr/0004-leader-election-health-metrics.md.
 * Safety rests on timing: a leader that cannot renew stops leading after at most retryPeriod + renewDeadline
 * (12 s), before any standby may take the lease, which needs leaseDuration (15 s) without a change to it.
 */
import { hostname } from "node:os"
import { Clock, Context, DateTime, Duration, Effect, Layer, Option, Ref, Result, Schema, Semaphore } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { refOf } from "../domain/ObjectRef.ts"
import { Supervisor } from "../effects/Clusters.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import type { KubeApiError } from "../effects/KubeApiError.ts"
import { Metrics } from "./Metrics.ts"

/** Where the Lease lives. */
export interface LeaseName {
  readonly namespace: string
  readonly name: string
}

export interface LeaderElectionConfig {
  readonly lease: LeaseName
  /** Unique per process (see `defaultIdentity`): two processes with one identity would both lead. */
  readonly identity: string
  /** How long a standby waits, after the Lease last changed, before taking it over. Default 15 s. */
  readonly leaseDuration?: Duration.Input | undefined
  /** How long the leader keeps trying to renew before it gives up leading. Default 10 s. */
  readonly renewDeadline?: Duration.Input | undefined
  /** Between two attempts to acquire or renew. Default 2 s. */
  readonly retryPeriod?: Duration.Input | undefined
  /**
   * Release the Lease when `run` ends (interruption, or `leading` finished), so a standby takes over within one
   * retryPeriod instead of one leaseDuration. Default true. `leading` has always stopped before the release.
   */
  readonly releaseOnCancel?: boolean | undefined
}

export const defaults = {
  leaseDuration: Duration.seconds(15),
  renewDeadline: Duration.seconds(10),
  retryPeriod: Duration.seconds(2)
} as const

/** The leader could not renew the Lease within renewDeadline, or another replica holds it: `leading` was stopped. */
export class LeadershipLost extends Schema.TaggedError<LeadershipLost>()("LeadershipLost", {
  lease: Schema.String,
  identity: Schema.String,
  message: Schema.String
}) {}

/** The durations or names cannot give a safe election (client-go's validation rules). */
export class LeaderElectionConfigError extends Schema.TaggedError<LeaderElectionConfigError>()(
  "LeaderElectionConfigError",
  { message: Schema.String }
) {}

export interface LeaderElector {
  readonly identity: string
  /** True from acquiring the Lease until leadership is lost or `run` ends. */
  readonly isLeader: Effect.Effect<boolean>
  /**
   * Waits until this replica holds the Lease, then runs `leading` while renewing the Lease in the background.
   * - `leading` ends: the Lease is released and its result returned.
   * - renewal fails past renewDeadline, or another replica took the Lease: `leading` is interrupted (and has
   *   stopped) before this fails with `LeadershipLost`. Exit the process then, as controller-runtime does: state
   *   built while leading may be stale.
   * - interrupted (shutdown): `leading` is interrupted, then the Lease is released.
   * One `run` at a time per elector; a second waits for the first to end.
   */
  readonly run: <A, E, R>(leading: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LeadershipLost, R>
}

/** The leader-election fields of a Lease spec, as the apiserver stores them (every field optional). */
export const LeaseSpec = Schema.Struct({
  holderIdentity: Schema.optional(Schema.NullOr(Schema.String)),
  leaseDurationSeconds: Schema.optional(Schema.NullOr(Schema.Number)),
  acquireTime: Schema.optional(Schema.NullOr(Schema.String)),
  renewTime: Schema.optional(Schema.NullOr(Schema.String)),
  leaseTransitions: Schema.optional(Schema.NullOr(Schema.Number))
})
export type LeaseSpec = typeof LeaseSpec.Type

const decodeSpec = Schema.decodeUnknownResult(LeaseSpec)

/** `metav1.MicroTime`: RFC 3339 with six fractional digits, UTC (`2026-01-02T03:04:05.678000Z`). */
export const formatMicroTime = (millis: number): string =>
  DateTime.formatIso(DateTime.makeUnsafe(millis)).replace(/Z$/, "000Z")

/** controller-runtime's identity: `<hostname>_<uuid>`, unique per process. */
export const defaultIdentity: Effect.Effect<string> = Effect.sync(() => `${hostname()}_${crypto.randomUUID()}`)

interface Timing {
  readonly leaseDuration: Duration.Duration
  readonly renewDeadline: Duration.Duration
  readonly retryPeriod: Duration.Duration
  readonly leaseDurationSeconds: number
}

/** client-go's rules: leaseDuration > renewDeadline > 1.2 × retryPeriod > 0, whole seconds for the Lease. */
export const validateConfig = (config: LeaderElectionConfig): Result.Result<Timing, LeaderElectionConfigError> => {
  const invalid = (message: string) =>
    Result.fail(new LeaderElectionConfigError({ message: `invalid leader election config: ${message}` }))
  const read = (input: Duration.Input | undefined, fallback: Duration.Duration) =>
    input === undefined ? Option.some(fallback) : Duration.fromInput(input)
  const leaseDuration = read(config.leaseDuration, defaults.leaseDuration)
  const renewDeadline = read(config.renewDeadline, defaults.renewDeadline)
  const retryPeriod = read(config.retryPeriod, defaults.retryPeriod)
  if (Option.isNone(leaseDuration) || Option.isNone(renewDeadline) || Option.isNone(retryPeriod)) {
    return invalid("leaseDuration, renewDeadline and retryPeriod must be durations")
  }
  const [lease, renew, retry] = [leaseDuration.value, renewDeadline.value, retryPeriod.value].map(Duration.toMillis)
  if (config.identity.trim() === "") return invalid("identity must not be empty")
  if (config.lease.name === "" || config.lease.namespace === "") return invalid("lease namespace and name are required")
  if (!(retry! > 0) || !Number.isFinite(lease!)) return invalid("durations must be positive and finite")
  if (!(lease! > renew!)) return invalid("leaseDuration must be greater than renewDeadline")
  if (!(renew! > 1.2 * retry!)) return invalid("renewDeadline must be greater than 1.2 × retryPeriod")
  return Result.succeed({
    leaseDuration: leaseDuration.value,
    renewDeadline: renewDeadline.value,
    retryPeriod: retryPeriod.value,
    leaseDurationSeconds: Math.ceil(lease! / 1000)
  })
}

/** One try to acquire or renew. */
type Attempt =
  | { readonly _tag: "Held" }
  | { readonly _tag: "HeldByOther"; readonly holder: string }
  | { readonly _tag: "Failed"; readonly message: string }

/** Another writer got there first (Conflict on patch, AlreadyExists on create): re-read and decide again. */
const isRace = (e: KubeApiError) => e.reason._tag === "Conflict" || e.reason._tag === "AlreadyExists"

/** Builds an elector for the Lease on `api` (the supervisor cluster). */
export const makeLeaderElector = (
  api: KubeApiService,
  config: LeaderElectionConfig
): Effect.Effect<LeaderElector, LeaderElectionConfigError> =>
  Effect.gen(function* () {
    const timing = yield* Effect.fromResult(validateConfig(config))
    const { identity } = config
    const ref = refOf("Lease", config.lease.name, config.lease.namespace)
    const leaseKey = `${config.lease.namespace}/${config.lease.name}`
    const leader = yield* Ref.make(false)
    const oneRun = yield* Semaphore.make(1)
    /** The last Lease this process wrote while holding it: what `release` writes over (resourceVersion guard). */
    let held: KubeObject | undefined
    /** The last record seen and when (our Clock): the expiry rule is client-go's observedTime rule. */
    let observed: { readonly record: string; readonly at: number } | undefined

    const setLeader = (value: boolean) =>
      Effect.gen(function* () {
        yield* Ref.set(leader, value)
        const metrics = yield* Effect.serviceOption(Metrics)
        if (Option.isSome(metrics)) yield* metrics.value.leader.set(value ? 1 : 0)
      })

    const observe = (spec: LeaseSpec, now: number) => {
      const record = JSON.stringify([
        spec.holderIdentity ?? "",
        spec.leaseDurationSeconds ?? null,
        spec.acquireTime ?? null,
        spec.renewTime ?? null,
        spec.leaseTransitions ?? null
      ])
      if (observed?.record !== record) observed = { record, at: now }
      return observed
    }

    const specFor = (now: number, acquireTime: string, transitions: number) => ({
      holderIdentity: identity,
      leaseDurationSeconds: timing.leaseDurationSeconds,
      acquireTime,
      renewTime: formatMicroTime(now),
      leaseTransitions: transitions
    })

    /**
     * client-go's tryAcquireOrRenew: create the Lease when absent; take it when free (no holder), expired, or
     * ours; otherwise report the holder. Expired means the record has not changed for its leaseDurationSeconds
     * by OUR clock since we first saw it, so clock skew between replicas cannot shorten a lease.
     */
    const tryOnce: Effect.Effect<Attempt, KubeApiError> = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const current = yield* api.get(ref)
      if (Option.isNone(current)) {
        const at = formatMicroTime(now)
        const body: KubeObject = {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: config.lease.namespace },
          spec: specFor(now, at, 0)
        }
        held = yield* api.create(ref, body)
        observe(specFor(now, at, 0), now)
        return { _tag: "Held" } as const
      }
      const lease = current.value
      const decoded = decodeSpec(lease.spec ?? {})
      if (Result.isFailure(decoded)) {
        return {
          _tag: "Failed",
          message: `Lease ${leaseKey} has a malformed spec: ${decoded.failure.message}`
        } as const
      }
      const spec = decoded.success
      const seen = observe(spec, now)
      const holder = spec.holderIdentity ?? ""
      const ours = holder === identity
      const durationMs = (spec.leaseDurationSeconds ?? timing.leaseDurationSeconds) * 1000
      if (holder !== "" && !ours && seen.at + durationMs >= now) return { _tag: "HeldByOther", holder } as const
      const transitions = spec.leaseTransitions ?? 0
      const next = ours
        ? specFor(now, spec.acquireTime ?? formatMicroTime(now), transitions)
        : specFor(now, formatMicroTime(now), transitions + 1)
      // resourceVersion precondition: if anyone wrote the Lease since our read, this fails with Conflict
      // instead of overwriting their claim.
      held = yield* api.patch(ref, { spec: next }, { resourceVersion: lease.metadata.resourceVersion })
      observe(next, now)
      return { _tag: "Held" } as const
    })

    const attempt: Effect.Effect<Attempt> = tryOnce.pipe(
      Effect.retry({ times: 2, while: isRace }),
      Effect.catch((e: KubeApiError) => Effect.succeed({ _tag: "Failed", message: e.message } as const)),
      Effect.withSpan("LeaderElection.tryAcquireOrRenew")
    )

    const acquire = Effect.gen(function* () {
      let last = ""
      while (true) {
        const result = yield* attempt
        if (result._tag === "Held") return
        const state = result._tag === "Failed" ? result.message : `held by ${result.holder}`
        if (state !== last) {
          yield* result._tag === "Failed"
            ? Effect.logWarning(`cannot acquire Lease ${leaseKey}: ${result.message}`)
            : Effect.logInfo(`Lease ${leaseKey} is held by ${result.holder}; standing by`)
          last = state
        }
        yield* Effect.sleep(timing.retryPeriod)
      }
    })

    const lost = (message: string) =>
      Effect.andThen(setLeader(false), Effect.fail(new LeadershipLost({ lease: leaseKey, identity, message })))

    /** client-go's renew loop: every retryPeriod, retry renewing until renewDeadline; then leadership is lost. */
    const renew: Effect.Effect<never, LeadershipLost> = Effect.gen(function* () {
      while (true) {
        yield* Effect.sleep(timing.retryPeriod)
        let lastFailure = "no renewal attempt finished"
        const renewed = yield* Effect.gen(function* () {
          while (true) {
            const result = yield* attempt
            if (result._tag === "Held") return true
            if (result._tag === "HeldByOther") {
              return yield* lost(`Lease ${leaseKey} was taken over by ${result.holder}`)
            }
            lastFailure = result.message
            yield* Effect.logWarning(`cannot renew Lease ${leaseKey}: ${result.message}`)
            yield* Effect.sleep(timing.retryPeriod)
          }
        }).pipe(Effect.timeoutOption(timing.renewDeadline))
        if (Option.isNone(renewed)) {
          return yield* lost(
            `failed to renew Lease ${leaseKey} within ${Duration.format(timing.renewDeadline)}: ${lastFailure}`
          )
        }
      }
    })

    /** client-go's release: no holder, leaseDurationSeconds 1, guarded by the resourceVersion we last wrote. */
    const release = Effect.gen(function* () {
      const last = held
      held = undefined
      if (last === undefined || config.releaseOnCancel === false) return
      const now = formatMicroTime(yield* Clock.currentTimeMillis)
      const spec = decodeSpec(last.spec ?? {})
      const transitions = Result.isSuccess(spec) ? (spec.success.leaseTransitions ?? 0) : 0
      yield* api
        .patch(
          ref,
          {
            spec: {
              holderIdentity: "",
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: transitions
            }
          },
          { resourceVersion: last.metadata.resourceVersion }
        )
        .pipe(
          // Finalizers run uninterruptibly; the request must stay interruptible for the timeout to cut it off,
          // so an unreachable apiserver cannot hold up shutdown.
          Effect.interruptible,
          Effect.timeoutOption(timing.renewDeadline),
          Effect.flatMap((done) =>
            Option.isSome(done)
              ? Effect.logInfo(`released Lease ${leaseKey}`)
              : Effect.logWarning(`cannot release Lease ${leaseKey}: timed out`)
          ),
          // Conflict: someone else wrote the Lease since, so it is no longer ours to release.
          Effect.catchReason("KubeApiError", "Conflict", () => Effect.void),
          Effect.catch((e: KubeApiError) => Effect.logWarning(`cannot release Lease ${leaseKey}: ${e.message}`))
        )
    })

    const run = <A, E, R>(leading: Effect.Effect<A, E, R>): Effect.Effect<A, E | LeadershipLost, R> =>
      Effect.gen(function* () {
        yield* acquire
        yield* setLeader(true)
        yield* Effect.logInfo(`acquired Lease ${leaseKey}; leading`)
        // raceFirst interrupts the loser and waits for it, so `leading` has stopped before we fail or release.
        return yield* Effect.raceFirst(leading, renew)
      }).pipe(
        Effect.ensuring(Effect.andThen(setLeader(false), release)),
        oneRun.withPermits(1),
        Effect.annotateLogs({ lease: leaseKey, identity })
      )

    return { identity, isLeader: Ref.get(leader), run }
  })

/** Elects, then runs `leading` while this replica holds the Lease (see `LeaderElector.run`). */
export const runWhenLeader = <A, E, R>(
  api: KubeApiService,
  config: LeaderElectionConfig,
  leading: Effect.Effect<A, E, R>
): Effect.Effect<A, E | LeadershipLost | LeaderElectionConfigError, R> =>
  Effect.flatMap(makeLeaderElector(api, config), (elector) => elector.run(leading))

/** The elector of this process, on the supervisor cluster. */
export class LeaderElection extends Context.Service<LeaderElection, LeaderElector>()(
  "kubevirt-operator/runtime/LeaderElection"
) {
  static readonly layer = (
    config: LeaderElectionConfig
  ): Layer.Layer<LeaderElection, LeaderElectionConfigError, Supervisor> =>
    Layer.effect(
      LeaderElection,
      Effect.flatMap(Supervisor, (api) => makeLeaderElector(api, config))
    )
}
