/**
 * A reference to one Kubernetes object: API version, kind, namespace (absent for cluster-scoped kinds) and name.
 * Domain layer: pure data. Actions name their targets with it; the cluster service resolves it to a REST path.
 */
import { Schema } from "effect"

export class ObjectRef extends Schema.Class<ObjectRef>("ObjectRef")({
  apiVersion: Schema.String,
  kind: Schema.String,
  namespace: Schema.optionalKey(Schema.String),
  name: Schema.String
}) {}

/** `namespace/name`, or `name` for cluster-scoped objects: the form used in messages, plans and queue keys. */
export const refKey = (ref: { readonly namespace?: string | undefined; readonly name: string }): string =>
  ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`

/** Well-known kinds, so the API version of a kind is written once. */
export const Kinds = {
  Namespace: { apiVersion: "v1", kind: "Namespace" },
  Secret: { apiVersion: "v1", kind: "Secret" },
  PersistentVolumeClaim: { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  Event: { apiVersion: "v1", kind: "Event" },
  Lease: { apiVersion: "coordination.k8s.io/v1", kind: "Lease" },
  VirtualMachine: { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" },
  VirtualMachineInstance: { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance" },
  NetworkAttachmentDefinition: { apiVersion: "k8s.cni.cncf.io/v1", kind: "NetworkAttachmentDefinition" },
  Machine: { apiVersion: "vitistack.io/v1alpha1", kind: "Machine" },
  MachineClass: { apiVersion: "vitistack.io/v1alpha1", kind: "MachineClass" },
  KubevirtConfig: { apiVersion: "vitistack.io/v1alpha1", kind: "KubevirtConfig" },
  NetworkNamespace: { apiVersion: "vitistack.io/v1alpha1", kind: "NetworkNamespace" },
  NetworkConfiguration: { apiVersion: "vitistack.io/v1alpha1", kind: "NetworkConfiguration" },
  ConfigMap: { apiVersion: "v1", kind: "ConfigMap" },
  DataVolume: { apiVersion: "cdi.kubevirt.io/v1beta1", kind: "DataVolume" },
  DataSource: { apiVersion: "cdi.kubevirt.io/v1beta1", kind: "DataSource" },
  StorageProfile: { apiVersion: "cdi.kubevirt.io/v1beta1", kind: "StorageProfile" },
  StorageClass: { apiVersion: "storage.k8s.io/v1", kind: "StorageClass" },
  MachineProvider: { apiVersion: "vitistack.io/v1alpha1", kind: "MachineProvider" },
  Vitistack: { apiVersion: "vitistack.io/v1alpha1", kind: "Vitistack" },
  KubeVirt: { apiVersion: "kubevirt.io/v1", kind: "KubeVirt" }
} as const

export type KnownKind = keyof typeof Kinds

/** Builds a reference to a well-known kind. */
export const refOf = (kind: KnownKind, name: string, namespace?: string): ObjectRef =>
  ObjectRef.make({ ...Kinds[kind], name, ...(namespace === undefined ? {} : { namespace }) })
