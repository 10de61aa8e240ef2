/**
 * Named example tables for the planner: the seed's namespace scenarios, placement, sizing, drift, deletion.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Action } from "../../src/domain/Action.ts"
import { desiredFor } from "../../src/domain/desired.ts"
import { absent, present, unknown } from "../../src/domain/Fact.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PLACEMENT_ANNOTATION } from "../../src/domain/labels.ts"
import { isDeleting, type Machine } from "../../src/domain/Machine.ts"
import { MachineClass } from "../../src/domain/MachineClass.ts"
import { pvcManifest } from "../../src/domain/manifests/Pvc.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { ObservedState } from "../../src/domain/ObservedState.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { simulate } from "../../src/domain/simulate.ts"
import { tenancyAnnotations } from "../../src/domain/tenancy.ts"
import { aClass, aCluster, aPvc } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const tags = (m: Machine, o: ObservedState, settings = defaultSettings) =>
  plan({ machine: m, observed: o, settings }).actions.map((a) => a._tag)
const run = (m: Machine, o: ObservedState, settings = defaultSettings) => plan({ machine: m, observed: o, settings })

/** The remote objects a converged Machine has: its PVCs and VM, rendered by the real manifest builders. */
const converged = (m: Machine) => {
  const d = desiredFor(m, absent, defaultSettings)
  if (d._tag !== "Ok") throw new Error("fixture must be valid")
  return [
    ...d.desired.pvcs.map(pvcManifest),
    { ...vmManifest(d.desired.vm), metadata: { ...vmManifest(d.desired.vm).metadata, resourceVersion: "7" } }
  ].map((o) => ({
    ...o,
    metadata: { ...o.metadata, resourceVersion: o.metadata.resourceVersion ?? "6" }
  }))
}

describe("namespace management (spec-namespace-management.md)", () => {
  const cases = [
    {
      name: "AbsentNamespaceIsEnsuredWithManagedByLabel",
      reason: "a Machine in a namespace the remote does not have",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build(),
      observed: aCluster(),
      want: ["EnsureNamespace", "CreatePvc", "CreateVirtualMachine"]
    },
    {
      name: "DefaultNamespaceNeedsNoCreation",
      reason: "default exists on all clusters",
      machine: aMachine().withFinalizer().placedOn("remote-a").build(),
      observed: aCluster(),
      want: ["CreatePvc", "CreateVirtualMachine"]
    },
    {
      name: "LabelledNamespaceIsReused",
      reason: "the namespace exists with our label",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build(),
      observed: aCluster().withNamespace("team-a", { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }),
      want: ["CreatePvc", "CreateVirtualMachine"]
    },
    {
      name: "UnlabelledNamespaceIsReusedUntouched",
      reason: "the namespace exists without our label: no relabel",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build(),
      observed: aCluster().withNamespace("team-a", { owner: "someone-else" }),
      want: ["CreatePvc", "CreateVirtualMachine"]
    },
    {
      name: "UnknownNamespaceCreatesNothing",
      reason: "the namespace could not be read",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build(),
      observed: aCluster().mapRemote((r) => ({ ...r, namespace: unknown("Forbidden") })),
      want: []
    },
    {
      name: "TerminatingNamespaceWaits",
      reason: "nothing is created into a namespace being deleted",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").build(),
      observed: aCluster().mapRemote((r) => ({
        ...r,
        namespace: present({ name: "team-a", labels: {}, deleting: true })
      })),
      want: []
    }
  ]
  it.each(cases)("$name", ({ machine, observed, want }) =>
    assert.deepStrictEqual(tags(machine, observed.build(machine)), want)
  )

  it("EnsureNamespace carries exactly the label managed-by: vitistack-kubevirt-operator and the Machine's namespace name", () => {
    const m = aMachine().inNamespace("production").withFinalizer().placedOn("remote-a").build()
    const ns = run(m, aCluster().build(m)).actions.find((a) => a._tag === "EnsureNamespace")
    assert.deepStrictEqual(ns, {
      _tag: "EnsureNamespace",
      cluster: "remote-a",
      target: refOf("Namespace", "production"),
      labels: { "managed-by": "vitistack-kubevirt-operator" },
      reason: "namespace absent on the remote cluster"
    })
  })

  it("TwoMachinesInOneNamespace: the namespace is ensured once; the second Machine sees it and does not ensure it again", () => {
    const first = aMachine().named("web-server").inNamespace("my-app").withFinalizer().placedOn("remote-a").build()
    const second = aMachine().named("database").inNamespace("my-app").withFinalizer().placedOn("remote-a").build()
    const p1 = run(first, aCluster().build(first))
    assert.strictEqual(p1.actions.filter((a) => a._tag === "EnsureNamespace").length, 1)
    const after = simulate({ machine: first, observed: aCluster().build(first) }, p1.actions)
    // The second Machine observes the same remote namespace, now present.
    const observed2 = aCluster()
      .mapRemote((r) => ({
        ...r,
        namespace: after.observed.remote._tag === "Present" ? after.observed.remote.value.namespace : r.namespace
      }))
      .build(second)
    assert.deepStrictEqual(tags(second, observed2), ["CreatePvc", "CreateVirtualMachine"])
  })

  it("DeletionNeverTouchesTheNamespace: every deletion round is free of namespace actions, and the finalizer goes with the namespace kept", () => {
    const m = aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a").deleting().build()
    let world = {
      machine: m as Machine | undefined,
      observed: aCluster()
        .withNamespace("team-a", { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE })
        .withObjects(...converged(aMachine().inNamespace("team-a").build()))
        .build(m)
    }
    const seen: Array<string> = []
    for (let round = 0; round < 5 && world.machine !== undefined; round++) {
      const p = plan({ machine: world.machine, observed: world.observed, settings: defaultSettings })
      seen.push(...p.actions.map((a) => a._tag))
      world = simulate(world, p.actions)
    }
    assert.deepStrictEqual(seen, ["DeleteVirtualMachine", "DeletePvc", "RemoveFinalizer"])
    assert.isUndefined(world.machine)
    assert.strictEqual(
      world.observed.remote._tag === "Present" && world.observed.remote.value.namespace._tag,
      "Present"
    )
  })
})

describe("placement (design 3.1)", () => {
  const m = aMachine().withFinalizer().build()
  const cases = [
    {
      name: "OnlyConfigIsChosenAndPersisted",
      observed: aCluster(),
      settings: defaultSettings,
      want: ["PersistPlacement", "CreatePvc", "CreateVirtualMachine"]
    },
    {
      name: "DefaultEnvIsChosenAndPersisted",
      observed: aCluster().withConfigs("remote-a", "remote-b"),
      settings: Settings.make({ ...defaultSettings, defaultKubevirtConfig: "remote-a" }),
      want: ["PersistPlacement", "CreatePvc", "CreateVirtualMachine"]
    },
    { name: "NoConfigIsAnError", observed: aCluster().withConfigs(), settings: defaultSettings, want: [] },
    {
      name: "TwoConfigsWithoutSearchWait",
      observed: aCluster().withConfigs("remote-a", "remote-b"),
      settings: defaultSettings,
      want: []
    },
    {
      name: "ExistingVmDecides",
      observed: aCluster()
        .withConfigs("remote-a", "remote-b")
        .withVmSearch({ cluster: "remote-a", found: present(false) }, { cluster: "remote-b", found: present(true) }),
      settings: defaultSettings,
      cluster: "remote-b",
      want: ["PersistPlacement", "CreatePvc", "CreateVirtualMachine"]
    },
    { name: "UnknownConfigsWait", observed: aCluster().configsUnknown("timeout"), settings: defaultSettings, want: [] }
  ]
  it.each(cases)("$name", ({ observed, settings, want, ...c }) =>
    assert.deepStrictEqual(tags(m, observed.build(m, "cluster" in c ? c.cluster : undefined), settings), want)
  )

  it("AnnotatedConfigThatDoesNotExistIsAnErrorNamingTheAnnotation", () => {
    const placed = aMachine().withFinalizer().placedOn("nope").build()
    const p = run(placed, aCluster().build(placed))
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.diagnostics[0]?.reason, "KubevirtConfigNotFound")
    assert.strictEqual(p.diagnostics[0]?.field, `metadata.annotations[${PLACEMENT_ANNOTATION}]`)
  })

  it("AmbiguousPlacementNamesTheFix", () => {
    const observed = aCluster()
      .withConfigs("a", "b")
      .withVmSearch({ cluster: "a", found: present(false) }, { cluster: "b", found: present(false) })
    const p = run(m, observed.build(m))
    assert.strictEqual(p.diagnostics[0]?.reason, "AmbiguousPlacement")
    assert.match(p.diagnostics[0]!.message, /DEFAULT_KUBEVIRT_CONFIG/)
  })
})

describe("sizing, names and bad input (design 3.4, 3.8)", () => {
  const vmOf = (p: ReturnType<typeof run>) =>
    p.actions.find((a): a is Extract<Action, { _tag: "CreateVirtualMachine" }> => a._tag === "CreateVirtualMachine")
      ?.after
  it("DefaultsWithoutClass: 2 cores, 1 socket, 1 thread, 2Gi, one 10Gi PVC named like the Machine", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").build()
    const p = run(m, aCluster().build(m))
    // host-model CPUs lose `ht` (KubeVirt >= 1.8, reference W22; DISABLE_CPU_HT_FEATURE defaults to true).
    assert.deepStrictEqual(vmOf(p)?.cpu, {
      cores: 2,
      sockets: 1,
      threads: 1,
      model: "host-model",
      features: [{ name: "ht", policy: "disable" }]
    })
    assert.strictEqual(vmOf(p)?.memory, "2Gi")
    const pvc = p.actions.find((a) => a._tag === "CreatePvc")
    assert.strictEqual(pvc?._tag === "CreatePvc" && `${pvc.after.name} ${pvc.after.storage}`, "vm-a 10Gi")
  })
  it("ClassThenOverrides", () => {
    const m = aMachine()
      .withFinalizer()
      .placedOn("remote-a")
      .withSpec({ machineClass: "small", cpu: { sockets: 2 }, memory: 3221225472 })
      .build()
    const p = run(
      m,
      aCluster()
        .withClass(aClass("small", 4, "8Gi"))
        .build(m)
    )
    assert.deepStrictEqual(vmOf(p)?.cpu, {
      cores: 4,
      sockets: 2,
      threads: 1,
      model: "host-model",
      features: [{ name: "ht", policy: "disable" }]
    })
    assert.strictEqual(vmOf(p)?.memory, "3072Mi")
  })
  it("DiskNames: boot → <m>, named → <m>-<name>, unnamed → <m>-disk<i>", () => {
    const m = aMachine()
      .withFinalizer()
      .placedOn("remote-a")
      .withDisks({ name: "root", sizeGB: 20, boot: true }, { name: "data", sizeGB: 50 }, { sizeGB: 5 })
      .build()
    const names = run(m, aCluster().build(m)).actions.flatMap((a) => (a._tag === "CreatePvc" ? [a.after.name] : []))
    assert.deepStrictEqual(names, ["vm-a", "vm-a-data", "vm-a-disk2"])
  })
  const bad = [
    {
      name: "MissingClass",
      spec: { machineClass: "nope" },
      reason: "MachineClassNotFound",
      field: "spec.machineClass"
    },
    {
      name: "DisabledClass",
      spec: { machineClass: "off" },
      reason: "MachineClassDisabled",
      field: "spec.machineClass"
    },
    {
      name: "TwoBootDisks",
      spec: {
        disks: [
          { sizeGB: 1, boot: true },
          { sizeGB: 1, boot: true, name: "b" }
        ]
      },
      reason: "MultipleBootDisks",
      field: "spec.disks"
    },
    {
      name: "DiskWithoutSize",
      spec: { disks: [{ name: "x" }] },
      reason: "MissingDiskSize",
      field: "spec.disks[0].sizeGB"
    },
    { name: "CoresOutOfRange", spec: { cpu: { cores: 999 } }, reason: "InvalidCpu", field: "spec.cpu.cores" },
    {
      name: "DuplicateDisk",
      spec: {
        disks: [
          { name: "x", sizeGB: 1 },
          { name: "x", sizeGB: 2 }
        ]
      },
      reason: "DuplicateDiskName",
      field: "spec.disks"
    }
  ]
  it.each(bad)("BadInput $name gives an Error naming the field and no remote write", ({ spec, reason, field }) => {
    const m = aMachine().inNamespace("team-a").placedOn("remote-a").withSpec(spec).build()
    const p = run(
      m,
      aCluster()
        .withClass(aClass("off", 2, "1Gi", false))
        .build(m)
    )
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      ["AddFinalizer"]
    )
    const d = p.diagnostics.find((x) => x.severity === "Error")
    assert.strictEqual(d?.reason, reason)
    assert.strictEqual(d?.field, field)
  })
  // Values that parse but cannot be a VM's size (issue "Hardening", item 5): each an Error naming the field.
  const hostileClass = (spec: Partial<MachineClass["spec"]>) =>
    MachineClass.make({
      metadata: { name: "odd" },
      spec: { enabled: true, memory: { quantity: "8Gi" }, cpu: { cores: 2 }, ...spec }
    })
  const hostile = [
    { name: "ClassMemoryOverflows", cls: { memory: { quantity: "1e400" } }, spec: {}, field: "spec.memory.quantity" },
    { name: "ClassMemoryNegative", cls: { memory: { quantity: "-2Gi" } }, spec: {}, field: "spec.memory.quantity" },
    { name: "ClassMemoryInfinite", cls: { memory: { quantity: Infinity } }, spec: {}, field: "spec.memory.quantity" },
    { name: "ClassMemoryTooSmall", cls: { memory: { quantity: "1k" } }, spec: {}, field: "spec.memory.quantity" },
    { name: "ClassCoresInfinite", cls: { cpu: { cores: Infinity } }, spec: {}, field: "spec.cpu.cores" },
    { name: "ClassSocketsHuge", cls: { cpu: { cores: 2, sockets: 1e9 } }, spec: {}, field: "spec.cpu.sockets" },
    { name: "ClassThreadsFraction", cls: { cpu: { cores: 2, threads: 1.5 } }, spec: {}, field: "spec.cpu.threads" }
  ] as const
  it.each(hostile)("HostileClass $name: InvalidMachineClass naming the class's field, no remote write", (c) => {
    const m = aMachine().withFinalizer().placedOn("remote-a").withSpec({ machineClass: "odd" }).build()
    const p = run(m, aCluster().withClass(hostileClass(c.cls)).build(m))
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      []
    )
    const errors = p.diagnostics.filter((d) => d.severity === "Error")
    assert.deepStrictEqual(
      errors.map((d) => [d.reason, d.field]),
      [["InvalidMachineClass", "spec.machineClass"]]
    )
    assert.include(errors[0]!.message, `MachineClass 'odd' ${c.field}:`)
  })
  const memories = [
    { name: "Huge", memory: 1e308 },
    { name: "AbovePebibyte", memory: 2 ** 50 + 2 ** 20 },
    { name: "Negative", memory: -(2 ** 30) },
    { name: "Fraction", memory: 2 ** 30 + 0.5 }
  ]
  it.each(memories)("HostileMemory $name: spec.memory is an InvalidMemory Error", ({ memory }) => {
    const m = aMachine().withFinalizer().placedOn("remote-a").withSpec({ memory }).build()
    const p = run(m, aCluster().build(m))
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      []
    )
    assert.deepStrictEqual(
      p.diagnostics.filter((d) => d.severity === "Error").map((d) => [d.reason, d.field]),
      [["InvalidMemory", "spec.memory"]]
    )
  })
  it("MemoryAtTheLimits: 1Mi and 1Pi are sizes", () => {
    for (const memory of [2 ** 20, 2 ** 50]) {
      const m = aMachine().withFinalizer().placedOn("remote-a").withSpec({ memory }).build()
      assert.strictEqual(vmOf(run(m, aCluster().build(m)))?.memory, `${memory / 2 ** 20}Mi`)
    }
  })
  it("InstanceTypeIsAnAliasWithAWarning", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").withSpec({ instanceType: "small" }).build()
    const p = run(m, aCluster().withClass(aClass("small", 6)).build(m))
    assert.strictEqual(vmOf(p)?.cpu.cores, 6)
    assert.isTrue(p.diagnostics.some((d) => d.reason === "InstanceTypeAlias" && d.severity === "Warning"))
  })
  it("OutOfScopeProviderIsIgnored", () => {
    const m = aMachine().withSpec({ provider: "proxmox" }).build()
    assert.deepStrictEqual(tags(m, aCluster().build(m)), [])
  })
})

describe("ownership, drift and the Unknown rule (design 3.4, 3.7)", () => {
  const m = aMachine().withFinalizer().placedOn("remote-a").build()
  it("ConvergedMachineHasNothingToDo", () =>
    assert.deepStrictEqual(
      tags(
        m,
        aCluster()
          .withObjects(...converged(m))
          .build(m)
      ),
      []
    ))
  it("ForeignVmIsANameClashAndBlocksRemoteWrites", () => {
    const ours = converged(m).find((o) => o.kind === "VirtualMachine")!
    const foreign = {
      ...ours,
      metadata: { name: "vm-a", namespace: "default", resourceVersion: "3", labels: { app: "theirs" } }
    }
    const p = run(m, aCluster().withObjects(foreign).build(m))
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.diagnostics.find((d) => d.severity === "Error")?.reason, "NameClash")
  })
  it("ForeignPvcIsNeverExpandedOrDeleted", () => {
    const p = run(
      m,
      aCluster()
        .withObjects(aPvc("vm-a", "default", "1Gi"))
        .build(m)
    )
    assert.isFalse(
      p.actions.some((a) => a._tag === "ExpandPvc" || a._tag === "DeletePvc" || a._tag === "CreateVirtualMachine")
    )
  })
  it("PvcGrowthIsExpandShrinkIsRefused", () => {
    const grow = run(
      m,
      aCluster()
        .withObjects(aPvc("vm-a", "default", "5Gi", "vm-a"))
        .build(m)
    )
    assert.deepStrictEqual(
      grow.actions.map((a) => a._tag),
      ["ExpandPvc", "CreateVirtualMachine"]
    )
    assert.isTrue(grow.actions.some((a) => a._tag === "ExpandPvc" && a.before === "5Gi" && a.after === "10Gi"))
    const shrink = run(
      m,
      aCluster()
        .withObjects(aPvc("vm-a", "default", "20Gi", "vm-a"))
        .build(m)
    )
    assert.isFalse(shrink.actions.some((a) => a._tag === "ExpandPvc"))
    assert.isTrue(shrink.diagnostics.some((d) => d.reason === "PvcShrinkRefused"))
  })
  it("CpuDriftIsAPatchThatSaysRestart", () => {
    const resized = aMachine()
      .withFinalizer()
      .placedOn("remote-a")
      .withSpec({ cpu: { cores: 4 } })
      .build()
    const p = run(
      resized,
      aCluster()
        .withObjects(...converged(m))
        .build(resized)
    )
    const patch = p.actions.find((a) => a._tag === "PatchVirtualMachine")
    assert.isTrue(
      patch?._tag === "PatchVirtualMachine" && patch.restartRequired && patch.reason.includes("cpu.cores 2→4")
    )
  })
  it("UnreachableRemotePlansNoRemoteWrite", () => {
    const p = run(m, aCluster().remoteUnreachable("connect ECONNREFUSED").build(m))
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.diagnostics[0]?.reason, "RemoteUnreachable")
  })
})

describe("deletion (design 3.6)", () => {
  it("NeverPlacedMachineLosesItsFinalizerAtOnce", () => {
    const m = aMachine().withFinalizer().deleting().build()
    assert.deepStrictEqual(tags(m, aCluster().build(m)), ["RemoveFinalizer"])
  })
  it("OrphanPolicyKeepsRemoteObjects", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").deleting().orphanOnDelete().build()
    assert.deepStrictEqual(
      tags(
        m,
        aCluster()
          .withObjects(...converged(aMachine().build()))
          .build(m)
      ),
      ["RemoveFinalizer"]
    )
  })
  it("UnreachableRemoteMakesDeletionWait", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").deleting().build()
    const p = run(m, aCluster().remoteUnreachable("timeout").build(m))
    assert.deepStrictEqual(p.actions, [])
    assert.match(p.diagnostics[0]!.message, /deletion waits/)
  })
  it("VmFirstThenPvcs", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").deleting().build()
    assert.deepStrictEqual(
      tags(
        m,
        aCluster()
          .withObjects(...converged(aMachine().build()))
          .build(m)
      ),
      ["DeleteVirtualMachine"]
    )
    const withoutVm = converged(aMachine().build()).filter((o) => o.kind !== "VirtualMachine")
    assert.deepStrictEqual(
      tags(
        m,
        aCluster()
          .withObjects(...withoutVm)
          .build(m)
      ),
      ["DeletePvc"]
    )
  })
  it("ForeignPvcsAreLeftAndDoNotBlockTheFinalizer", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").deleting().build()
    assert.deepStrictEqual(
      tags(
        m,
        aCluster()
          .withObjects(aPvc("vm-a", "default", "10Gi"))
          .build(m)
      ),
      ["RemoveFinalizer"]
    )
  })
})

describe("provider changed after placement (issue 'Hardening', item 6)", () => {
  const converge = (m: Machine, rounds = 5) => {
    let world = {
      machine: m as Machine | undefined,
      observed: aCluster()
        .withObjects(...converged(aMachine().build()))
        .build(m)
    }
    const seen: Array<string> = []
    for (let i = 0; i < rounds && world.machine !== undefined; i++) {
      const p = plan({ machine: world.machine, observed: world.observed, settings: defaultSettings })
      if (p.actions.length === 0) break
      seen.push(...p.actions.map((a) => a._tag))
      world = simulate(world, p.actions)
    }
    return { seen, world }
  }
  const moved = aMachine().withFinalizer().placedOn("remote-a").withSpec({ provider: "proxmox" })

  it("PlacedAndLive: nothing remote is created or changed; a ProviderChanged advisory names spec.provider", () => {
    const m = moved.withSpec({ provider: "proxmox", cpu: { cores: 8 } }).build()
    const drifted = aCluster()
      .withObjects(...converged(aMachine().build()))
      .build(m)
    const p = run(m, drifted)
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.cluster, "remote-a")
    assert.deepStrictEqual(
      p.diagnostics.map((d) => [d.severity, d.effect, d.reason, d.field]),
      [["Warning", "Advises", "ProviderChanged", "spec.provider"]]
    )
    assert.include(p.diagnostics[0]!.message, "'proxmox'")
  })
  it("PlacedAndLiveWithNothingRemote: still no write at all (no namespace, PVC or VM is created)", () => {
    const m = moved.inNamespace("team-a").build()
    assert.deepStrictEqual(tags(m, aCluster().build(m)), [])
  })
  it("NeverPlaced: nothing remote can exist, so the finalizer goes and the Machine is released", () => {
    const m = aMachine().withFinalizer().withSpec({ provider: "proxmox" }).build()
    const p = run(m, aCluster().build(m))
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      ["RemoveFinalizer"]
    )
    const after = simulate({ machine: m, observed: aCluster().build(m) }, p.actions)
    assert.deepStrictEqual(tags(after.machine!, after.observed), [])
  })
  it("Deleting: cleaned up like any of ours: the VM, then the PVCs, then the finalizer", () => {
    const { seen, world } = converge(moved.deleting().build())
    assert.deepStrictEqual(seen, ["DeleteVirtualMachine", "DeletePvc", "RemoveFinalizer"])
    assert.isUndefined(world.machine)
    const r = world.observed.remote
    assert.isTrue(r._tag === "Present" && r.value.vm._tag === "Absent" && r.value.pvcs._tag === "Present")
    assert.deepStrictEqual(r._tag === "Present" && r.value.pvcs._tag === "Present" && r.value.pvcs.value, [])
  })
  it("DeletingWithOrphanPolicy: the remote objects are kept, the finalizer goes", () => {
    assert.deepStrictEqual(converge(moved.deleting().orphanOnDelete().build()).seen, ["RemoveFinalizer"])
  })
  it("WithoutOurFinalizer: another provider's Machine is not ours at all, live or deleting", () => {
    for (const m of [
      aMachine().placedOn("remote-a").withSpec({ provider: "proxmox" }).build(),
      aMachine().placedOn("remote-a").withSpec({ provider: "proxmox" }).deleting().build()
    ]) {
      const p = run(
        m,
        aCluster()
          .withObjects(...converged(aMachine().build()))
          .build(m)
      )
      assert.deepStrictEqual(p.actions, [])
      assert.deepStrictEqual(
        p.diagnostics.map((d) => d.reason),
        ["OutOfScope"]
      )
    }
  })
  it("ProviderSetBack: kubevirt again, the Machine converges as before", () => {
    const m = moved.withSpec({ provider: "kubevirt", cpu: { cores: 4 } }).build()
    assert.deepStrictEqual(
      tags(
        m,
        aCluster()
          .withObjects(...converged(aMachine().build()))
          .build(m)
      ),
      ["PatchVirtualMachine"]
    )
  })
})

describe("tenancy (issue 'Hardening', item 10; ADR 0011)", () => {
  const LIST = "vitistack.io/allowed-namespaces"
  const SELECTOR = "vitistack.io/allowed-namespace-selector"
  const policy = (annotations: Record<string, string>, labels?: Record<string, string>) =>
    present({
      ...tenancyAnnotations("remote-a", annotations),
      ...(labels === undefined ? {} : { namespaceLabels: present(labels) })
    })
  const cases = [
    {
      name: "ListedNamespaceConverges",
      machine: aMachine().inNamespace("team-a").withFinalizer().placedOn("remote-a"),
      tenancy: policy({ [LIST]: "team-a" }),
      want: ["EnsureNamespace", "CreatePvc", "CreateVirtualMachine"],
      error: undefined
    },
    {
      name: "UnlistedNamespaceGetsNoRemoteWrite",
      machine: aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a"),
      tenancy: policy({ [LIST]: "team-a" }),
      want: [],
      error: "NamespaceNotAllowed"
    },
    {
      name: "AutomaticPlacementIsNotRecordedWhenDenied",
      machine: aMachine().inNamespace("team-b"),
      tenancy: policy({ [LIST]: "team-a" }),
      want: ["AddFinalizer"],
      error: "NamespaceNotAllowed"
    },
    {
      name: "SelectorMatchesTheNamespaceLabels",
      machine: aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a"),
      tenancy: policy({ [SELECTOR]: "tenant=blue" }, { tenant: "blue" }),
      want: ["EnsureNamespace", "CreatePvc", "CreateVirtualMachine"],
      error: undefined
    },
    {
      name: "SelectorDoesNotMatch",
      machine: aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a"),
      tenancy: policy({ [SELECTOR]: "tenant=blue" }, { tenant: "red" }),
      want: [],
      error: "NamespaceNotAllowed"
    },
    {
      name: "UnreadableLabelsWait",
      machine: aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a"),
      tenancy: present({
        ...tenancyAnnotations("remote-a", { [SELECTOR]: "tenant=blue" }),
        namespaceLabels: unknown("Forbidden")
      }),
      want: [],
      error: undefined
    },
    {
      name: "DeletionOfADeniedMachineWaits",
      machine: aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a").deleting(),
      tenancy: policy({ [LIST]: "team-a" }),
      want: [],
      error: "NamespaceNotAllowed"
    },
    {
      name: "OrphanedDeletionOfADeniedMachineTouchesNothingRemote",
      machine: aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a").deleting().orphanOnDelete(),
      tenancy: policy({ [LIST]: "team-a" }),
      want: ["RemoveFinalizer"],
      error: undefined
    }
  ]
  it.each(cases)("$name", ({ machine, tenancy, want, error }) => {
    const m = machine.build()
    // The remote holds this Machine's objects (an earlier, allowed time): still nothing is written for a denied one.
    const observed = aCluster()
      .withObjects(...converged(aMachine().inNamespace(m.metadata.namespace).build()))
      .withTenancy(tenancy)
      .build(m)
    const fresh = aCluster().withTenancy(tenancy).build(m)
    const p = run(m, isDeleting(m) ? observed : fresh)
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      want
    )
    assert.strictEqual(p.diagnostics.find((d) => d.severity === "Error")?.reason, error)
    if (error !== undefined) {
      assert.strictEqual(p.diagnostics.find((d) => d.severity === "Error")?.field, "metadata.namespace")
      // Live and denied: not placed (the Placed condition says why).
      if (!isDeleting(m)) assert.isUndefined(p.cluster)
    }
  })
  it("UnreadableLabelsWait says so and names the namespace", () => {
    const m = aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a").build()
    const p = run(
      m,
      aCluster()
        .withTenancy(
          present({ ...tenancyAnnotations("remote-a", { [SELECTOR]: "t=1" }), namespaceLabels: unknown("Forbidden") })
        )
        .build(m)
    )
    assert.deepStrictEqual(
      p.diagnostics.map((d) => [d.effect, d.reason]),
      [["Waits", "TenancyUnknown"]]
    )
    assert.include(p.diagnostics[0]!.message, "namespace 'team-b'")
  })
  it("a denied deletion says how to stop waiting", () => {
    const m = aMachine().inNamespace("team-b").withFinalizer().placedOn("remote-a").deleting().build()
    const p = run(
      m,
      aCluster()
        .withTenancy(policy({ [LIST]: "team-a" }))
        .build(m)
    )
    assert.match(p.diagnostics[0]!.message, /deletion waits \(annotate vitistack.io\/deletion-policy: Orphan/)
  })
})
