/**
 * The operator's `MachineProvider` (vitistack.io/v1alpha1, cluster-scoped; reference F6 and §2.4): whether to register
 * it (the Go operator's skip rules), the object to create, and the status that keeps it true (health from the remote
 * clusters, active Machines, quota used). Domain layer: pure. `runtime/machineProvider.ts` reads the supervisor,
 * asks these functions, and writes; nothing here is fatal (W6): what cannot be done yet is a `Wait` with the reason.
 */
import { type ClusterHealth, isUsable } from "./ClusterHealth.ts"
import type { Fact } from "./Fact.ts"
import type { KubeObject } from "./KubeObject.ts"
import type { KubevirtConfig } from "./KubevirtConfig.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PLACEMENT_ANNOTATION } from "./labels.ts"
import { asArray, asRecord, asString } from "./manifests/jsonPath.ts"

/** `NAME_MACHINE_PROVIDER`'s default, as in the Go operator. */
export const DEFAULT_PROVIDER_NAME = "kubevirt-provider"
export const PROVIDER_TYPE = "kubevirt"

/** The registration settings: `NAME_MACHINE_PROVIDER`, `VITISTACK_NAME`, `MACHINE_PROVIDER_REGION`. */
export interface ProviderSettings {
  readonly name: string
  /** The cluster-scoped Vitistack that may list this provider and gives its region. */
  readonly vitistack?: string | undefined
  /** The region to register with; wins over the Vitistack's. */
  readonly region?: string | undefined
}

/** What registration needs of a Vitistack: its region and the MachineProviders it lists. */
export interface VitistackInfo {
  readonly region: string | undefined
  readonly machineProviders: ReadonlyArray<string>
}

export const vitistackInfoOf = (o: KubeObject): VitistackInfo => {
  const spec = asRecord(o.spec)
  return {
    region: asString(spec.region),
    machineProviders: asArray(spec.machineProviders)
      .map((p) => asString(asRecord(p).name))
      .filter((n): n is string => n !== undefined)
  }
}

export interface RegistrationInput {
  readonly settings: ProviderSettings
  /** The MachineProvider named `settings.name`. */
  readonly provider: Fact<KubeObject>
  /** The Vitistack named `settings.vitistack`; undefined when `VITISTACK_NAME` is not set. */
  readonly vitistack: Fact<VitistackInfo> | undefined
  /** The KubevirtConfig named like the provider, whose Secret the Go operator names as credentials. */
  readonly kubevirtConfig: KubevirtConfig | undefined
}

export type Registration =
  /** It exists and is a kubevirt provider: the operator keeps its status. */
  | { readonly _tag: "Keep"; readonly provider: KubeObject }
  /** Something else holds the name (another providerType): left alone. */
  | { readonly _tag: "Foreign"; readonly message: string }
  /** Not created: the Vitistack lists it, so the platform registers it (Go's rule); its status is kept once it exists. */
  | { readonly _tag: "ListedByVitistack"; readonly message: string }
  | { readonly _tag: "Create"; readonly provider: KubeObject }
  /** Cannot decide or cannot create yet (a fact is unknown, no region): said, and tried again later. */
  | { readonly _tag: "Wait"; readonly message: string }

/** The MachineProvider the operator creates (F6's fields; `credentialsRef` only when its KubevirtConfig exists). */
export const providerManifest = (
  settings: ProviderSettings,
  region: string,
  kubevirtConfig: KubevirtConfig | undefined
): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "MachineProvider",
  metadata: {
    name: settings.name,
    labels: {
      [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      ...(kubevirtConfig === undefined ? {} : { [PLACEMENT_ANNOTATION]: kubevirtConfig.metadata.name })
    }
  },
  spec: {
    displayName: settings.name,
    providerType: PROVIDER_TYPE,
    region,
    authentication: {
      type: "credentials",
      ...(kubevirtConfig === undefined
        ? {}
        : {
            credentialsRef: {
              secretName: kubevirtConfig.spec.kubeconfigSecretRef,
              namespace: kubevirtConfig.spec.secretNamespace
            }
          })
    }
  }
})

/**
 * Whether and how to register (F6): an existing MachineProvider of the name is kept (or, with another providerType,
 * left alone); one the Vitistack lists is not created; otherwise it is created with the region from
 * `MACHINE_PROVIDER_REGION`, else the Vitistack's. Unknown facts wait: nothing is created on a guess.
 */
export const registration = (input: RegistrationInput): Registration => {
  const { settings, provider, vitistack } = input
  if (provider._tag === "Unknown") return { _tag: "Wait", message: `cannot read MachineProvider: ${provider.reason}` }
  if (provider._tag === "Present") {
    const type = asString(asRecord(provider.value.spec).providerType)
    return type === PROVIDER_TYPE
      ? { _tag: "Keep", provider: provider.value }
      : {
          _tag: "Foreign",
          message: `MachineProvider ${settings.name} exists with providerType '${type ?? ""}', not ${PROVIDER_TYPE}: left alone (set NAME_MACHINE_PROVIDER to another name)`
        }
  }
  const vitistackName = `Vitistack ${settings.vitistack ?? ""} (VITISTACK_NAME)`
  if (vitistack?._tag === "Unknown")
    return { _tag: "Wait", message: `cannot read ${vitistackName}: ${vitistack.reason}` }
  const listed = vitistack?._tag === "Present" && vitistack.value.machineProviders.includes(settings.name)
  if (listed)
    return {
      _tag: "ListedByVitistack",
      message: `${vitistackName} lists MachineProvider ${settings.name}: not created here, its status is kept once it exists`
    }
  const region =
    settings.region !== undefined && settings.region !== ""
      ? settings.region
      : vitistack?._tag === "Present" && vitistack.value.region !== undefined && vitistack.value.region !== ""
        ? vitistack.value.region
        : undefined
  if (region === undefined)
    return {
      _tag: "Wait",
      message: `cannot register MachineProvider ${settings.name}: no region (${
        vitistack === undefined
          ? "set MACHINE_PROVIDER_REGION, or VITISTACK_NAME to a Vitistack with spec.region"
          : vitistack._tag === "Absent"
            ? `${vitistackName} does not exist; create it or set MACHINE_PROVIDER_REGION`
            : `${vitistackName} has no spec.region; set it or MACHINE_PROVIDER_REGION`
      })`
    }
  return { _tag: "Create", provider: providerManifest(settings, region, input.kubevirtConfig) }
}

/** What the operator's Machines use, summed over the in-scope Machines placed on a cluster. */
export interface ProviderUsage {
  /** Placed Machines (they have, or are about to get, a VM). */
  readonly machines: number
  /** Machines whose phase is Running. */
  readonly active: number
  /** vCPUs: cores × sockets × threads of each VM. */
  readonly vcpus: number
  /** Guest memory in bytes. */
  readonly memoryBytes: number
  /** Disk sizes in GiB. */
  readonly storageGiB: number
}

export interface ProviderStatusInput {
  /** The configured KubevirtConfigs, by name. */
  readonly clusters: ReadonlyArray<string>
  /** Their last health checks. */
  readonly health: ReadonlyMap<string, ClusterHealth>
  readonly usage: ProviderUsage
  /** The status stored on the MachineProvider (fields the operator does not own are kept). */
  readonly stored: unknown
  /** RFC 3339: `lastVerified`, `health.lastCheck`, and the Ready condition's transition when it changes. */
  readonly now: string
}

const GiB = 2 ** 30

/**
 * The MachineProvider's status, or undefined while a configured cluster has not been checked yet (so a starting
 * operator does not write a half-known status first).
 * Phase: Ready when every cluster is Ready; Degraded when at least one can run VMs; NotReady otherwise (also with no
 * KubevirtConfig). Guarantees: deterministic; apart from the times, equal inputs give equal statuses, so
 * `sameProviderStatus` decides whether a write is needed.
 */
export const providerStatus = (input: ProviderStatusInput): Record<string, unknown> | undefined => {
  const clusters = [...input.clusters].sort()
  const healths = clusters.map((c) => input.health.get(c))
  if (healths.some((h) => h === undefined)) return undefined
  const known = healths as ReadonlyArray<ClusterHealth>
  const ready = known.filter((h) => h.phase === "Ready").length
  const usable = known.filter(isUsable).length
  const unreachable = known.filter((h) => h.phase === "Error").length
  const phase =
    clusters.length === 0 ? "NotReady" : ready === clusters.length ? "Ready" : usable > 0 ? "Degraded" : "NotReady"
  const notReady = known.filter((h) => h.phase !== "Ready").map((h) => `${h.cluster}: ${h.phase} (${h.reason})`)
  const message =
    clusters.length === 0
      ? "no KubevirtConfig exists: no remote cluster to place Machines on"
      : [`${ready} of ${clusters.length} remote clusters ready`, ...notReady].join("; ")
  const stored = asRecord(input.stored)
  const previous = asArray(stored.conditions)
    .map(asRecord)
    .find((c) => c.type === "Ready")
  const conditionStatus = phase === "Ready" ? "True" : "False"
  const reason =
    clusters.length === 0
      ? "NoKubevirtConfig"
      : phase === "Ready"
        ? "AllClustersReady"
        : phase === "Degraded"
          ? "SomeClustersNotReady"
          : "NoClusterReady"
  const u = input.usage
  return {
    ...stored,
    phase,
    message,
    activeMachines: u.active,
    quota: {
      ...asRecord(stored.quota),
      instanceUsed: u.machines,
      cpuUsed: u.vcpus,
      memoryUsedGB: Math.ceil(u.memoryBytes / GiB),
      storageUsedGB: Math.ceil(u.storageGiB)
    },
    health: {
      ...asRecord(stored.health),
      status: phase === "Ready" ? "Healthy" : phase === "Degraded" ? "Degraded" : "Unhealthy",
      apiConnectivity:
        clusters.length === 0 || unreachable === clusters.length
          ? "Disconnected"
          : unreachable === 0
            ? "Connected"
            : "Partial",
      serviceAvailability: Object.fromEntries(known.map((h) => [h.cluster, h.phase])),
      lastCheck: input.now
    },
    conditions: [
      {
        type: "Ready",
        status: conditionStatus,
        reason,
        message,
        lastTransitionTime:
          previous !== undefined &&
          previous.status === conditionStatus &&
          typeof previous.lastTransitionTime === "string"
            ? previous.lastTransitionTime
            : input.now
      }
    ],
    lastVerified: input.now
  }
}

/** The status without the times that change on every check (`lastVerified`, `health.lastCheck`). */
const withoutTimes = (status: unknown): unknown => {
  const s = asRecord(status)
  const { lastVerified: _v, health, ...rest } = s
  const { lastCheck: _c, ...healthRest } = asRecord(health)
  return { ...rest, health: healthRest }
}

const canonical = (u: unknown): string =>
  JSON.stringify(u ?? {}, (_k, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v
  )

/** True when writing `next` over `stored` would change nothing but the check times: no write at steady state. */
export const sameProviderStatus = (stored: unknown, next: unknown): boolean =>
  canonical(withoutTimes(stored)) === canonical(withoutTimes(next))
