/**
 * A watch on every remote cluster, declared as data by the capability that needs it: the kind, the label selector, and
 * which Machines an event concerns. Domain layer: pure. `remoteWatches.ts` lists every capability's declarations and
 * `runtime/Operator.ts` runs one informer per declaration and cluster, so a new capability adds a watch without
 * touching the operator loop (kube-rs `Controller::watches` with a mapper).
 */
import type { Duration } from "effect"
import type { KubeObject } from "./KubeObject.ts"
import type { KindOf } from "./reads.ts"

/** What the operator knows about its Machines when it maps an event (its watch cache). */
export interface PlacedMachines {
  /** The keys (`namespace/name`) of the Machines placed on `cluster` in `namespace`. */
  readonly inNamespace: (cluster: string, namespace: string) => ReadonlyArray<string>
  /** Whether the Machine `key` (`namespace/name`) is placed on `cluster`. */
  readonly isPlaced: (cluster: string, key: string) => boolean
}

export interface RemoteWatch {
  readonly kind: KindOf
  /** Equality label selector; empty: every object of the kind (then the objects need not be ours). */
  readonly labelSelector: Readonly<Record<string, string>>
  /** The Machine keys an event on `object` (on the remote `cluster`) wakes. */
  readonly toKeys: (object: KubeObject, cluster: string, machines: PlacedMachines) => ReadonlyArray<string>
  /**
   * The kind may not be served (an optional CRD) or listable by the remote identity: then it is not watched (said
   * once in the log) and asked again after `reprobeAfter`; Machines that wait on it retry with backoff meanwhile.
   */
  readonly optional?: { readonly reprobeAfter: Duration.Duration } | undefined
  /** This watch's list succeeding or failing is what the cluster's health (KubevirtConfig status) reports. */
  readonly reportsHealth?: boolean | undefined
  /**
   * The watch selects another manager's objects (the Go operator's, for adoption, ADR 0014), of which only the names
   * are read: the operator's cache of it keeps their metadata, indexed by `machineLabel` (the label naming the Machine
   * an object is for). Omitted: the watch of objects of ours (or of every object of the kind).
   */
  readonly others?: { readonly machineLabel: string } | undefined
}
