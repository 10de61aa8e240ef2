/**
 * A pure model of what executing actions does to the world the planner sees: the Machine and the observed state.
 * Domain layer: pure. It encodes the executors' contracts (EnsureNamespace never touches an existing namespace,
 * creates are no-ops when the object exists, deletes remove only the named object), so the planner's laws
 * (convergence, idempotence) can be stated and property-tested without a cluster.
 */
import type { Action } from "./Action.ts"
import { absent, present } from "./Fact.ts"
import { PLACEMENT_ANNOTATION } from "./labels.ts"
import { Machine } from "./Machine.ts"
import { missingInterfaces } from "./manifests/NetworkConfiguration.ts"
import { ObservedState, type RemoteState, type VitistackFacts } from "./ObservedState.ts"
import type { VmSpec } from "./VmSpec.ts"

export interface World {
  /** `undefined` once the Machine is gone (deleting and its last finalizer removed). */
  readonly machine: Machine | undefined
  readonly observed: ObservedState
}

const emptyRemote = (cluster: string): RemoteState => ({
  cluster,
  namespace: absent,
  vm: absent,
  vmi: absent,
  pvcs: present([]),
  // NetworkAttachmentDefinitions are the cluster owner's (spec page): no action creates one.
  nads: present([])
})

const withRemote = (w: World, cluster: string, f: (r: RemoteState) => RemoteState): World => {
  const r =
    w.observed.remote._tag === "Present" && w.observed.remote.value.cluster === cluster
      ? w.observed.remote.value
      : emptyRemote(cluster)
  return { ...w, observed: ObservedState.make({ ...w.observed, remote: present(f(r)) }) }
}

const withVitistack = (w: World, f: (v: VitistackFacts) => VitistackFacts): World =>
  w.observed.vitistack === undefined
    ? w
    : { ...w, observed: ObservedState.make({ ...w.observed, vitistack: f(w.observed.vitistack) }) }

const withMachine = (w: World, f: (m: Machine) => Machine | undefined): World =>
  w.machine === undefined ? w : { ...w, machine: f(w.machine) }

const bump = (rv: string | undefined) => `${rv ?? "0"}+`

const vmObserved = (spec: VmSpec, resourceVersion: string) => ({
  name: spec.name,
  labels: spec.labels,
  resourceVersion,
  spec,
  deleting: false
})

/** A metadata change as the apiserver stores it: a new resourceVersion. */
const changeMetadata = (m: Machine, patch: Partial<Machine["metadata"]>): Machine =>
  Machine.make({ ...m, metadata: { ...m.metadata, ...patch, resourceVersion: bump(m.metadata.resourceVersion) } })

/** Applies one action. Never throws; an action whose precondition does not hold changes nothing. */
export const applyAction = (w: World, a: Action): World => {
  switch (a._tag) {
    case "AddFinalizer":
      return withMachine(w, (m) =>
        (m.metadata.finalizers ?? []).includes(a.finalizer)
          ? m
          : changeMetadata(m, { finalizers: [...(m.metadata.finalizers ?? []), a.finalizer] })
      )
    case "RemoveFinalizer":
      return withMachine(w, (m) => {
        if (!(m.metadata.finalizers ?? []).includes(a.finalizer)) return m
        const finalizers = (m.metadata.finalizers ?? []).filter((f) => f !== a.finalizer)
        if (m.metadata.deletionTimestamp !== undefined && finalizers.length === 0) return undefined
        return changeMetadata(m, { finalizers })
      })
    case "PersistPlacement":
      // Precondition: the annotation is absent; a placement already recorded (even a different one) is kept.
      return withMachine(w, (m) =>
        (m.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") !== ""
          ? m
          : changeMetadata(m, {
              annotations: { ...(m.metadata.annotations ?? {}), [PLACEMENT_ANNOTATION]: a.placement }
            })
      )
    case "EnsureNamespace":
      return withRemote(w, a.cluster, (r) =>
        r.namespace._tag === "Absent"
          ? { ...r, namespace: present({ name: a.target.name, labels: a.labels, deleting: false }) }
          : r
      )
    case "CreatePvc":
      return withRemote(w, a.cluster, (r) => {
        const pvcs = r.pvcs._tag === "Present" ? r.pvcs.value : []
        if (pvcs.some((p) => p.name === a.after.name)) return r
        const pvc = {
          name: a.after.name,
          labels: a.after.labels,
          resourceVersion: "1",
          storage: a.after.storage,
          ...(a.after.storageClassName === undefined ? {} : { storageClassName: a.after.storageClassName }),
          volumeMode: a.after.volumeMode,
          accessModes: a.after.accessModes,
          deleting: false
        }
        return { ...r, pvcs: present([...pvcs, pvc]) }
      })
    case "ExpandPvc":
      return withRemote(w, a.cluster, (r) =>
        r.pvcs._tag !== "Present"
          ? r
          : {
              ...r,
              pvcs: present(
                r.pvcs.value.map((p) =>
                  p.name === a.target.name && p.resourceVersion === a.resourceVersion
                    ? { ...p, storage: a.after, resourceVersion: bump(p.resourceVersion) }
                    : p
                )
              )
            }
      )
    case "DeletePvc":
      return withRemote(w, a.cluster, (r) =>
        r.pvcs._tag !== "Present"
          ? r
          : {
              ...r,
              pvcs: present(
                r.pvcs.value.filter((p) => !(p.name === a.target.name && p.resourceVersion === a.resourceVersion))
              )
            }
      )
    case "CreateVirtualMachine":
      return withRemote(w, a.cluster, (r) =>
        r.vm._tag === "Absent" ? { ...r, vm: present(vmObserved(a.after, "1")) } : r
      )
    case "PatchVirtualMachine":
      return withRemote(w, a.cluster, (r) => {
        if (r.vm._tag !== "Present" || r.vm.value.resourceVersion !== a.resourceVersion) return r
        const labels = { ...r.vm.value.labels, ...a.after.labels }
        const annotations = { ...r.vm.value.spec.annotations, ...a.after.annotations }
        return {
          ...r,
          vm: present({ ...vmObserved({ ...a.after, labels, annotations }, bump(a.resourceVersion)), labels })
        }
      })
    case "DeleteVirtualMachine":
      return withRemote(w, a.cluster, (r) =>
        r.vm._tag === "Present" && r.vm.value.resourceVersion === a.resourceVersion
          ? {
              ...r,
              vm: absent,
              vmi: absent,
              ...(a.cascades === undefined || r.dataVolumes?._tag !== "Present"
                ? {}
                : {
                    dataVolumes: present(r.dataVolumes.value.filter((d) => !(a.cascades ?? []).includes(d.name)))
                  })
            }
          : r
      )
    case "CreateDataVolume":
      // CDI imports it (the model does not wait): the next plan sees it Succeeded.
      return withRemote(w, a.cluster, (r) => {
        const dvs = r.dataVolumes?._tag === "Present" ? r.dataVolumes.value : []
        if (dvs.some((d) => d.name === a.after.name)) return r
        const dv = {
          name: a.after.name,
          labels: a.after.labels,
          annotations: a.after.annotations,
          resourceVersion: "1",
          phase: "Succeeded",
          deleting: false
        }
        return { ...r, dataVolumes: present([...dvs, dv]) }
      })
    case "DeleteDataVolume":
      return withRemote(w, a.cluster, (r) =>
        r.dataVolumes?._tag !== "Present"
          ? r
          : {
              ...r,
              dataVolumes: present(
                r.dataVolumes.value.filter(
                  (d) => !(d.name === a.target.name && d.resourceVersion === a.resourceVersion)
                )
              )
            }
      )
    case "CreateSecret":
      return withRemote(w, a.cluster, (r) =>
        r.cloudInitSecret?._tag === "Present"
          ? r
          : {
              ...r,
              cloudInitSecret: present({
                name: a.after.name,
                labels: a.after.labels,
                annotations: a.after.annotations,
                resourceVersion: "1",
                deleting: false
              })
            }
      )
    case "PatchSecret":
      return withRemote(w, a.cluster, (r) =>
        r.cloudInitSecret?._tag !== "Present" || r.cloudInitSecret.value.resourceVersion !== a.resourceVersion
          ? r
          : {
              ...r,
              cloudInitSecret: present({
                ...r.cloudInitSecret.value,
                labels: { ...r.cloudInitSecret.value.labels, ...a.after.labels },
                annotations: { ...r.cloudInitSecret.value.annotations, ...a.after.annotations },
                resourceVersion: bump(a.resourceVersion)
              })
            }
      )
    case "DeleteSecret":
      return withRemote(w, a.cluster, (r) =>
        r.cloudInitSecret?._tag === "Present" && r.cloudInitSecret.value.resourceVersion === a.resourceVersion
          ? { ...r, cloudInitSecret: absent }
          : r
      )
    case "AdoptVirtualMachine":
      return withRemote(w, a.cluster, (r) => {
        if (r.vm._tag !== "Present" || r.vm.value.resourceVersion !== a.resourceVersion) return r
        const vm = r.vm.value
        const labels = { ...vm.labels, ...a.labels }
        return {
          ...r,
          vm: present({
            ...vm,
            labels,
            resourceVersion: bump(vm.resourceVersion),
            spec: { ...vm.spec, labels, annotations: { ...vm.spec.annotations, ...a.annotations } }
          })
        }
      })
    case "AdoptPvc":
      return withRemote(w, a.cluster, (r) =>
        r.pvcs._tag !== "Present"
          ? r
          : {
              ...r,
              pvcs: present(
                r.pvcs.value.map((p) =>
                  p.name === a.target.name && p.resourceVersion === a.resourceVersion
                    ? { ...p, labels: { ...p.labels, ...a.labels }, resourceVersion: bump(p.resourceVersion) }
                    : p
                )
              )
            }
      )
    case "AdoptDataVolume":
      return withRemote(w, a.cluster, (r) =>
        r.dataVolumes?._tag !== "Present"
          ? r
          : {
              ...r,
              dataVolumes: present(
                r.dataVolumes.value.map((d) =>
                  d.name === a.target.name && d.resourceVersion === a.resourceVersion
                    ? {
                        ...d,
                        labels: { ...d.labels, ...a.labels },
                        annotations: { ...d.annotations, ...a.annotations },
                        resourceVersion: bump(d.resourceVersion)
                      }
                    : d
                )
              )
            }
      )
    case "CreateNetworkAttachmentDefinition":
      return withRemote(w, a.cluster, (r) =>
        r.nads._tag !== "Present" || r.nads.value.includes(a.target.name)
          ? r
          : { ...r, nads: present([...r.nads.value, a.target.name].sort()) }
      )
    case "DeleteNetworkAttachmentDefinition":
      return withRemote(w, a.cluster, (r) => {
        const usage = r.networkAttachments
        if (usage?._tag !== "Present") return r
        const deleted = usage.value.ours.some(
          (n) => n.name === a.target.name && n.resourceVersion === a.resourceVersion
        )
        if (!deleted) return r
        return {
          ...r,
          nads: r.nads._tag === "Present" ? present(r.nads.value.filter((n) => n !== a.target.name)) : r.nads,
          networkAttachments: present({
            ...usage.value,
            ours: usage.value.ours.filter((n) => n.name !== a.target.name)
          })
        }
      })
    case "CreateNetworkConfiguration":
      return withVitistack(w, (v) =>
        v.networkConfiguration._tag !== "Absent"
          ? v
          : {
              ...v,
              networkConfiguration: present({
                name: a.after.name,
                labels: a.after.labels,
                machineOwners: a.after.owner.uid === "" ? [] : [a.after.owner.uid],
                resourceVersion: "1",
                networkNamespaceName: a.after.networkNamespaceName,
                interfaces: a.after.interfaces,
                allocated: [],
                deleting: false
              })
            }
      )
    case "PatchNetworkConfiguration":
      // Content precondition: the fresh object gets the wanted interfaces (other fields of an entry are kept).
      return withVitistack(w, (v) =>
        v.networkConfiguration._tag !== "Present" ||
        missingInterfaces(v.networkConfiguration.value, a.after.interfaces).length === 0
          ? v
          : {
              ...v,
              networkConfiguration: present({
                ...v.networkConfiguration.value,
                interfaces: a.after.interfaces,
                resourceVersion: bump(v.networkConfiguration.value.resourceVersion)
              })
            }
      )
    case "PatchMachineAnnotation":
      return withMachine(w, (m) =>
        m.metadata.annotations?.[a.key] === a.value
          ? m
          : changeMetadata(m, { annotations: { ...(m.metadata.annotations ?? {}), [a.key]: a.value } })
      )
  }
}

/** Applies a plan's actions in order. */
export const simulate = (w: World, actions: ReadonlyArray<Action>): World => actions.reduce(applyAction, w)
