/**
 * Gathers the ObservedState of one Machine from the supervisor and its remote cluster. Effects layer.
 * Every read that fails becomes an Unknown fact with the reason (never Absent, never an exception), so the planner
 * can refuse to create or delete on the strength of it. Reads on the remote run concurrently.
 */
import { Effect, Option, Result, Schema } from "effect"
import { diskClaimNames, networkAttachmentNames } from "../domain/desired.ts"
import { absent, type Fact, present, unknown } from "../domain/Fact.ts"
import { isOwnedBy, ownerLabels } from "../domain/labels.ts"
import { type Machine, requestedClass } from "../domain/Machine.ts"
import { MachineClass } from "../domain/MachineClass.ts"
import { observePvc } from "../domain/manifests/Pvc.ts"
import { observeVm, observeVmi } from "../domain/manifests/VirtualMachine.ts"
import { Kinds, refOf } from "../domain/ObjectRef.ts"
import { type ObservedPvc, ObservedState, type RemoteState, type VmSearch } from "../domain/ObservedState.ts"
import { needsVmSearch, place } from "../domain/placement.ts"
import type { Settings } from "../domain/Settings.ts"
import { Remotes, Supervisor } from "./Clusters.ts"
import type { KubeApiError, KubeApiService } from "./KubeApi.ts"
import { apiRetry, retryApi } from "./retry.ts"

/** Runs a read with retries; a failure becomes Unknown with the error's message. */
const fact = <A, B>(read: Effect.Effect<A, KubeApiError>, f: (a: A) => Fact<B>): Effect.Effect<Fact<B>> =>
  read.pipe(
    retryApi(apiRetry),
    Effect.map(f),
    Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<B>))
  )

const optionFact = <A, B>(o: Option.Option<A>, f: (a: A) => B): Fact<B> =>
  Option.isSome(o) ? present(f(o.value)) : absent

/** The remote facts of one Machine on one cluster. */
export const observeRemote = Effect.fn("observe.remote")(function* (
  api: KubeApiService,
  cluster: string,
  machine: Machine
) {
  const { name, namespace } = machine.metadata
  const [ns, vm, vmi, labelled, byName, nadFacts] = yield* Effect.all(
    [
      fact(api.get(refOf("Namespace", namespace)), (o) =>
        optionFact(o, (x) => ({
          name: namespace,
          labels: { ...(x.metadata.labels ?? {}) },
          deleting: x.metadata.deletionTimestamp !== undefined
        }))
      ),
      fact(api.get(refOf("VirtualMachine", name, namespace)), (o) => optionFact(o, observeVm)),
      fact(api.get(refOf("VirtualMachineInstance", name, namespace)), (o) => optionFact(o, observeVmi)),
      fact(api.list(Kinds.PersistentVolumeClaim, { namespace, labelSelector: ownerLabels(name) }), (l) =>
        present(l.items.map(observePvc))
      ),
      // Claims with the desired names may exist without our labels (a name clash the planner must see).
      Effect.forEach(diskClaimNames(machine), (claim) =>
        fact(api.get(refOf("PersistentVolumeClaim", claim, namespace)), (o) => optionFact(o, observePvc))
      ),
      // Only the NetworkAttachmentDefinitions the Machine names, in its namespace (spec page: "same namespace").
      Effect.forEach(networkAttachmentNames(machine), (nad) =>
        fact(api.get(refOf("NetworkAttachmentDefinition", nad, namespace)), (o) => optionFact(o, () => nad))
      )
    ],
    { concurrency: "unbounded" }
  )
  const pvcFacts: ReadonlyArray<Fact<ReadonlyArray<ObservedPvc>>> = [
    labelled,
    ...byName.map((f) => (f._tag === "Present" ? present([f.value]) : f._tag === "Absent" ? present([]) : f))
  ]
  const failed = pvcFacts.find((f) => f._tag === "Unknown")
  const merged = new Map<string, ObservedPvc>()
  for (const f of pvcFacts) if (f._tag === "Present") for (const p of f.value) merged.set(p.name, p)
  const pvcs: Fact<ReadonlyArray<ObservedPvc>> =
    failed ?? present([...merged.values()].sort((a, b) => (a.name < b.name ? -1 : 1)))
  const nadFailed = nadFacts.find((f) => f._tag === "Unknown")
  const nads: Fact<ReadonlyArray<string>> =
    nadFailed ?? present(nadFacts.flatMap((f) => (f._tag === "Present" ? [f.value] : [])))
  return { cluster, namespace: ns, vm, vmi, pvcs, nads } satisfies RemoteState
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
  const placement = place(machine, kubevirtConfigs, vmSearch, settings)
  const remote: Fact<RemoteState> =
    placement._tag !== "Placed"
      ? absent
      : yield* remotes.get(placement.cluster).pipe(
          Effect.flatMap((api) => observeRemote(api, placement.cluster, machine)),
          Effect.map((r) => present(r) as Fact<RemoteState>),
          Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<RemoteState>))
        )
  return ObservedState.make({ kubevirtConfigs, machineClass, vmSearch, remote })
})
