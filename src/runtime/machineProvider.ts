/**
 * MachineProvider self-registration and status (reference F6), run by the leader and never fatal (W6): every
 * interval it reads the MachineProvider named `NAME_MACHINE_PROVIDER`; when there is none it applies the Go
 * operator's skip rules and creates it (`domain/MachineProvider.ts`); when there is one of providerType kubevirt it
 * keeps its status true (health from the remote clusters, active Machines, quota used) and writes it only when it
 * changed. Runtime layer. Whatever fails or cannot be done yet (no CRD, no right, no region, an unreadable Vitistack)
 * is logged once per distinct reason, shown by `kubevirt_operator_machine_provider_registered` = 0, and tried again
 * at the next interval.
 */
import { Clock, Duration, Effect, Option, Result, Schema } from "effect"
import type { ClusterHealth } from "../domain/ClusterHealth.ts"
import { absent, type Fact, present, unknown } from "../domain/Fact.ts"
import type { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import { MachineClass } from "../domain/MachineClass.ts"
import {
  type ProviderSettings,
  providerStatus,
  registration,
  sameProviderStatus,
  type VitistackInfo,
  vitistackInfoOf
} from "../domain/MachineProvider.ts"
import { Kinds, refOf } from "../domain/ObjectRef.ts"
import type { Settings } from "../domain/Settings.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import type { KubeApiError } from "../effects/KubeApiError.ts"
import { apiRetry, retryApi } from "../effects/retry.ts"
import { Metrics } from "./Metrics.ts"
import type { MachineTally } from "./machineTally.ts"

export interface MachineProviderOptions {
  readonly settings: ProviderSettings
  /** Time between two checks. Default 30 seconds. */
  readonly interval?: Duration.Input | undefined
}

/** What the operator loop knows, handed to the provider loop. */
export interface ProviderSources {
  /** The configured KubevirtConfigs, or undefined until the Machine and KubevirtConfig caches have synced. */
  readonly clusters: () => ReadonlyArray<string> | undefined
  readonly config: (name: string) => KubevirtConfig | undefined
  readonly health: () => ReadonlyMap<string, ClusterHealth>
  readonly tally: MachineTally
  /** The planner's settings (sizing of Machines for the quota). */
  readonly settings: Settings
}

const decodeClass = Schema.decodeUnknownResult(MachineClass)

/** A read as a fact: the object, absent, or why it could not be read (a CRD that is not installed says so). */
const read = (api: KubeApiService, ref: ReturnType<typeof refOf>) =>
  retryApi(apiRetry)(api.get(ref)).pipe(
    Effect.map((o) => (Option.isSome(o) ? present(o.value) : absent)),
    Effect.catch((e: KubeApiError) =>
      Effect.succeed(
        unknown(
          e.reason._tag === "NotFound"
            ? `the ${ref.kind} CRD is not installed on the supervisor (${e.message})`
            : e.message
        )
      )
    )
  )

/** Runs registration and the status loop until interrupted. */
export const runMachineProvider = (
  supervisor: KubeApiService,
  options: MachineProviderOptions,
  sources: ProviderSources
): Effect.Effect<never> =>
  Effect.gen(function* () {
    const { settings } = options
    const interval = Duration.fromInputUnsafe(options.interval ?? "30 seconds")
    const metrics = yield* Effect.serviceOption(Metrics)
    const ref = refOf("MachineProvider", settings.name)
    let said: string | undefined
    const say = (message: string, warn: boolean) =>
      message === said
        ? Effect.void
        : Effect.andThen(
            Effect.sync(() => (said = message)),
            warn ? Effect.logWarning(message) : Effect.logInfo(message)
          )
    const registered = (on: boolean) =>
      Option.isSome(metrics) ? metrics.value.machineProviderRegistered.set(on ? 1 : 0) : Effect.void

    /** Writes the status when it changed; the MachineClasses the Machines name are read for their sizes. */
    const keepStatus = (stored: { readonly status?: unknown; readonly resourceVersion: string }) =>
      Effect.gen(function* () {
        const clusters = sources.clusters()
        if (clusters === undefined) return
        // One list of MachineClasses, and only when a placed Machine names one.
        const classes = new Map<string, MachineClass>()
        if (sources.tally.classNames().size > 0)
          for (const o of (yield* retryApi(apiRetry)(supervisor.list(Kinds.MachineClass))).items) {
            const decoded = decodeClass(o)
            if (Result.isSuccess(decoded)) classes.set(decoded.success.metadata.name, decoded.success)
          }
        const now = new Date(yield* Clock.currentTimeMillis).toISOString()
        const next = providerStatus({
          clusters,
          health: sources.health(),
          usage: sources.tally.usage(classes, sources.settings),
          stored: stored.status,
          now
        })
        if (next === undefined || sameProviderStatus(stored.status, next)) return
        yield* supervisor.updateStatus(ref, next, { resourceVersion: stored.resourceVersion })
      })

    const step = Effect.gen(function* () {
      const provider = yield* read(supervisor, ref)
      const vitistack: Fact<VitistackInfo> | undefined =
        provider._tag !== "Absent" || settings.vitistack === undefined || settings.vitistack === ""
          ? undefined
          : yield* Effect.map(read(supervisor, refOf("Vitistack", settings.vitistack)), (f) =>
              f._tag === "Present" ? present(vitistackInfoOf(f.value)) : f
            )
      const decision = registration({ settings, provider, vitistack, kubevirtConfig: sources.config(settings.name) })
      switch (decision._tag) {
        case "Create": {
          const created = yield* supervisor
            .create(ref, decision.provider)
            .pipe(Effect.catchReason("KubeApiError", "AlreadyExists", () => Effect.succeed(undefined)))
          if (created !== undefined)
            yield* Effect.logInfo(
              `registered MachineProvider ${settings.name} (providerType kubevirt, region ${String((decision.provider.spec as { region?: unknown }).region)})`
            )
          // Its status is written at the next check, from the object as stored.
          return yield* registered(false)
        }
        case "Keep":
          yield* keepStatus({
            status: decision.provider.status,
            resourceVersion: decision.provider.metadata.resourceVersion ?? ""
          })
          yield* say(`MachineProvider ${settings.name} is registered; its status is kept`, false)
          return yield* registered(true)
        case "ListedByVitistack":
          yield* say(decision.message, false)
          return yield* registered(false)
        case "Foreign":
        case "Wait":
          yield* say(decision.message, true)
          return yield* registered(false)
      }
    }).pipe(
      Effect.catch((e) =>
        Effect.andThen(
          say(`cannot keep MachineProvider ${settings.name}: ${e.message}; trying again`, true),
          registered(false)
        )
      )
    )

    return yield* Effect.forever(Effect.andThen(step, Effect.sleep(interval)))
  }).pipe(Effect.annotateLogs({ machineProvider: options.settings.name }))
