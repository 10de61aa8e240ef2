/**
 * Which REST resource serves a kind: plural, scope, and whether `.status` is a separate subresource.
 * Effects layer (cluster service). Both the live layer (to build URLs) and the in-memory layer (to mimic
 * scope and status semantics) read the same table, so a new kind is registered once with `with(...)`.
 */
import { Option } from "effect"

/** A kind, identified the way Kubernetes does: apiVersion + kind. */
export interface KindRef {
  readonly apiVersion: string
  readonly kind: string
}

export interface KindInfo extends KindRef {
  /** Lower-case plural resource name used in URLs (`virtualmachines`). */
  readonly plural: string
  readonly namespaced: boolean
  /**
   * `.status` is a subresource: create/patch/apply ignore `.status`, and `updateStatus` is the only way to
   * write it. True for the kinds whose CRD (or built-in type) declares `subresources.status`.
   */
  readonly statusSubresource: boolean
}

const keyOf = (k: KindRef): string => `${k.apiVersion}|${k.kind}`

/** An immutable lookup table of kinds. */
export class KindTable {
  private readonly byKey: ReadonlyMap<string, KindInfo>

  private constructor(byKey: ReadonlyMap<string, KindInfo>) {
    this.byKey = byKey
  }

  static make(infos: Iterable<KindInfo>): KindTable {
    return new KindTable(new Map([...infos].map((i) => [keyOf(i), i] as const)))
  }

  /** A table with these kinds added (or replaced, when apiVersion + kind already exist). */
  with(...infos: ReadonlyArray<KindInfo>): KindTable {
    const next = new Map(this.byKey)
    for (const info of infos) next.set(keyOf(info), info)
    return new KindTable(next)
  }

  lookup(kind: KindRef): Option.Option<KindInfo> {
    return Option.fromUndefinedOr(this.byKey.get(keyOf(kind)))
  }

  all(): ReadonlyArray<KindInfo> {
    return [...this.byKey.values()]
  }

  /**
   * The built-in table: every kind in `Kinds` (src/domain/ObjectRef.ts).
   * Scope and status subresources follow the CRDs in shared/crds (KubeVirt v1.8.2: the
   * VirtualMachineInstance CRD has NO status subresource) and the core API.
   */
  static readonly default: KindTable = KindTable.make([
    { apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, statusSubresource: true },
    { apiVersion: "v1", kind: "Secret", plural: "secrets", namespaced: true, statusSubresource: false },
    { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, statusSubresource: false },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      plural: "persistentvolumeclaims",
      namespaced: true,
      statusSubresource: true
    },
    { apiVersion: "v1", kind: "Event", plural: "events", namespaced: true, statusSubresource: false },
    {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      plural: "leases",
      namespaced: true,
      statusSubresource: false
    },
    {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      plural: "virtualmachines",
      namespaced: true,
      statusSubresource: true
    },
    {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      plural: "virtualmachineinstances",
      namespaced: true,
      statusSubresource: false
    },
    {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      plural: "datavolumes",
      namespaced: true,
      statusSubresource: true
    },
    {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataSource",
      plural: "datasources",
      namespaced: true,
      statusSubresource: false
    },
    {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "StorageProfile",
      plural: "storageprofiles",
      namespaced: false,
      statusSubresource: true
    },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      plural: "storageclasses",
      namespaced: false,
      statusSubresource: false
    },
    {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      plural: "network-attachment-definitions",
      namespaced: true,
      statusSubresource: false
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Machine",
      plural: "machines",
      namespaced: true,
      statusSubresource: true
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "MachineClass",
      plural: "machineclasses",
      namespaced: false,
      statusSubresource: true
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "KubevirtConfig",
      plural: "kubevirtconfigs",
      namespaced: false,
      statusSubresource: true
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "MachineProvider",
      plural: "machineproviders",
      namespaced: false,
      statusSubresource: true
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Vitistack",
      plural: "vitistacks",
      namespaced: false,
      statusSubresource: true
    },
    {
      apiVersion: "kubevirt.io/v1",
      kind: "KubeVirt",
      plural: "kubevirts",
      namespaced: true,
      statusSubresource: true
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "NetworkNamespace",
      plural: "networknamespaces",
      namespaced: true,
      statusSubresource: true
    },
    {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "NetworkConfiguration",
      plural: "networkconfigurations",
      namespaced: true,
      statusSubresource: true
    }
  ])
}

/** The kind that discovery requests count under (request counts, fault rules): what `/apis/<group>` returns. */
export const DISCOVERY_KIND = "APIGroup"

/** The API group of an apiVersion (`""` for the core group `v1`). */
export const groupOf = (apiVersion: string): string => {
  const slash = apiVersion.indexOf("/")
  return slash < 0 ? "" : apiVersion.slice(0, slash)
}

/** `plural.group` (or `plural` for core), as the apiserver writes it in messages: `virtualmachines.kubevirt.io`. */
export const qualifiedResource = (info: KindInfo): string => {
  const group = groupOf(info.apiVersion)
  return group === "" ? info.plural : `${info.plural}.${group}`
}
