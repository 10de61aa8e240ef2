/**
 * The health of one remote cluster (reference F3-F5, without W6's crash): its apiserver answers, KubeVirt is
 * installed and deployed (a KubeVirt resource in any namespace), the VirtualMachine and DataVolume APIs it serves,
 * CDI present. Domain layer: pure. `evaluateHealth` turns what a probe saw into a phase, a reason and one message;
 * the runtime writes it on the KubevirtConfig's status and as metrics, and the planner consults it (a NotReady
 * cluster holds back the Machines placed on it, ADR 0012).
 * Phases: Ready; Degraded (usable, something is missing or unknown: CDI, KubeVirt's own Degraded condition, a
 * KubeVirt list that was refused); NotReady (KubeVirt is not installed or not deployed, or VirtualMachine v1 is not
 * served: nothing the operator creates could run); Error (the apiserver does not answer us); Unknown (configured, not
 * checked yet: the planner waits for the first check, which starts at once, rather than create on a guess).
 */
import { Schema } from "effect"
import { type ServedVersion, versionsServing } from "./ApiDiscovery.ts"
import type { KubeObject } from "./KubeObject.ts"
import { asArray, asRecord, asString } from "./manifests/jsonPath.ts"

/** The VirtualMachine version the operator writes (manifests/VirtualMachine.ts). */
export const VM_VERSION = "v1"

export const ClusterPhase = Schema.Literals(["Ready", "Degraded", "NotReady", "Error", "Unknown"])
export type ClusterPhase = typeof ClusterPhase.Type

/** Why the cluster is in its phase; written as the KubevirtConfig's `status.status` (CamelCase, one word). */
export const ClusterHealthReason = Schema.Literals([
  "KubevirtDeployed",
  "KubevirtDegraded",
  "KubevirtUnknown",
  "CdiNotInstalled",
  "CdiUnknown",
  "KubevirtNotInstalled",
  "KubevirtNotReady",
  "VirtualMachineNotServed",
  "Unreachable",
  "NotChecked"
])
export type ClusterHealthReason = typeof ClusterHealthReason.Type

export const ClusterHealth = Schema.Struct({
  /** The KubevirtConfig name. */
  cluster: Schema.String,
  phase: ClusterPhase,
  reason: ClusterHealthReason,
  /** One line: what was found, or what is wrong and what would fix it. */
  message: Schema.String,
  /** Versions of kubevirt.io serving `virtualmachines` (the server's order). */
  virtualMachineVersions: Schema.Array(Schema.String),
  /** Versions of cdi.kubevirt.io serving `datavolumes`; empty: CDI is not installed (or unknown). */
  dataVolumeVersions: Schema.Array(Schema.String)
})
export type ClusterHealth = typeof ClusterHealth.Type

/** What the server answered, or why it could not be read (the error's message). */
export type Answer<A> =
  | { readonly _tag: "Answered"; readonly value: A }
  | { readonly _tag: "Failed"; readonly reason: string }

export const answered = <A>(value: A): Answer<A> => ({ _tag: "Answered", value })
export const failed = (reason: string): Answer<never> => ({ _tag: "Failed", reason })

/** A KubeVirt resource (`kubevirts.kubevirt.io`) as far as health reads it. */
export interface KubevirtResource {
  readonly namespace: string
  readonly name: string
  /** `status.phase`: Deploying, Deployed, Deleting, Deleted; absent before virt-operator saw it. */
  readonly phase?: string | undefined
  /** `status.observedKubeVirtVersion`. */
  readonly version?: string | undefined
  /** `status.conditions` Available and Degraded, when present. */
  readonly available?: { readonly status: string; readonly message?: string | undefined } | undefined
  readonly degraded?: { readonly status: string; readonly message?: string | undefined } | undefined
}

/** A KubeVirt resource as a live object holds it (status written by virt-operator). */
export const kubevirtResourceOf = (o: KubeObject): KubevirtResource => {
  const status = asRecord(o.status)
  const condition = (type: string) => {
    const c = asArray(status.conditions)
      .map(asRecord)
      .find((x) => x.type === type)
    return c === undefined ? undefined : { status: asString(c.status) ?? "Unknown", message: asString(c.message) }
  }
  return {
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name,
    phase: asString(status.phase),
    version: asString(status.observedKubeVirtVersion),
    available: condition("Available"),
    degraded: condition("Degraded")
  }
}

/** What one probe of a remote cluster saw (`effects/probeCluster.ts`). Empty group: the server does not serve it. */
export interface ClusterProbe {
  readonly kubevirtGroup: Answer<ReadonlyArray<ServedVersion>>
  readonly cdiGroup: Answer<ReadonlyArray<ServedVersion>>
  /** KubeVirt resources in every namespace; undefined when not asked (kubevirt.io/v1 serves no `kubevirts`). */
  readonly kubevirts?: Answer<ReadonlyArray<KubevirtResource>> | undefined
}

/**
 * A NotReady cluster holds back the Machines placed on it, and so does one not checked yet; Ready, Degraded and Error
 * leave them to their own facts (an unreachable cluster's facts are Unknown anyway).
 */
export const blocksMachines = (h: ClusterHealth): boolean => h.phase === "NotReady" || h.phase === "Unknown"

/** A configured cluster whose first check has not finished. */
export const uncheckedHealth = (cluster: string): ClusterHealth => ({
  cluster,
  phase: "Unknown",
  reason: "NotChecked",
  message: "its health has not been checked yet (the first check is under way)",
  virtualMachineVersions: [],
  dataVolumeVersions: []
})

/** Ready and Degraded clusters can run VMs (Degraded: not every kind of Machine). */
export const isUsable = (h: ClusterHealth): boolean => h.phase === "Ready" || h.phase === "Degraded"

const list = (xs: ReadonlyArray<string>) => xs.join(", ")

/** Deployed first, then by namespace and name: the resource virt-operator is working from. */
const byRelevance = (a: KubevirtResource, b: KubevirtResource) =>
  Number(b.phase === "Deployed") - Number(a.phase === "Deployed") ||
  a.namespace.localeCompare(b.namespace) ||
  a.name.localeCompare(b.name)

/** The cluster is unreachable for the operator: its client cannot be built, or a read or watch failed so. */
export const unreachableHealth = (cluster: string, message: string): ClusterHealth => ({
  cluster,
  phase: "Error",
  reason: "Unreachable",
  message,
  virtualMachineVersions: [],
  dataVolumeVersions: []
})

/**
 * The health of `cluster` from one probe.
 *
 * Guarantees: total and deterministic; the message depends only on the probe (no times), so an unchanged cluster
 * gives an equal value and its status is not written again.
 */
export const evaluateHealth = (cluster: string, probe: ClusterProbe): ClusterHealth => {
  if (probe.kubevirtGroup._tag === "Failed")
    return unreachableHealth(cluster, `the apiserver does not answer discovery: ${probe.kubevirtGroup.reason}`)
  const kubevirtGroup = probe.kubevirtGroup.value
  const vmVersions = versionsServing(kubevirtGroup, "virtualmachines")
  const dvVersions = probe.cdiGroup._tag === "Answered" ? versionsServing(probe.cdiGroup.value, "datavolumes") : []
  const health = (phase: ClusterPhase, reason: ClusterHealthReason, message: string): ClusterHealth => ({
    cluster,
    phase,
    reason,
    message,
    virtualMachineVersions: vmVersions,
    dataVolumeVersions: dvVersions
  })
  const cdiNote =
    probe.cdiGroup._tag === "Failed"
      ? `cannot tell whether CDI is installed: ${probe.cdiGroup.reason}`
      : dvVersions.length === 0
        ? "CDI is not installed (cdi.kubevirt.io serves no DataVolume): Machines that import an image cannot be created here"
        : undefined
  const withCdi = (message: string) => (cdiNote === undefined ? message : `${message}; ${cdiNote}`)

  if (kubevirtGroup.length === 0)
    return health(
      "NotReady",
      "KubevirtNotInstalled",
      withCdi("KubeVirt is not installed: the apiserver does not serve the kubevirt.io API group")
    )
  if (!vmVersions.includes(VM_VERSION))
    return health(
      "NotReady",
      "VirtualMachineNotServed",
      withCdi(
        `the VirtualMachine API kubevirt.io/${VM_VERSION} is not served (${vmVersions.length === 0 ? "no version serves virtualmachines" : `served: ${list(vmVersions)}`})`
      )
    )
  const apis = `VirtualMachine kubevirt.io ${list(vmVersions)}${dvVersions.length === 0 ? "" : `; DataVolume cdi.kubevirt.io ${list(dvVersions)}`}`
  const kubevirts = probe.kubevirts
  if (kubevirts === undefined)
    return health(
      "NotReady",
      "KubevirtNotInstalled",
      withCdi(`KubeVirt is not installed: kubevirt.io/${VM_VERSION} serves no KubeVirt resource (${apis})`)
    )
  if (kubevirts._tag === "Failed")
    return health(
      "Degraded",
      "KubevirtUnknown",
      withCdi(
        `cannot tell whether KubeVirt is deployed (grant list on kubevirts.kubevirt.io to the operator's identity): ${kubevirts.reason}; ${apis}`
      )
    )
  const cr = [...kubevirts.value].sort(byRelevance)[0]
  if (cr === undefined)
    return health(
      "NotReady",
      "KubevirtNotInstalled",
      withCdi(`KubeVirt is not installed: no KubeVirt resource in any namespace (${apis})`)
    )
  const id = `KubeVirt ${cr.namespace}/${cr.name}`
  if (cr.phase !== "Deployed")
    return health(
      "NotReady",
      "KubevirtNotReady",
      withCdi(`${id} is ${cr.phase === undefined || cr.phase === "" ? "not deployed yet (no phase)" : cr.phase}`)
    )
  if (cr.available !== undefined && cr.available.status !== "True")
    return health(
      "NotReady",
      "KubevirtNotReady",
      withCdi(`${id} is Deployed but not Available${cr.available.message ? `: ${cr.available.message}` : ""}`)
    )
  const deployed = `${id} Deployed${cr.version === undefined || cr.version === "" ? "" : ` (${cr.version})`}; ${apis}`
  if (cr.degraded?.status === "True")
    return health(
      "Degraded",
      "KubevirtDegraded",
      withCdi(`${id} is Degraded${cr.degraded.message ? `: ${cr.degraded.message}` : ""}; ${apis}`)
    )
  if (probe.cdiGroup._tag === "Failed") return health("Degraded", "CdiUnknown", `${deployed}; ${cdiNote}`)
  if (dvVersions.length === 0) return health("Degraded", "CdiNotInstalled", `${deployed}; ${cdiNote}`)
  return health("Ready", "KubevirtDeployed", deployed)
}

/**
 * The KubevirtConfig's status for a health: its CRD has `name`, `phase`, `status`, `message` and `created`; the
 * phase, the reason as `status` and the message are ours, the rest of what is stored is kept.
 */
export const kubevirtConfigStatus = (stored: unknown, h: ClusterHealth): Record<string, unknown> => ({
  ...(stored !== null && typeof stored === "object" && !Array.isArray(stored) ? stored : {}),
  name: h.cluster,
  phase: h.phase,
  status: h.reason,
  message: h.message
})
