/**
 * The vitistack NetworkConfiguration (supervisor, `vitistack.io/v1alpha1`) named after a Machine (ADR 0013): the
 * fields the operator writes (the Go operator's: labels, a controller owner reference to the Machine, `spec.name`,
 * `spec.description`, `spec.networkNamespaceName`, `spec.networkInterfaces[].{name, macAddress}`) and what it reads of
 * a live one (the recorded MACs, and the addresses an IP operator wrote into its status). Domain layer: pure schemas;
 * `manifests/NetworkConfiguration.ts` renders and projects them.
 */
import { Schema } from "effect"

const Str = Schema.String

/** One interface as the operator records it: the VM interface's name and its MAC address. */
export const RecordedInterface = Schema.Struct({ name: Str, macAddress: Str })
export type RecordedInterface = typeof RecordedInterface.Type

export const NetworkConfigurationSpec = Schema.Struct({
  name: Str,
  namespace: Str,
  labels: Schema.Record(Str, Str),
  annotations: Schema.Record(Str, Str),
  /** The Machine, as the controller owner reference (the NetworkConfiguration is garbage-collected with it). */
  owner: Schema.Struct({ name: Str, uid: Str }),
  /** `spec.name`: 2-32 characters of `[A-Za-z0-9_-]` (the Go operator's short-name rule). */
  shortName: Str,
  description: Str,
  /** `spec.networkNamespaceName`: the NetworkNamespace the Machine's network came from (for the IP operators). */
  networkNamespaceName: Str,
  /** One entry per VM interface, in the VM's order. */
  interfaces: Schema.Array(RecordedInterface)
})
export type NetworkConfigurationSpec = typeof NetworkConfigurationSpec.Type

/** `status.networkInterfaces[]`: what an IP operator allocated for a MAC. */
export const AllocatedInterface = Schema.Struct({
  macAddress: Schema.optionalKey(Str),
  ipv4Addresses: Schema.Array(Str),
  ipv6Addresses: Schema.Array(Str)
})
export type AllocatedInterface = typeof AllocatedInterface.Type

export const ObservedNetworkConfiguration = Schema.Struct({
  name: Str,
  labels: Schema.Record(Str, Str),
  /** The uids of its controller owner references to Machines (the Go operator sets one, as the operator does). */
  machineOwners: Schema.Array(Str),
  resourceVersion: Str,
  networkNamespaceName: Schema.optionalKey(Str),
  /** `spec.networkInterfaces[]` (entries without a name or MAC keep what they have). */
  interfaces: Schema.Array(Schema.Struct({ name: Schema.optionalKey(Str), macAddress: Schema.optionalKey(Str) })),
  /** `status.networkInterfaces[]`. */
  allocated: Schema.Array(AllocatedInterface),
  deleting: Schema.Boolean
})
export type ObservedNetworkConfiguration = typeof ObservedNetworkConfiguration.Type
