/**
 * The offline planning pipeline: Machines, MachineClasses and KubevirtConfigs from files, remote objects from an
 * optional snapshot, to one Plan per Machine. Domain layer: pure; the `plan -f` command reads the files and prints.
 * The snapshot is one cluster's objects: it is the observed remote of whichever cluster each Machine is placed on
 * (no snapshot: a fresh cluster, which holds only the system namespaces). Machines are planned one after another as
 * the operator reconciles them, so a namespace that one Machine's plan creates is seen by the next: it is ensured
 * once. Two Machines whose PVCs would have one name are an Error on both (`claimCollisions.ts`).
 */
import { claimCollisions } from "./claimCollisions.ts"
import { cloudInitSourcesFrom } from "./cloudInitPayload.ts"
import type { Documents } from "./documents.ts"
import { absent, type Fact, present, unknown } from "./Fact.ts"
import { approvalPolicyFrom } from "./governance.ts"
import type { KubeObject } from "./KubeObject.ts"
import { type Machine, requestedClass } from "./Machine.ts"
import { namespaceManifest } from "./manifests/Namespace.ts"
import { networkConfigurationManifest } from "./manifests/NetworkConfiguration.ts"
import { ObservedState } from "./ObservedState.ts"
import { macOwnersFromObjects, remoteStateFromObjects, vitistackFactsFromObjects } from "./observedFromObjects.ts"
import type { Plan } from "./Plan.ts"
import { place } from "./placement.ts"
import { plan, withDiagnostics } from "./planner.ts"
import type { Settings } from "./Settings.ts"
import { needsNamespaceLabels, type Tenancy, tenancyAnnotations } from "./tenancy.ts"

/** Namespaces every Kubernetes cluster has. */
export const SYSTEM_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"] as const

/** The objects of a fresh cluster: its system namespaces. */
export const freshCluster = (): Array<KubeObject> => SYSTEM_NAMESPACES.map((n) => namespaceManifest(n, {}))

export const planDocuments = (
  docs: Documents,
  snapshot: ReadonlyArray<KubeObject> | undefined,
  settings: Settings
): Array<Plan> => {
  let objects: ReadonlyArray<KubeObject> = snapshot ?? freshCluster()
  let supervisorObjects: ReadonlyArray<KubeObject> = docs.objects
  const configs: Fact<ReadonlyArray<string>> =
    docs.kubevirtConfigs.length > 0
      ? present(docs.kubevirtConfigs.map((c) => c.metadata.name))
      : unknown("no KubevirtConfig document was given")
  const machines = [...docs.machines].sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1
  )
  // Tenancy from the KubevirtConfig documents' annotations; a selector is decided on the labels of the supervisor
  // Namespace given as a document (-f), or waits for it.
  const tenancyOf = (machine: Machine): Fact<Tenancy> | undefined => {
    const chosen = place(machine, configs, [], settings)
    if (chosen._tag !== "Placed") return undefined
    const config = docs.kubevirtConfigs.find((c) => c.metadata.name === chosen.cluster)
    if (config === undefined) return undefined
    const policy = tenancyAnnotations(chosen.cluster, config.metadata.annotations)
    const ns = machine.metadata.namespace
    if (!needsNamespaceLabels(policy, ns)) return present(policy)
    const namespace = docs.objects.find((o) => o.kind === "Namespace" && o.metadata.name === ns)
    return present({
      ...policy,
      namespaceLabels:
        namespace === undefined
          ? unknown(`no Namespace document '${ns}' was given (its labels decide the selector)`)
          : present({ ...(namespace.metadata.labels ?? {}) })
    })
  }
  const placementOf = (machine: Machine) => place(machine, configs, [], settings, tenancyOf(machine))
  // Found across Machines before any is planned, so a blocked Machine's namespace is not counted as ensured.
  const collisions = claimCollisions(
    machines.map((machine) => {
      const p = placementOf(machine)
      return { machine, cluster: p._tag === "Placed" ? p.cluster : undefined }
    })
  )
  const plans = machines.map((machine) => {
    const className = requestedClass(machine)
    const mc = docs.machineClasses.find((c) => c.metadata.name === className)
    const placement = placementOf(machine)
    const tenancy = tenancyOf(machine)
    const cluster = placement._tag === "Placed" ? placement.cluster : undefined
    // Approvals (ADR 0015) from the KubevirtConfig and supervisor Namespace documents' annotations.
    const approval = approvalPolicyFrom(
      cluster,
      docs.kubevirtConfigs.find((c) => c.metadata.name === cluster)?.metadata.annotations,
      machine.metadata.namespace,
      docs.objects.find((o) => o.kind === "Namespace" && o.metadata.name === machine.metadata.namespace)?.metadata
        .annotations
    )
    const firstRound = vitistackFactsFromObjects(machine, supervisorObjects)
    const remote =
      cluster === undefined ? undefined : remoteStateFromObjects(machine, cluster, objects, settings, firstRound)
    const vitistack =
      firstRound === undefined || cluster === undefined
        ? firstRound
        : macOwnersFromObjects(machine, firstRound, cluster, settings, remote, supervisorObjects)
    const observed = ObservedState.make({
      kubevirtConfigs: configs,
      machineClass: mc === undefined ? absent : present(mc),
      vmSearch: [],
      remote: remote === undefined ? absent : present(remote),
      // Secrets and ConfigMaps among the files are the supervisor's: cloud-init sources.
      cloudInitSources: cloudInitSourcesFrom(machine, docs.objects),
      ...(tenancy === undefined ? {} : { tenancy }),
      approval: present(approval),
      ...(vitistack === undefined ? {} : { vitistack })
    })
    const p = withDiagnostics(
      plan({ machine, observed, settings }),
      collisions.get(`${machine.metadata.namespace}/${machine.metadata.name}`) ?? []
    )
    for (const a of p.actions) {
      if (a._tag === "EnsureNamespace") objects = [...objects, namespaceManifest(a.target.name, a.labels)]
      if (a._tag === "CreateNetworkConfiguration")
        supervisorObjects = [...supervisorObjects, networkConfigurationManifest(a.after)]
    }
    return p
  })
  return plans
}
