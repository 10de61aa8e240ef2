/**
 * Custom networks (ADR 0007): each `spec.network.interfaces[]` entry with a `subnet` attaches the VM to the
 * NetworkAttachmentDefinition of that name in the Machine's namespace on the remote. The operator only reads NADs
 * (the cluster owner's), so the step plans no action: it tells the VM step to wait until every NAD it names exists.
 * Domain layer: pure.
 */
import { Duration } from "effect"
import { type Diagnostic, error, waiting } from "./Diagnostic.ts"
import { isDnsLabel, isDnsSubdomain } from "./dnsNames.ts"
import { type Fact, present } from "./Fact.ts"
import type { Machine } from "./Machine.ts"
import { Kinds, refOf } from "./ObjectRef.ts"
import type { RemoteWatch } from "./RemoteWatch.ts"
import { answerAt, firstUnknown, type Reads } from "./reads.ts"
import { nothing, type Prerequisite, type RemoteStep } from "./step.ts"
import { POD_NETWORK, type VmNetwork } from "./VmSpec.ts"
import { NETWORKS_FIELD } from "./vmDrift.ts"

/**
 * The VM's networks: the pod network, plus one bridge interface per `spec.network.interfaces[]` entry with a
 * `subnet`, which names a NetworkAttachmentDefinition in the Machine's namespace on the remote. An entry marked
 * `primary` replaces the pod network. Entries without a subnet attach nothing. A diagnostic per bad field.
 * With `first` (the network a NetworkNamespace gives the Machine, ADR 0013) that network takes the pod network's
 * place; when it is a VLAN bridge, no interface may claim to be primary as well.
 */
export const planNetworks = (
  machine: Machine,
  diags: Array<Diagnostic>,
  first?: { readonly network: VmNetwork; readonly networkNamespace: string }
): Array<VmNetwork> => {
  const base: VmNetwork = first?.network ?? { name: POD_NETWORK }
  const requested = (machine.spec.network?.interfaces ?? [])
    .map((iface, i) => ({ iface, i, field: `spec.network.interfaces[${i}]` }))
    .filter(({ iface }) => iface.subnet !== undefined && iface.subnet !== "")
  if (requested.length === 0) return [base]
  const primaries = requested.filter(({ iface }) => iface.primary === true)
  const bridged = base.nad !== undefined
  if (bridged && primaries.length > 0)
    diags.push(
      error(
        "NetworkNamespaceConflict",
        `NetworkNamespace '${first?.networkNamespace}' gives the VM its network (${base.nad}); an interface cannot be primary as well`,
        `${primaries[0]!.field}.primary`
      )
    )
  else if (primaries.length > 1)
    diags.push(
      error("MultiplePrimaryInterfaces", "only one interface may have primary: true", "spec.network.interfaces")
    )
  const custom = requested.map(({ iface, i, field }): VmNetwork => {
    const name = iface.name === undefined || iface.name === "" ? `net${i}` : iface.name
    if (!isDnsLabel(name))
      diags.push(error("InvalidInterfaceName", `interface name '${name}' is not a DNS-1123 label`, `${field}.name`))
    const nad = iface.subnet!
    if (!isDnsSubdomain(nad))
      diags.push(
        error(
          "InvalidNetworkAttachment",
          `subnet '${nad}' is not a NetworkAttachmentDefinition name (DNS-1123 subdomain)`,
          `${field}.subnet`
        )
      )
    return { name, nad, ...(iface.primary === true && !bridged ? { primary: true } : {}) }
  })
  const networks: Array<VmNetwork> = primaries.length > 0 && !bridged ? custom : [base, ...custom]
  const names = networks.map((n) => n.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined)
    diags.push(error("DuplicateInterfaceName", `two networks are named '${dup}'`, "spec.network.interfaces"))
  // The primary network comes first, as the VM's first interface.
  return networks.sort((a, b) => Number(b.primary === true) - Number(a.primary === true))
}

/**
 * The NetworkAttachmentDefinitions a Machine's networks need (observe reads these, even for an otherwise invalid
 * Machine; a name that cannot be one is not read).
 */
export const networkAttachmentNames = (machine: Machine, vitistackNad?: string): ReadonlyArray<string> =>
  [
    ...new Set([
      ...planNetworks(machine, [])
        .map((n) => n.nad)
        .filter((n): n is string => n !== undefined && isDnsSubdomain(n)),
      ...(vitistackNad === undefined ? [] : [vitistackNad])
    ])
  ].sort()

/**
 * Which of the NADs the Machine names exist in its namespace (only those are read, one get each: "same namespace");
 * Unknown when one of them cannot be read. `vitistackNad`: the VLAN NAD its NetworkNamespace names (ADR 0013).
 */
export const networkReads = (machine: Machine, vitistackNad?: string): Reads<ReadonlyArray<string>> => {
  const nads = networkAttachmentNames(machine, vitistackNad)
  return {
    queries: nads.map((nad) => ({
      _tag: "Get" as const,
      ref: refOf("NetworkAttachmentDefinition", nad, machine.metadata.namespace)
    })),
    fact: (answers): Fact<ReadonlyArray<string>> =>
      firstUnknown(answers) ??
      present(
        nads.filter((_, i) => {
          const a = answerAt(answers, i)
          return a._tag === "Found" && a.objects.length > 0
        })
      )
  }
}

/**
 * Every NAD of each remote (they carry no label of ours): an event wakes the Machines of its namespace placed there,
 * so a Machine waiting for a NAD runs as soon as it appears. A remote without Multus (the kind is not served) or
 * without list rights on it is not watched and asked again every 10 minutes.
 */
export const networkWatches: ReadonlyArray<RemoteWatch> = [
  {
    kind: Kinds.NetworkAttachmentDefinition,
    labelSelector: {},
    toKeys: (o, cluster, machines) =>
      o.metadata.namespace === undefined ? [] : machines.inNamespace(cluster, o.metadata.namespace),
    optional: { reprobeAfter: Duration.minutes(10) }
  }
]

export const networksStep: RemoteStep = {
  scope: "remote",
  name: "networks",
  converge: ({ machine: m, cluster, remote, desired }) => {
    // The NetworkNamespace's NAD is the vitistack step's (ADR 0013); this step waits for the ones interfaces name.
    const own = desired.vitistack?.nad?.name
    const nads = [
      ...new Set(desired.vm.networks.flatMap((n) => (n.nad === undefined || n.nad === own ? [] : [n.nad])))
    ].sort()
    if (nads.length === 0) return nothing
    const ns = m.metadata.namespace
    const waitingFor = (diagnostics: ReadonlyArray<Diagnostic>): Prerequisite => ({
      ready: diagnostics.length === 0,
      waiting: diagnostics,
      // A change of networks waits for the NADs it names, like a create; other patches do not.
      gatesPatch: (changes) => changes.some((c) => c.field === NETWORKS_FIELD)
    })
    if (remote.nads._tag === "Unknown")
      return {
        actions: [],
        diagnostics: [],
        provides: [
          waitingFor([
            waiting(
              "NetworkAttachmentUnknown",
              `cannot read NetworkAttachmentDefinitions in '${ns}' on '${cluster}': ${remote.nads.reason}`
            )
          ])
        ]
      }
    const existing = remote.nads._tag === "Present" ? remote.nads.value : []
    const interfaces = m.spec.network?.interfaces ?? []
    const missing = nads
      .filter((nad) => !existing.includes(nad))
      .map((nad) =>
        waiting(
          "NetworkAttachmentMissing",
          `NetworkAttachmentDefinition ${ns}/${nad} does not exist on '${cluster}'; create it in namespace '${ns}' there (custom networks are looked up in the Machine's namespace)`,
          `spec.network.interfaces[${interfaces.findIndex((i) => i.subnet === nad)}].subnet`
        )
      )
    return { actions: [], diagnostics: [], provides: [waitingFor(missing)] }
  },
  // NADs are the cluster owner's: nothing to delete.
  cleanup: () => nothing
}
