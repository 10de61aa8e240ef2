/**
 * The offline planning pipeline: Machines, MachineClasses and KubevirtConfigs from files, remote objects from an
 * optional snapshot, to one Plan per Machine. Domain layer: pure; the `plan -f` command reads the files and prints.
 * The snapshot is one cluster's objects: it is the observed remote of whichever cluster each Machine is placed on
 * (no snapshot: a fresh cluster, which holds only the system namespaces). Machines are planned one after another as
 * the operator reconciles them, so a namespace that one Machine's plan creates is seen by the next: it is ensured
 * once.
 */
import { cloudInitSourcesFrom } from "./cloudInitPayload.ts"
import type { Documents } from "./documents.ts"
import { absent, type Fact, present, unknown } from "./Fact.ts"
import type { KubeObject } from "./KubeObject.ts"
import { requestedClass } from "./Machine.ts"
import { namespaceManifest } from "./manifests/Namespace.ts"
import { networkConfigurationManifest } from "./manifests/NetworkConfiguration.ts"
import { ObservedState } from "./ObservedState.ts"
import { macOwnersFromObjects, remoteStateFromObjects, vitistackFactsFromObjects } from "./observedFromObjects.ts"
import type { Plan } from "./Plan.ts"
import { place } from "./placement.ts"
import { plan } from "./planner.ts"
import type { Settings } from "./Settings.ts"

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
  const plans = [...docs.machines]
    .sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1
    )
    .map((machine) => {
      const className = requestedClass(machine)
      const mc = docs.machineClasses.find((c) => c.metadata.name === className)
      const placement = place(machine, configs, [], settings)
      const cluster = placement._tag === "Placed" ? placement.cluster : undefined
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
        ...(vitistack === undefined ? {} : { vitistack })
      })
      const p = plan({ machine, observed, settings })
      for (const a of p.actions) {
        if (a._tag === "EnsureNamespace") objects = [...objects, namespaceManifest(a.target.name, a.labels)]
        if (a._tag === "CreateNetworkConfiguration")
          supervisorObjects = [...supervisorObjects, networkConfigurationManifest(a.after)]
      }
      return p
    })
  return plans
}
