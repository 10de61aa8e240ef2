/**
 * MachineProvider registration (the Go operator's skip rules, without its exits) and the status that keeps it true,
 * as tables; Machine usage as the planner sizes Machines.
 */
import { assert, describe, it } from "@effect/vitest"
import { answered, type ClusterHealth, evaluateHealth } from "../../src/domain/ClusterHealth.ts"
import { absent, type Fact, present, unknown } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { KubevirtConfig } from "../../src/domain/KubevirtConfig.ts"
import {
  type ProviderSettings,
  type ProviderUsage,
  providerManifest,
  providerStatus,
  type Registration,
  registration,
  sameProviderStatus,
  type VitistackInfo,
  vitistackInfoOf
} from "../../src/domain/MachineProvider.ts"
import { machineUsage } from "../../src/domain/machineUsage.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { aClass } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const settings: ProviderSettings = { name: "kubevirt-provider", vitistack: "vitistack" }
const existing = (providerType: string): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "MachineProvider",
  metadata: { name: "kubevirt-provider", resourceVersion: "3" },
  spec: { providerType, displayName: "x", region: "r", authentication: { type: "credentials" } }
})
const stack = (region: string | undefined, providers: ReadonlyArray<string> = []): Fact<VitistackInfo> =>
  present({ region, machineProviders: providers })
const kvc = KubevirtConfig.make({
  metadata: { name: "kubevirt-provider" },
  spec: { name: "kubevirt-provider", secretNamespace: "vitistack", kubeconfigSecretRef: "kv-secret" }
})

describe("registration (F6 skip rules, never fatal)", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly settings?: ProviderSettings
    readonly provider: Fact<KubeObject>
    readonly vitistack: Fact<VitistackInfo> | undefined
    readonly want: Registration["_tag"]
    readonly message?: RegExp
    readonly region?: string
  }> = [
    {
      name: "ExistingKubevirtProviderIsKept",
      provider: present(existing("kubevirt")),
      vitistack: undefined,
      want: "Keep"
    },
    {
      name: "ExistingProviderIsKeptEvenWhenTheVitistackListsIt",
      provider: present(existing("kubevirt")),
      vitistack: stack("west", ["kubevirt-provider"]),
      want: "Keep"
    },
    {
      name: "AnotherProviderTypeIsLeftAlone",
      provider: present(existing("proxmox")),
      vitistack: undefined,
      want: "Foreign",
      message: /providerType 'proxmox'.*left alone/
    },
    {
      name: "VitistackListingItSkipsCreation",
      provider: absent,
      vitistack: stack("west", ["other", "kubevirt-provider"]),
      want: "ListedByVitistack"
    },
    {
      name: "CreatedWithTheVitistacksRegion",
      provider: absent,
      vitistack: stack("west", ["other"]),
      want: "Create",
      region: "west"
    },
    {
      name: "TheRegionSettingWins",
      settings: { ...settings, region: "east" },
      provider: absent,
      vitistack: stack("west"),
      want: "Create",
      region: "east"
    },
    {
      name: "NoVitistackConfiguredButARegion",
      settings: { name: "kubevirt-provider", region: "east" },
      provider: absent,
      vitistack: undefined,
      want: "Create",
      region: "east"
    },
    {
      name: "NoRegionAnywhereWaits",
      settings: { name: "kubevirt-provider" },
      provider: absent,
      vitistack: undefined,
      want: "Wait",
      message: /no region \(set MACHINE_PROVIDER_REGION, or VITISTACK_NAME/
    },
    {
      name: "MissingVitistackWaits",
      provider: absent,
      vitistack: absent,
      want: "Wait",
      message: /Vitistack vitistack \(VITISTACK_NAME\) does not exist/
    },
    {
      name: "VitistackWithoutRegionWaits",
      provider: absent,
      vitistack: stack(""),
      want: "Wait",
      message: /has no spec\.region/
    },
    {
      name: "UnreadableVitistackWaits: its listing might skip creation",
      settings: { ...settings, region: "east" },
      provider: absent,
      vitistack: unknown("forbidden"),
      want: "Wait",
      message: /cannot read Vitistack vitistack .*forbidden/
    },
    {
      name: "UnreadableProviderWaits",
      provider: unknown("the MachineProvider CRD is not installed"),
      vitistack: undefined,
      want: "Wait",
      message: /CRD is not installed/
    }
  ]
  it.each(cases)("$name", (c) => {
    const r = registration({
      settings: c.settings ?? settings,
      provider: c.provider,
      vitistack: c.vitistack,
      kubevirtConfig: undefined
    })
    assert.strictEqual(r._tag, c.want)
    if (c.message !== undefined) assert.match((r as { message: string }).message, c.message)
    if (r._tag === "Create") assert.strictEqual((r.provider.spec as any).region, c.region)
  })

  it("the created object: kubevirt, credentials from the KubevirtConfig of the same name, our label", () => {
    assert.deepStrictEqual(providerManifest(settings, "west", kvc), {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "MachineProvider",
      metadata: {
        name: "kubevirt-provider",
        labels: { "managed-by": "vitistack-kubevirt-operator", "vitistack.io/kubevirt-config": "kubevirt-provider" }
      },
      spec: {
        displayName: "kubevirt-provider",
        providerType: "kubevirt",
        region: "west",
        authentication: { type: "credentials", credentialsRef: { secretName: "kv-secret", namespace: "vitistack" } }
      }
    })
    assert.deepStrictEqual((providerManifest(settings, "west", undefined).spec as any).authentication, {
      type: "credentials"
    })
  })

  it("a Vitistack's region and listed providers", () => {
    assert.deepStrictEqual(
      vitistackInfoOf({
        apiVersion: "vitistack.io/v1alpha1",
        kind: "Vitistack",
        metadata: { name: "vitistack" },
        spec: { region: "west", machineProviders: [{ name: "a" }, { name: "b", enabled: false }, {}] }
      }),
      { region: "west", machineProviders: ["a", "b"] }
    )
  })
})

describe("providerStatus", () => {
  const probe = {
    kubevirtGroup: answered([
      { version: "v1", resources: [{ name: "virtualmachines", kind: "VirtualMachine", namespaced: true }] }
    ]),
    cdiGroup: answered([
      { version: "v1beta1", resources: [{ name: "datavolumes", kind: "DataVolume", namespaced: true }] }
    ]),
    kubevirts: answered([{ namespace: "kubevirt", name: "kubevirt", phase: "Deployed" }])
  }
  const ready = (c: string) => evaluateHealth(c, probe)
  const notReady = (c: string) => evaluateHealth(c, { ...probe, kubevirts: answered([]) })
  const down = (c: string): ClusterHealth => ({ ...ready(c), phase: "Error", reason: "Unreachable", message: "x" })
  const usage: ProviderUsage = { machines: 3, active: 2, vcpus: 10, memoryBytes: 5 * 2 ** 30 + 1, storageGiB: 30.5 }
  const status = (
    clusters: ReadonlyArray<ClusterHealth | string>,
    stored: unknown = {},
    now = "2026-12-01T10:00:00Z"
  ) =>
    providerStatus({
      clusters: clusters.map((c) => (typeof c === "string" ? c : c.cluster)),
      health: new Map(clusters.flatMap((c) => (typeof c === "string" ? [] : [[c.cluster, c] as const]))),
      usage,
      stored,
      now
    })

  it.each([
    [
      "AllReady",
      [ready("a"), ready("b")],
      "Ready",
      "AllClustersReady",
      "Healthy",
      "Connected",
      "2 of 2 remote clusters ready"
    ],
    [
      "OneNotReady",
      [ready("a"), notReady("b")],
      "Degraded",
      "SomeClustersNotReady",
      "Degraded",
      "Connected",
      "1 of 2 remote clusters ready; b: NotReady (KubevirtNotInstalled)"
    ],
    ["NoneUsable", [notReady("a"), down("b")], "NotReady", "NoClusterReady", "Unhealthy", "Partial", "0 of 2"],
    ["AllDown", [down("a")], "NotReady", "NoClusterReady", "Unhealthy", "Disconnected", "0 of 1"],
    ["NoKubevirtConfig", [], "NotReady", "NoKubevirtConfig", "Unhealthy", "Disconnected", "no KubevirtConfig exists"]
  ] as const)("%s", (_name, clusters, phase, reason, healthStatus, connectivity, message) => {
    const s = status(clusters) as any
    assert.deepStrictEqual(
      [s.phase, s.conditions[0].reason, s.health.status, s.health.apiConnectivity],
      [phase, reason, healthStatus, connectivity]
    )
    assert.include(s.message, message)
  })

  it("activeMachines and quota used, in whole GiB rounded up; fields the operator does not own are kept", () => {
    const s = status([ready("a"), notReady("b")], {
      quota: { cpuQuota: 64 },
      availableResources: { zones: ["z"] }
    }) as any
    assert.strictEqual(s.activeMachines, 2)
    assert.deepStrictEqual(s.quota, { cpuQuota: 64, instanceUsed: 3, cpuUsed: 10, memoryUsedGB: 6, storageUsedGB: 31 })
    assert.deepStrictEqual(s.availableResources, { zones: ["z"] })
    assert.deepStrictEqual(s.health.serviceAvailability, { a: "Ready", b: "NotReady" })
  })

  it("nothing is written while a configured cluster has not been checked yet", () => {
    assert.isUndefined(status([ready("a"), "b"]))
  })

  it("no write at steady state: a later check with equal facts differs only in times", () => {
    const first = status([ready("a")])
    const later = status([ready("a")], first, "2026-12-01T11:00:00Z") as any
    assert.isTrue(sameProviderStatus(first, later))
    assert.strictEqual(later.conditions[0].lastTransitionTime, "2026-12-01T10:00:00Z")
    const changed = status([notReady("a")], first, "2026-12-01T12:00:00Z") as any
    assert.isFalse(sameProviderStatus(first, changed))
    assert.strictEqual(changed.conditions[0].lastTransitionTime, "2026-12-01T12:00:00Z")
  })
})

describe("machineUsage", () => {
  it.each([
    [
      "Defaults: 2 cores, 2Gi, one 10Gi disk",
      aMachine().build(),
      { vcpus: 2, memoryBytes: 2 * 2 ** 30, storageGiB: 10 }
    ],
    [
      "Class then overrides: sockets × cores × threads, memory in bytes, every disk",
      aMachine()
        .withSpec({ machineClass: "small", cpu: { sockets: 2, threadsPerCore: 2 }, memory: 3 * 2 ** 30 })
        .withDisks({ name: "root", sizeGB: 20, boot: true }, { name: "data", sizeGB: 5 })
        .build(),
      { vcpus: 8, memoryBytes: 3 * 2 ** 30, storageGiB: 25 }
    ],
    ["A missing class: nothing", aMachine().withSpec({ machineClass: "none" }).build(), undefined]
  ] as const)("%s", (_name, machine, want) => {
    const cls = aClass("small", 2, "8Gi")
    const fact = machine.spec.machineClass === "small" ? present(cls) : absent
    assert.deepStrictEqual(machineUsage(machine, fact, defaultSettings), want)
  })
})
