/**
 * Vitistack networking (ADR 0013, reference F29, F30): a Machine's network comes from a NetworkNamespace in its
 * namespace on the supervisor. This module finds that NetworkNamespace (named, else the Go operator's legacy lookup),
 * decides the network from its provisioned VLAN and allocation type (`vlan<id>`, `bridge-br0`, or the pod network),
 * and holds the step for the VLAN's NetworkAttachmentDefinition: looked up and waited for by default; with the opt-in
 * created with the Go operator's bridge config, never modified, and deleted (ours only) once no VM of the namespace
 * names it. Domain layer: pure.
 */
import type { Action } from "./Action.ts"
import { type Diagnostic, error, waiting } from "./Diagnostic.ts"
import { isDnsSubdomain } from "./dnsNames.ts"
import { type Fact, present } from "./Fact.ts"
import type { KubeObject } from "./KubeObject.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./labels.ts"
import { isDeleting, type Machine } from "./Machine.ts"
import { networkAttachmentsUsedBy } from "./manifests/NetworkAttachmentDefinition.ts"
import { observeNetworkNamespace } from "./manifests/NetworkNamespace.ts"
import type { NetworkAttachmentSpec, NetworkAttachmentUsage } from "./NetworkAttachmentSpec.ts"
import type { ObservedNetworkNamespace } from "./NetworkNamespaceSpec.ts"
import { Kinds, refOf } from "./ObjectRef.ts"
import type { VitistackFacts } from "./ObservedState.ts"
import { answerAt, firstUnknown, type Reads } from "./reads.ts"
import type { Settings } from "./Settings.ts"
import { type StaticSubnet, staticSubnet } from "./staticIp.ts"
import { halted, nothing, type RemoteStep, type StepResult } from "./step.ts"
import { POD_NETWORK, type VmNetwork } from "./VmSpec.ts"
import { NETWORKS_FIELD } from "./vmDrift.ts"

/** The Machine field that names a NetworkNamespace. */
export const NETWORK_NAMESPACE_FIELD = "spec.network.networkNamespaceName"
/** Labels the VLAN of a NAD the operator created (the Go operator's). */
export const VLAN_ID_LABEL = "vitistack.io/vlan-id"
/** The Go operator's name of the untagged bridge's NAD (a static NetworkNamespace without a VLAN). */
export const UNTAGGED_BRIDGE = "bridge-br0"

const namedNetworkNamespace = (m: Machine): string | undefined => {
  const n = m.spec.network?.networkNamespaceName
  return n === undefined || n.trim() === "" ? undefined : n.trim()
}

/**
 * The NetworkNamespaces a live Machine reads on the supervisor: the one it names, or (legacy lookup) every one in its
 * namespace. The kind is optional: a supervisor without the vitistack network CRDs has none. Undefined for a Machine
 * being deleted (nothing of it is needed then) or one that names an impossible object.
 */
export const networkNamespaceReads = (machine: Machine): Reads<ReadonlyArray<ObservedNetworkNamespace>> | undefined => {
  if (isDeleting(machine)) return undefined
  const { namespace } = machine.metadata
  const named = namedNetworkNamespace(machine)
  if (named !== undefined && !isDnsSubdomain(named)) return undefined
  return {
    queries: [
      named === undefined
        ? { _tag: "List", kind: Kinds.NetworkNamespace, namespace, labelSelector: {}, optional: true }
        : { _tag: "Get", ref: refOf("NetworkNamespace", named, namespace), optional: true }
    ],
    fact: (answers): Fact<ReadonlyArray<ObservedNetworkNamespace>> => {
      const a = answerAt(answers, 0)
      if (a._tag === "Unknown") return { _tag: "Unknown", reason: a.reason }
      return present(
        a.objects.map(observeNetworkNamespace).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
      )
    }
  }
}

/** Which NetworkNamespace a live Machine's network comes from, or why there is none (yet). */
export type NetworkNamespaceChoice =
  | { readonly _tag: "None" }
  | {
      readonly _tag: "Chosen"
      readonly networkNamespace: ObservedNetworkNamespace
      /** How it was found: named by the Machine, recorded in its NetworkConfiguration, named like it, the only one. */
      readonly how: "Named" | "Recorded" | "SameName" | "Only"
    }
  | { readonly _tag: "Waiting"; readonly diagnostic: Diagnostic }
  | { readonly _tag: "Invalid"; readonly diagnostic: Diagnostic }

/**
 * The NetworkNamespace of a Machine. A name in `spec.network.networkNamespaceName` wins; a named one that is missing
 * is a wait. Without a name (the Go operator's legacy lookup): the one its NetworkConfiguration recorded (so a
 * Machine keeps its network), else the one named like the Machine, else the only one; several is an Error asking to
 * name it, never a silent "first". Absent facts (not read) mean none.
 */
export const chooseNetworkNamespace = (machine: Machine, facts: VitistackFacts | undefined): NetworkNamespaceChoice => {
  const { namespace, name } = machine.metadata
  const named = namedNetworkNamespace(machine)
  if (named !== undefined && !isDnsSubdomain(named))
    return {
      _tag: "Invalid",
      diagnostic: error(
        "InvalidNetworkNamespaceName",
        `'${named}' cannot name a NetworkNamespace (not a DNS-1123 subdomain)`,
        NETWORK_NAMESPACE_FIELD
      )
    }
  if (facts === undefined) return { _tag: "None" }
  const list = facts.networkNamespaces
  if (list._tag === "Unknown")
    return {
      _tag: "Waiting",
      diagnostic: waiting(
        "NetworkNamespaceUnknown",
        `cannot read NetworkNamespaces in '${namespace}' on the supervisor: ${list.reason}`,
        NETWORK_NAMESPACE_FIELD
      )
    }
  const all = list._tag === "Present" ? list.value : []
  if (named !== undefined) {
    const nn = all.find((n) => n.name === named)
    if (nn === undefined || nn.deleting)
      return {
        _tag: "Waiting",
        diagnostic: waiting(
          "NetworkNamespaceMissing",
          `NetworkNamespace ${namespace}/${named} ${nn === undefined ? "does not exist" : "is being deleted"} on the supervisor; the VM waits for it`,
          NETWORK_NAMESPACE_FIELD
        )
      }
    return { _tag: "Chosen", networkNamespace: nn, how: "Named" }
  }
  const live = all.filter((n) => !n.deleting)
  const nc = facts.networkConfiguration
  const recorded = nc._tag === "Present" ? nc.value.networkNamespaceName : undefined
  const fromNc = live.find((n) => n.name === recorded)
  if (fromNc !== undefined) return { _tag: "Chosen", networkNamespace: fromNc, how: "Recorded" }
  const same = live.find((n) => n.name === name)
  if (same !== undefined) return { _tag: "Chosen", networkNamespace: same, how: "SameName" }
  if (live.length === 1) return { _tag: "Chosen", networkNamespace: live[0]!, how: "Only" }
  if (live.length === 0) return { _tag: "None" }
  return {
    _tag: "Invalid",
    diagnostic: error(
      "AmbiguousNetworkNamespace",
      `namespace '${namespace}' has ${live.length} NetworkNamespaces (${live.map((n) => n.name).join(", ")}) and none is named '${name}'; name one in ${NETWORK_NAMESPACE_FIELD}`,
      NETWORK_NAMESPACE_FIELD
    )
  }
}

/** The network a NetworkNamespace gives (reference F29, with the `vlan0` quirk of W16 left out). */
export type NetworkDecision =
  | { readonly _tag: "Pod" }
  | { readonly _tag: "Bridge"; readonly nad: string; readonly vlanId: number | undefined }

/** What a chosen NetworkNamespace means for the Machine, or why it cannot be used (yet). */
export type VitistackNetwork =
  | { readonly _tag: "None" }
  | { readonly _tag: "Waiting"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly _tag: "Invalid"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | {
      readonly _tag: "Resolved"
      readonly networkNamespace: ObservedNetworkNamespace
      readonly decision: NetworkDecision
      /** The VM's first network: the VLAN bridge, or the pod network. */
      readonly primary: VmNetwork
      /** Static allocation: the pool's subnet (checked). */
      readonly subnet: Extract<StaticSubnet, { _tag: "Ok" }> | undefined
    }

/**
 * The network of a Machine from its NetworkNamespace: `status.vlanId > 0` is the bridge NAD `vlan<id>`; a static
 * NetworkNamespace without a VLAN is the untagged `bridge-br0`; otherwise the pod network. No `status.vlanId` yet:
 * the network operator has not provisioned it, a wait. A static NetworkNamespace without its `static` block is an
 * Error naming that field.
 */
export const vitistackNetwork = (machine: Machine, facts: VitistackFacts | undefined): VitistackNetwork => {
  const choice = chooseNetworkNamespace(machine, facts)
  switch (choice._tag) {
    case "None":
      return { _tag: "None" }
    case "Waiting":
      return { _tag: "Waiting", diagnostics: [choice.diagnostic] }
    case "Invalid":
      return { _tag: "Invalid", diagnostics: [choice.diagnostic] }
    case "Chosen":
      break
  }
  const nn = choice.networkNamespace
  const id = `NetworkNamespace ${machine.metadata.namespace}/${nn.name}`
  const isStatic = nn.ipAllocationType === "static"
  let subnet: Extract<StaticSubnet, { _tag: "Ok" }> | undefined
  if (isStatic) {
    if (nn.static === undefined)
      return {
        _tag: "Invalid",
        diagnostics: [
          error(
            "StaticIpConfigMissing",
            `${id} has ipAllocation.type static but no spec.ipAllocation.static block (ipv4CIDR, ipv4Gateway, dns); add it there`,
            `${id}: spec.ipAllocation.static`
          )
        ]
      }
    const checked = staticSubnet(nn.static)
    if (checked._tag === "Invalid")
      return {
        _tag: "Invalid",
        diagnostics: [error("InvalidStaticIpConfig", `${id}: ${checked.problem}`, `${id}: ${checked.field}`)]
      }
    subnet = checked
  }
  if (nn.vlanId === undefined)
    return {
      _tag: "Waiting",
      diagnostics: [
        waiting(
          "NetworkNamespaceNotProvisioned",
          `${id} has no VLAN in its status yet (status.vlanId); the VM waits until the network operator provisions it`,
          NETWORK_NAMESPACE_FIELD
        )
      ]
    }
  const decision: NetworkDecision =
    nn.vlanId > 0
      ? { _tag: "Bridge", nad: `vlan${nn.vlanId}`, vlanId: nn.vlanId }
      : isStatic
        ? { _tag: "Bridge", nad: UNTAGGED_BRIDGE, vlanId: undefined }
        : { _tag: "Pod" }
  return {
    _tag: "Resolved",
    networkNamespace: nn,
    decision,
    primary: decision._tag === "Bridge" ? { name: decision.nad, nad: decision.nad } : { name: POD_NETWORK },
    subnet
  }
}

/** The NetworkAttachmentDefinition a bridge decision needs, as the operator would create it. */
export const networkAttachmentSpec = (
  namespace: string,
  decision: Extract<NetworkDecision, { _tag: "Bridge" }>,
  settings: Settings
): NetworkAttachmentSpec => ({
  name: decision.nad,
  namespace,
  labels: {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    ...(decision.vlanId === undefined ? {} : { [VLAN_ID_LABEL]: String(decision.vlanId) })
  },
  ...(decision.vlanId === undefined ? {} : { vlanId: decision.vlanId }),
  cniVersion: settings.nadCniVersion ?? "1.0.0"
})

/** What the remote reads need from the supervisor's answer: the NAD to look up, and whether cloud-init is forced. */
export interface VitistackReadContext {
  readonly nad: string | undefined
  /** A static NetworkNamespace: the Machine gets a cloud-init Secret (its network-config) even without cloud-init. */
  readonly staticIp: boolean
}

export const vitistackReadContext = (machine: Machine, facts: VitistackFacts | undefined): VitistackReadContext => {
  const v = vitistackNetwork(machine, facts)
  return v._tag === "Resolved"
    ? { nad: v.decision._tag === "Bridge" ? v.decision.nad : undefined, staticIp: v.subnet !== undefined }
    : { nad: undefined, staticIp: false }
}

/**
 * On deletion with `--create-network-attachments`: the NADs we created in the Machine's namespace (our `managed-by`
 * label) and every VM there (any owner: a NAD in use by someone's VM stays). Optional kinds: a remote without Multus
 * has nothing to clean. Undefined otherwise.
 */
export const networkAttachmentUsageReads = (
  machine: Machine,
  settings: Settings | undefined
): Reads<NetworkAttachmentUsage> | undefined => {
  if (!isDeleting(machine) || settings?.createNetworkAttachments !== true) return undefined
  const { namespace } = machine.metadata
  return {
    queries: [
      {
        _tag: "List",
        kind: Kinds.NetworkAttachmentDefinition,
        namespace,
        labelSelector: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        optional: true
      },
      { _tag: "List", kind: Kinds.VirtualMachine, namespace, labelSelector: {} }
    ],
    fact: (answers): Fact<NetworkAttachmentUsage> => {
      const failed = firstUnknown(answers)
      if (failed !== undefined) return failed
      const found = (i: number): ReadonlyArray<KubeObject> => {
        const a = answerAt(answers, i)
        return a._tag === "Found" ? a.objects : []
      }
      return present({
        ours: found(0)
          .map((o) => ({
            name: o.metadata.name,
            resourceVersion: o.metadata.resourceVersion ?? "",
            deleting: o.metadata.deletionTimestamp !== undefined
          }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        inUse: [...new Set(found(1).flatMap(networkAttachmentsUsedBy))].sort()
      })
    }
  }
}

const nadMissing = (m: Machine, cluster: string, nad: string, nn: string): Diagnostic =>
  waiting(
    "NetworkAttachmentMissing",
    `NetworkAttachmentDefinition ${m.metadata.namespace}/${nad} (the network of NetworkNamespace ${nn}) does not exist on '${cluster}'; create it in namespace '${m.metadata.namespace}' there, or run the operator with --create-network-attachments`,
    NETWORK_NAMESPACE_FIELD
  )

export const vitistackNetworkStep: RemoteStep = {
  scope: "remote",
  name: "vitistackNetwork",
  converge: ({ machine: m, cluster, remote, desired, settings }): StepResult => {
    const nad = desired.vitistack?.nad
    if (nad === undefined) return nothing
    const ns = m.metadata.namespace
    const nn = desired.vitistack!.networkNamespace
    const ready = (diagnostics: ReadonlyArray<Diagnostic>, actions: ReadonlyArray<Action> = []): StepResult => ({
      actions,
      diagnostics: [],
      provides: [
        {
          ready: diagnostics.length === 0,
          waiting: diagnostics,
          // Like a create, a patch that moves the VM to this network waits for the NAD.
          gatesPatch: (changes) => changes.some((c) => c.field === NETWORKS_FIELD)
        }
      ]
    })
    if (remote.nads._tag === "Unknown")
      return ready([
        waiting(
          "NetworkAttachmentUnknown",
          `cannot read NetworkAttachmentDefinition ${ns}/${nad.name} on '${cluster}': ${remote.nads.reason}`,
          NETWORK_NAMESPACE_FIELD
        )
      ])
    if (remote.nads._tag === "Present" && remote.nads.value.includes(nad.name)) return ready([])
    // An existing NAD, ours or the cluster owner's, is used as it is; a missing one is created only with the opt-in.
    if (settings.createNetworkAttachments !== true) return ready([nadMissing(m, cluster, nad.name, nn)])
    return ready(
      [],
      [
        {
          _tag: "CreateNetworkAttachmentDefinition",
          cluster,
          target: refOf("NetworkAttachmentDefinition", nad.name, ns),
          after: nad,
          reason: `NetworkNamespace ${nn} needs it and it is absent (--create-network-attachments)`
        }
      ]
    )
  },
  // After the VM is gone: a NAD we created goes once no VM of the namespace names it (a terminating one counts).
  // It does not hold the Machine's finalizer: the NAD is the namespace's, not this Machine's.
  cleanup: ({ machine: m, cluster, remote }): StepResult => {
    const usage = remote.networkAttachments
    if (usage === undefined || usage._tag === "Absent") return nothing
    if (usage._tag === "Unknown")
      return halted(
        waiting(
          "NetworkAttachmentUnknown",
          `cannot read NetworkAttachmentDefinitions and VirtualMachines in '${m.metadata.namespace}' on '${cluster}': ${usage.reason}`
        )
      )
    return {
      actions: usage.value.ours
        .filter((n) => !n.deleting && !usage.value.inUse.includes(n.name))
        .map((n) => ({
          _tag: "DeleteNetworkAttachmentDefinition" as const,
          cluster,
          target: refOf("NetworkAttachmentDefinition", n.name, m.metadata.namespace),
          resourceVersion: n.resourceVersion,
          reason: "created by the operator and no VM of the namespace names it any more"
        })),
      diagnostics: []
    }
  }
}
