/**
 * The NetworkConfiguration of a Machine (ADR 0013, reference F28, F32, F34): `NetworkConfiguration <ns>/<machine>` on
 * the supervisor records the MAC of every VM interface so an IP operator can hand out addresses. This module decides
 * each interface's MAC (the recorded one always wins; else the live VM's; else a derivation no other
 * NetworkConfiguration holds), builds the NetworkConfiguration the Go operator writes, renders the static network-config
 * once an address is allocated, and holds the step that creates or updates it (only when an interface is missing or
 * its MAC changed) and holds the VM back while a static address is awaited. Its deletion is the garbage collector's
 * (owner reference to the Machine). Domain layer: pure.
 */
import type { Action } from "./Action.ts"
import { type Diagnostic, error, info, waiting } from "./Diagnostic.ts"
import { type Fact, present } from "./Fact.ts"
import { isOwnedBy, ownerAnnotations, ownerLabels } from "./labels.ts"
import { isDeleting, type Machine } from "./Machine.ts"
import { chooseMac, type MacHash, macCandidates, normalizeMac, parseMacSet, sha256MacHash } from "./macAddress.ts"
import { missingInterfaces, observeNetworkConfiguration, recordsMac } from "./manifests/NetworkConfiguration.ts"
import type { NetworkConfigurationSpec, ObservedNetworkConfiguration } from "./NetworkConfigurationSpec.ts"
import { Kinds, refKey, refOf } from "./ObjectRef.ts"
import type { RemoteState, VitistackFacts } from "./ObservedState.ts"
import { answerAt, type Reads } from "./reads.ts"
import type { Settings } from "./Settings.ts"
import { allocatedIpv4, renderNetworkConfigV1 } from "./staticIp.ts"
import { nothing, type RemoteStep, type StepResult } from "./step.ts"
import type { VmNetwork } from "./VmSpec.ts"
import { NETWORK_NAMESPACE_FIELD, type VitistackNetwork, vitistackNetwork } from "./vitistackNetwork.ts"

const SHORT_NAME_MAX = 32

/**
 * `spec.name` of the NetworkConfiguration (2-32 of `[A-Za-z0-9_-]`), by the Go operator's rule: a worker pool Machine
 * `<cluster>-worker[-default][-worker]-pool-<n>` is `<cluster>-wrk<n>`, a control plane `<cluster>-control-plane-<n>`
 * is `<cluster>-ctp<n>` (each only when it fits), else the name when it fits, else its first 32 characters. Beyond Go
 * (W11), a result the CRD would refuse (a `.`, one character) is made valid: other characters become `-`, and a
 * one-character name gets a `_`.
 */
export const networkConfigurationShortName = (machineName: string): string => {
  const fits = (s: string) => s.length <= SHORT_NAME_MAX
  const worker = /^(.+?)-worker(?:-default)?(?:-worker)?-pool-(\d+)$/.exec(machineName)
  const control = /^(.+?)-control-plane-(\d+)$/.exec(machineName)
  const go =
    worker !== null && fits(`${worker[1]}-wrk${worker[2]}`)
      ? `${worker[1]}-wrk${worker[2]}`
      : control !== null && fits(`${control[1]}-ctp${control[2]}`)
        ? `${control[1]}-ctp${control[2]}`
        : machineName.slice(0, SHORT_NAME_MAX)
  const valid = go.replace(/[^A-Za-z0-9_-]/g, "-")
  return valid.length >= 2 ? valid : `${valid}_`.padEnd(2, "_")
}

/** The key (`namespace/name`) of a Machine's NetworkConfiguration, the name it is known by in the fleet. */
export const networkConfigurationKey = (m: Machine): string => refKey(m.metadata)

/** Ours: our labels for this Machine, or a controller owner reference to it (the Go operator's, for adoption). */
export const ownsNetworkConfiguration = (nc: ObservedNetworkConfiguration, m: Machine): boolean =>
  isOwnedBy(nc.labels, m.metadata.name) ||
  (m.metadata.uid !== undefined && m.metadata.uid !== "" && nc.machineOwners.includes(m.metadata.uid))

/** NetworkConfiguration `<ns>/<machine>` on the supervisor (optional kind); undefined for a Machine being deleted. */
export const networkConfigurationReads = (machine: Machine): Reads<ObservedNetworkConfiguration> | undefined =>
  isDeleting(machine)
    ? undefined
    : {
        queries: [
          {
            _tag: "Get",
            ref: refOf("NetworkConfiguration", machine.metadata.name, machine.metadata.namespace),
            optional: true
          }
        ],
        fact: (answers): Fact<ObservedNetworkConfiguration> => {
          const a = answerAt(answers, 0)
          if (a._tag === "Unknown") return { _tag: "Unknown", reason: a.reason }
          const o = a.objects[0]
          return o === undefined ? { _tag: "Absent" } : present(observeNetworkConfiguration(o))
        }
      }

/**
 * Who holds each of `macs` in the fleet: every NetworkConfiguration of the supervisor (the operator answers from its
 * watch cache, in the order it saw them), MAC → `namespace/name` of the first that records it. Undefined when there is
 * nothing to ask.
 */
export const macOwnerReads = (macs: ReadonlyArray<string>): Reads<Readonly<Record<string, string>>> | undefined =>
  macs.length === 0
    ? undefined
    : {
        queries: [
          {
            _tag: "List",
            kind: Kinds.NetworkConfiguration,
            allNamespaces: true,
            labelSelector: {},
            recordingMacs: macs,
            optional: true
          }
        ],
        fact: (answers) => {
          const a = answerAt(answers, 0)
          if (a._tag === "Unknown") return { _tag: "Unknown", reason: a.reason }
          const owners: Record<string, string> = {}
          for (const mac of macs) {
            const first = a.objects.find((o) => recordsMac(o, mac))
            if (first !== undefined)
              owners[mac] = refKey({ namespace: first.metadata.namespace, name: first.metadata.name })
          }
          return present(owners)
        }
      }

/** The MAC each VM interface has on the live VM (its spec, else what the VMI reports), by interface name. */
export const liveMacs = (remote: RemoteState | undefined): Readonly<Record<string, string>> => {
  const macs: Record<string, string> = {}
  if (remote?.vmi._tag === "Present")
    for (const i of remote.vmi.value.interfaces) {
      const mac = i.mac === undefined ? undefined : normalizeMac(i.mac)
      if (i.name !== undefined && mac !== undefined && mac !== "00:00:00:00:00:00") macs[i.name] = mac
    }
  if (remote?.vm._tag === "Present")
    for (const n of remote.vm.value.spec.networks) {
      const mac = n.macAddress === undefined ? undefined : normalizeMac(n.macAddress)
      if (mac !== undefined) macs[n.name] = mac
    }
  return macs
}

/** The interfaces' recorded MACs in a NetworkConfiguration, by interface name. */
const recordedMacs = (nc: Fact<ObservedNetworkConfiguration>): Readonly<Record<string, string>> => {
  const macs: Record<string, string> = {}
  if (nc._tag === "Present")
    for (const i of nc.value.interfaces) {
      const mac = i.macAddress === undefined ? undefined : normalizeMac(i.macAddress)
      if (i.name !== undefined && mac !== undefined && macs[i.name] === undefined) macs[i.name] = mac
    }
  return macs
}

export interface MacInputs {
  readonly machine: Machine
  /** The placed cluster (part of every derivation). */
  readonly cluster: string
  readonly settings: Settings
  readonly networks: ReadonlyArray<VmNetwork>
  readonly networkConfiguration: Fact<ObservedNetworkConfiguration>
  readonly live: Readonly<Record<string, string>>
  readonly owners: Fact<Readonly<Record<string, string>>> | undefined
  /** Tests force collisions with a small hash; the operator always uses SHA-256. */
  readonly hash?: MacHash
}

/** The MACs whose holders the planner must know: every derivation of each interface that has no MAC yet. */
export const macsToCheck = (input: Omit<MacInputs, "owners">): ReadonlyArray<string> => {
  if (input.networkConfiguration._tag === "Unknown") return []
  const recorded = recordedMacs(input.networkConfiguration)
  return input.networks
    .filter((n) => recorded[n.name] === undefined && input.live[n.name] === undefined)
    .flatMap((n) =>
      macCandidates(
        {
          cluster: input.cluster,
          namespace: input.machine.metadata.namespace,
          machine: input.machine.metadata.name,
          iface: n.name
        },
        parseMacSet(input.settings.macSet),
        input.hash ?? sha256MacHash
      )
    )
}

export type MacAssignment =
  | {
      readonly _tag: "Assigned"
      readonly networks: ReadonlyArray<VmNetwork>
      readonly diagnostics: ReadonlyArray<Diagnostic>
    }
  | { readonly _tag: "Waiting"; readonly diagnostics: ReadonlyArray<Diagnostic> }

/**
 * Each interface's MAC: the one its NetworkConfiguration records (always wins), else the one the live VM has (so
 * the record matches the guest), else the first derivation no other NetworkConfiguration holds and no other
 * interface of this Machine has; a skipped derivation is said in an Info diagnostic. Deterministic: no randomness,
 * the same inputs give the same MACs. Waits when the holders of the derivations are not known.
 */
export const assignMacs = (input: MacInputs): MacAssignment => {
  const { machine: m, networkConfiguration: nc } = input
  const ns = m.metadata.namespace
  if (nc._tag === "Unknown")
    return {
      _tag: "Waiting",
      diagnostics: [
        waiting(
          "NetworkConfigurationUnknown",
          `cannot read NetworkConfiguration ${refKey(m.metadata)} on the supervisor: ${nc.reason}`
        )
      ]
    }
  if (nc._tag === "Present" && nc.value.deleting)
    return {
      _tag: "Waiting",
      diagnostics: [
        waiting(
          "NetworkConfigurationTerminating",
          `NetworkConfiguration ${refKey(m.metadata)} is being deleted; waiting to record the MACs again`
        )
      ]
    }
  const own = networkConfigurationKey(m)
  const recorded = recordedMacs(nc)
  const used = new Set<string>([...Object.values(recorded)])
  const diagnostics: Array<Diagnostic> = []
  const networks: Array<VmNetwork> = []
  for (const n of input.networks) {
    const fixed = recorded[n.name] ?? input.live[n.name]
    if (fixed !== undefined) {
      used.add(fixed)
      networks.push({ ...n, macAddress: fixed })
      continue
    }
    const owners = input.owners
    if (owners === undefined || owners._tag !== "Present")
      return {
        _tag: "Waiting",
        diagnostics: [
          waiting(
            "MacAddressesUnknown",
            `cannot tell which MAC addresses other NetworkConfigurations hold${owners?._tag === "Unknown" ? `: ${owners.reason}` : " (not read)"}`
          )
        ]
      }
    const choice = chooseMac(
      { cluster: input.cluster, namespace: ns, machine: m.metadata.name, iface: n.name },
      parseMacSet(input.settings.macSet),
      (mac) => {
        const holder = owners.value[mac]
        if (holder !== undefined && holder !== own) return holder
        return used.has(mac) ? own : undefined
      },
      input.hash ?? sha256MacHash
    )
    if (choice._tag === "Exhausted")
      return {
        _tag: "Waiting",
        diagnostics: [
          waiting(
            "NoFreeMacAddress",
            `every derived MAC address for interface '${n.name}' is held by another NetworkConfiguration (${choice.skipped
              .slice(0, 3)
              .map((s) => `${s.mac} by ${s.owner}`)
              .join(", ")}, ...)`
          )
        ]
      }
    if (choice.skipped.length > 0)
      diagnostics.push(
        info(
          "MacAddressCollision",
          `interface '${n.name}': ${choice.skipped.map((s) => `${s.mac} is held by ${s.owner === own ? "another interface" : `NetworkConfiguration ${s.owner}`}`).join("; ")}; took derivation ${choice.counter}: ${choice.mac}`
        )
      )
    used.add(choice.mac)
    networks.push({ ...n, macAddress: choice.mac })
  }
  return { _tag: "Assigned", networks, diagnostics }
}

/** The NetworkConfiguration the operator writes for a Machine (the Go operator's fields, reference F32). */
export const desiredNetworkConfiguration = (
  m: Machine,
  networkNamespace: string,
  networks: ReadonlyArray<VmNetwork>
): NetworkConfigurationSpec => ({
  name: m.metadata.name,
  namespace: m.metadata.namespace,
  labels: ownerLabels(m.metadata.name),
  annotations: ownerAnnotations(m.metadata.name),
  owner: { name: m.metadata.name, uid: m.metadata.uid ?? "" },
  shortName: networkConfigurationShortName(m.metadata.name),
  description: `Network configuration for machine ${m.metadata.name}`,
  networkNamespaceName: networkNamespace,
  interfaces: networks.flatMap((n) => (n.macAddress === undefined ? [] : [{ name: n.name, macAddress: n.macAddress }]))
})

/** Whether the user gave network data (any of `spec.cloudInit.networkData*`): then it wins over a static config. */
const userNetworkData = (m: Machine): boolean => {
  const ci = m.spec.cloudInit
  return (
    ci !== undefined &&
    ((ci.networkData ?? "") !== "" ||
      (ci.networkDataBase64 ?? "") !== "" ||
      ci.networkDataSecretRef !== undefined ||
      ci.networkDataConfigMapRef !== undefined)
  )
}

/** A static NetworkNamespace's network-config for the guest, or what it waits for. */
export type StaticNetworkData =
  | { readonly _tag: "NotStatic" }
  | { readonly _tag: "UserNetworkData"; readonly diagnostic: Diagnostic }
  | { readonly _tag: "Waiting"; readonly diagnostic: Diagnostic }
  | { readonly _tag: "Ready"; readonly networkData: string }

/**
 * The static network-config (reference F34) of a Machine on a static NetworkNamespace: its first interface (the
 * NetworkNamespace's network) with the MAC its NetworkConfiguration records and the first IPv4 address the
 * NetworkConfiguration's status holds for that MAC. Until then it waits (`WaitingForStaticIP`). User network data
 * wins (nothing is rendered or awaited). The executor renders the same from the same facts (`CloudInitContent`).
 */
export const staticNetworkData = (
  m: Machine,
  facts: VitistackFacts | undefined,
  resolved: VitistackNetwork = vitistackNetwork(m, facts)
): StaticNetworkData => {
  if (resolved._tag !== "Resolved" || resolved.subnet === undefined) return { _tag: "NotStatic" }
  const nn = `${m.metadata.namespace}/${resolved.networkNamespace.name}`
  if (userNetworkData(m))
    return {
      _tag: "UserNetworkData",
      diagnostic: info(
        "StaticIpNotRendered",
        `NetworkNamespace ${nn} is static, but spec.cloudInit gives network data: that is used, no address is awaited`
      )
    }
  const iface = resolved.primary.name
  const nc = facts?.networkConfiguration
  const id = refKey(m.metadata)
  const mac = nc?._tag === "Present" ? recordedMacs(nc)[iface] : undefined
  const address = nc?._tag === "Present" && mac !== undefined ? allocatedIpv4(nc.value, mac) : undefined
  if (mac === undefined || address === undefined || nc?._tag !== "Present")
    return {
      _tag: "Waiting",
      diagnostic: waiting(
        "WaitingForStaticIP",
        mac === undefined
          ? `waiting for a static IP from NetworkNamespace ${nn}: NetworkConfiguration ${id} does not record interface '${iface}' yet`
          : `waiting for a static IP from NetworkNamespace ${nn}: NetworkConfiguration ${id} has no IPv4 address for ${mac} in status.networkInterfaces yet (the static IP operator writes it)`,
        NETWORK_NAMESPACE_FIELD
      )
    }
  return {
    _tag: "Ready",
    networkData: renderNetworkConfigV1([{ name: iface, mac, address }], resolved.subnet)
  }
}

/** The generated network data for cloud-init (a static address's network-config), when there is one. */
export const generatedNetworkData = (m: Machine, facts: VitistackFacts | undefined): string | undefined => {
  const s = staticNetworkData(m, facts)
  return s._tag === "Ready" ? s.networkData : undefined
}

/**
 * `IP_SOURCE=networkconfiguration` (reference F39): every address of the NetworkConfiguration's status; none when
 * it does not exist; undefined (the VMI's, as the Go operator falls back) when it was not read or cannot be.
 */
export const networkConfigurationAddresses = (observed: {
  readonly vitistack?: VitistackFacts | undefined
}): ReadonlyArray<string> | undefined => {
  const nc = observed.vitistack?.networkConfiguration
  if (nc === undefined || nc._tag === "Unknown") return undefined
  if (nc._tag === "Absent") return []
  return nc.value.allocated.flatMap((a) => [...a.ipv4Addresses, ...a.ipv6Addresses].map((ip) => ip.split("/")[0]!))
}

const interfacesText = (interfaces: ReadonlyArray<{ readonly name?: string; readonly macAddress?: string }>) =>
  interfaces.length === 0 ? "(none)" : interfaces.map((i) => `${i.name ?? "?"}=${i.macAddress ?? "?"}`).join(",")

export const networkConfigurationStep: RemoteStep = {
  scope: "remote",
  name: "networkConfiguration",
  converge: ({ machine: m, observed, desired }): StepResult => {
    const v = desired.vitistack
    if (v === undefined) return nothing
    const want = v.networkConfiguration
    const target = refOf("NetworkConfiguration", want.name, want.namespace)
    const provides = [
      // A static address is awaited: the VM is not created (a patch of a live VM does not wait).
      { ready: v.staticWait.length === 0, waiting: v.staticWait, gatesPatch: () => false }
    ]
    const nc = observed.vitistack?.networkConfiguration
    if (nc === undefined || nc._tag === "Absent")
      return {
        actions: [
          {
            _tag: "CreateNetworkConfiguration",
            target,
            after: want,
            reason: `records the MACs of Machine ${refKey(m.metadata)} for NetworkNamespace ${v.networkNamespace}`
          }
        ],
        diagnostics: [],
        provides
      }
    if (nc._tag === "Unknown") return { actions: [], diagnostics: [], provides }
    const missing = missingInterfaces(nc.value, want.interfaces)
    if (missing.length === 0) return { actions: [], diagnostics: [], provides }
    if (!ownsNetworkConfiguration(nc.value, m))
      return {
        actions: [],
        diagnostics: [
          error(
            "NameClash",
            `NetworkConfiguration ${refKey(m.metadata)} exists on the supervisor, does not belong to this Machine and does not record ${interfacesText(missing)}`,
            "metadata.name"
          )
        ],
        provides
      }
    const actions: ReadonlyArray<Action> = [
      {
        _tag: "PatchNetworkConfiguration",
        target,
        before: interfacesText(nc.value.interfaces),
        after: want,
        reason: `interface ${missing.map((i) => i.name).join(", ")} missing or with another MAC`
      }
    ]
    return { actions, diagnostics: [], provides }
  },
  // The NetworkConfiguration goes with the Machine: its controller owner reference (garbage collection).
  cleanup: () => nothing
}
