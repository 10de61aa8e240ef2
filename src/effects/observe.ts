/**
 * Gathers the ObservedState of one Machine from the supervisor and its remote cluster. Effects layer.
 * Every read that fails becomes an Unknown fact with the reason (never Absent, never an exception), so the planner
 * can refuse to create or delete on the strength of it. The remote reads are the capabilities' own
 * (`domain/remoteReads.ts`, shared with the offline observer) and run concurrently.
 */
import { Effect, Option, type Redacted, Result, Schema } from "effect"
import { isoDataVolumeName } from "../domain/bootMedia.ts"
import { bootSourceOf } from "../domain/bootSource.ts"
import { cloudInitReads, type SourceValues, sourceKeyId, sourceValue } from "../domain/cloudInitPayload.ts"
import { absent, type Fact, present, unknown } from "../domain/Fact.ts"
import { isOwnedBy } from "../domain/labels.ts"
import { type Machine, requestedClass } from "../domain/Machine.ts"
import { MachineClass } from "../domain/MachineClass.ts"
import { Kinds, refOf } from "../domain/ObjectRef.ts"
import { ObservedState, type RemoteState, type VitistackFacts, type VmSearch } from "../domain/ObservedState.ts"
import { needsVmSearch, place } from "../domain/placement.ts"
import { type Answer, listSelects, type Query } from "../domain/reads.ts"
import { queriesOf, remoteReads, remoteStateFrom, storageReadsFor } from "../domain/remoteReads.ts"
import type { Settings } from "../domain/Settings.ts"
import { vitistackReadContext } from "../domain/vitistackNetwork.ts"
import {
  macOwnerReadsFor,
  vitistackFactsFrom,
  vitistackQueries,
  vitistackReads,
  withMacOwners
} from "../domain/vitistackReads.ts"
import { ClusterHealthFacts } from "./ClusterHealthFacts.ts"
import { Remotes, Supervisor } from "./Clusters.ts"
import { IsoSizeProbe } from "./isoSizeProbe.ts"
import type { KubeApiService } from "./KubeApi.ts"
import type { KubeApiError } from "./KubeApiError.ts"
import { NetworkCache, type NetworkCacheStore } from "./NetworkCache.ts"
import { observeTenancy } from "./observeTenancy.ts"
import { apiRetry, retryApi } from "./retry.ts"

/** Runs a read with retries; a failure becomes Unknown with the error's message. */
const fact = <A, B>(read: Effect.Effect<A, KubeApiError>, f: (a: A) => Fact<B>): Effect.Effect<Fact<B>> =>
  read.pipe(
    retryApi(apiRetry),
    Effect.map(f),
    Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<B>))
  )

/** Answers one query of a capability's reads from the cluster (with retries; a failure is Unknown). */
const answer =
  (api: KubeApiService) =>
  (q: Query): Effect.Effect<Answer> =>
    (q._tag === "Get"
      ? Effect.map(api.get(q.ref), (o) => (Option.isSome(o) ? [o.value] : []))
      : Effect.map(api.list(q.kind, { namespace: q.namespace, labelSelector: q.labelSelector }), (l) =>
          // The API cannot filter by recorded MAC: the answer is filtered here, as every answerer does.
          q.recordingMacs === undefined ? l.items : l.items.filter((o) => listSelects(q, o))
        )
    ).pipe(
      retryApi(apiRetry),
      Effect.map((objects): Answer => ({ _tag: "Found", objects })),
      // An optional kind that is not served (no CRD: a 404 for the collection itself) has no objects.
      Effect.catchReason("KubeApiError", "NotFound", (_, e) =>
        q.optional === true ? Effect.succeed<Answer>({ _tag: "Found", objects: [] }) : Effect.fail(e)
      ),
      Effect.catch((e) => Effect.succeed<Answer>({ _tag: "Unknown", reason: e.message }))
    )

/** Answers a supervisor query from the operator's watch cache when it can, else from the API. */
const answerSupervisor =
  (api: KubeApiService, cache: NetworkCacheStore | undefined) =>
  (q: Query): Effect.Effect<Answer> => {
    const cached = cache?.answer(q)
    return cached === undefined ? answer(api)(q) : Effect.succeed(cached)
  }

/**
 * The remote facts of one Machine on one cluster; with `settings`, a second round for the storage facts when a claim
 * is about to be created (its access modes come from the StorageProfile). `vitistack`: the supervisor's vitistack
 * facts, which say which VLAN NAD to read and whether the Machine needs a cloud-init Secret (ADR 0013).
 */
export const observeRemote = Effect.fn("observe.remote")(function* (
  api: KubeApiService,
  cluster: string,
  machine: Machine,
  settings?: Settings,
  vitistack?: VitistackFacts
) {
  const reads = remoteReads(machine, { vitistack: vitistackReadContext(machine, vitistack), settings })
  const answers = yield* Effect.forEach(queriesOf(reads), answer(api), { concurrency: "unbounded" })
  const state = remoteStateFrom(cluster, reads, answers)
  const storage = settings === undefined ? undefined : storageReadsFor(machine, settings, state)
  if (storage === undefined) return state
  const fact = storage.fact(yield* Effect.forEach(storage.queries, answer(api), { concurrency: "unbounded" }))
  return fact._tag === "Present" ? { ...state, storage: fact.value } : state
})

/**
 * The supervisor keys the Machine's cloud-init reads, in its namespace. Their values go straight into `Redacted`;
 * a failed read is Unknown (the Machine waits), a missing object or key Absent.
 */
const observeCloudInitSources = (supervisor: KubeApiService, machine: Machine) =>
  Effect.map(
    Effect.forEach(
      cloudInitReads(machine),
      (source) =>
        fact(
          supervisor.get(refOf(source.kind, source.name, machine.metadata.namespace)),
          (o): Fact<Redacted.Redacted<string>> => (Option.isNone(o) ? absent : sourceValue(o.value, source))
        ).pipe(Effect.map((f) => [sourceKeyId(source), f] as const)),
      { concurrency: 2 }
    ),
    (entries): SourceValues => Object.fromEntries(entries)
  )

/**
 * The opt-in ISO size probe (ADR 0010), only while the ISO's DataVolume is still to be created and no size is
 * annotated: an http(s) HEAD from the operator, bounded (`isoSizeProbe.ts`).
 */
const probedIsoSize = (machine: Machine, remote: Fact<RemoteState>) =>
  Effect.gen(function* () {
    const probe = yield* IsoSizeProbe
    const iso = bootSourceOf(machine).iso
    if (probe === undefined || iso === undefined || iso.ejected || iso.size !== undefined) return undefined
    if (iso.source._tag !== "Http" || remote._tag !== "Present") return undefined
    const dvs = remote.value.dataVolumes
    if (dvs?._tag !== "Present" || dvs.value.some((d) => d.name === isoDataVolumeName(machine.metadata.name)))
      return undefined
    return Option.getOrUndefined(yield* probe(iso.source.url))
  })

/**
 * Observes everything the planner needs for one Machine.
 * Assumptions: the Machine is the latest version read from the supervisor.
 */
export const observe = Effect.fn("observe")(function* (
  machine: Machine,
  settings: Settings,
  /** The KubevirtConfig names from a synced watch cache (the operator's); omitted: listed from the supervisor. */
  knownConfigs?: ReadonlyArray<string>
) {
  const supervisor = yield* Supervisor
  const remotes = yield* Remotes
  const className = requestedClass(machine)
  const [kubevirtConfigs, machineClass] = yield* Effect.all(
    [
      knownConfigs !== undefined
        ? Effect.succeed(present([...knownConfigs].sort()) as Fact<ReadonlyArray<string>>)
        : fact(supervisor.list(Kinds.KubevirtConfig), (l) => present(l.items.map((o) => o.metadata.name).sort())),
      className === undefined
        ? Effect.succeed(absent as Fact<MachineClass>)
        : fact(supervisor.get(refOf("MachineClass", className)), (o): Fact<MachineClass> => {
            if (Option.isNone(o)) return absent
            const decoded = Schema.decodeUnknownResult(MachineClass)(o.value)
            return Result.isSuccess(decoded)
              ? present(decoded.success)
              : unknown(`MachineClass '${className}' is malformed: ${decoded.failure.message}`)
          })
    ],
    { concurrency: 2 }
  )
  let vmSearch: ReadonlyArray<VmSearch> = []
  if (needsVmSearch(machine, kubevirtConfigs, settings) && kubevirtConfigs._tag === "Present")
    vmSearch = yield* Effect.forEach(
      kubevirtConfigs.value,
      (cluster) =>
        remotes.get(cluster).pipe(
          Effect.flatMap((api) =>
            fact(api.get(refOf("VirtualMachine", machine.metadata.name, machine.metadata.namespace)), (o) =>
              present(Option.isSome(o) && isOwnedBy(o.value.metadata.labels, machine.metadata.name))
            )
          ),
          Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<boolean>)),
          Effect.map((found): VmSearch => ({ cluster, found }))
        ),
      { concurrency: 4 }
    )
  const chosen = place(machine, kubevirtConfigs, vmSearch, settings)
  // Tenancy (ADR 0011): a cluster this Machine's namespace may not use is not read for it either.
  const tenancy = chosen._tag === "Placed" ? yield* observeTenancy(machine, chosen.cluster) : undefined
  const placement = place(machine, kubevirtConfigs, vmSearch, settings, tenancy)
  // Vitistack networking (ADR 0013): the NetworkNamespace and NetworkConfiguration first (the remote reads depend on
  // them), from the operator's watch cache when there is one.
  const cache = yield* NetworkCache
  const onSupervisor = answerSupervisor(supervisor, cache)
  const vReads = vitistackReads(machine)
  const [[firstRound, remote], cloudInitSources] = yield* Effect.all(
    [
      Effect.gen(function* () {
        const facts =
          vReads === undefined
            ? undefined
            : vitistackFactsFrom(
                vReads,
                yield* Effect.forEach(vitistackQueries(vReads), onSupervisor, { concurrency: "unbounded" })
              )
        const remote =
          placement._tag !== "Placed"
            ? (absent as Fact<RemoteState>)
            : yield* remotes.get(placement.cluster).pipe(
                Effect.flatMap((api) => observeRemote(api, placement.cluster, machine, settings, facts)),
                Effect.map((r) => present(r) as Fact<RemoteState>),
                Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<RemoteState>))
              )
        return [facts, remote] as const
      }),
      observeCloudInitSources(supervisor, machine)
    ],
    { concurrency: 2 }
  )
  // Only when an interface needs a new MAC: who in the fleet holds the ones it may derive.
  const ownerReads =
    firstRound === undefined || placement._tag !== "Placed"
      ? undefined
      : macOwnerReadsFor(
          machine,
          firstRound,
          placement.cluster,
          settings,
          remote._tag === "Present" ? remote.value : undefined
        )
  const vitistack =
    firstRound === undefined || ownerReads === undefined
      ? firstRound
      : withMacOwners(
          firstRound,
          ownerReads.fact(yield* Effect.forEach(ownerReads.queries, onSupervisor, { concurrency: "unbounded" }))
        )
  const isoSize = yield* probedIsoSize(machine, remote)
  // The placed cluster's health, from the operator's checks (ADR 0012); unknown outside the operator.
  const clusterHealth = remote._tag === "Present" ? (yield* ClusterHealthFacts)(remote.value.cluster) : undefined
  return ObservedState.make({
    kubevirtConfigs,
    machineClass,
    vmSearch,
    remote,
    ...(Object.keys(cloudInitSources).length === 0 ? {} : { cloudInitSources }),
    ...(isoSize === undefined ? {} : { isoSize }),
    ...(tenancy === undefined ? {} : { tenancy }),
    ...(vitistack === undefined ? {} : { vitistack }),
    ...(clusterHealth === undefined ? {} : { clusterHealth })
  })
})
