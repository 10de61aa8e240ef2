/**
 * Adoption of the Go operator's objects (ADR 0014), as a named table over worlds built from objects exactly as the
 * Go operator makes them (`fixtures/goOperator.ts`): what is adopted, what is left and reported, and what follows.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import type { Action } from "../../src/domain/Action.ts"
import {
  adoptionReads,
  GO_MANAGED_BY_DEFAULT,
  goOwnerLabels,
  isAdoptable,
  isLabelValue,
  ownershipPatch
} from "../../src/domain/adoption.ts"
import { absent, present } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { Machine } from "../../src/domain/Machine.ts"
import { observeVm, vmPatch } from "../../src/domain/manifests/VirtualMachine.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { remoteStateFromObjects } from "../../src/domain/observedFromObjects.ts"
import type { Plan } from "../../src/domain/Plan.ts"
import { plan } from "../../src/domain/planner.ts"
import { renderAction } from "../../src/domain/render.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { simulate } from "../../src/domain/simulate.ts"
import { type GoMachine, goIsoDataVolume, goMachine, goNamespace, goRemoteObjects } from "../fixtures/goOperator.ts"

const adopting = Settings.make({ ...defaultSettings, adoptGoOperator: GO_MANAGED_BY_DEFAULT })

const web: GoMachine = {
  name: "web",
  namespace: "team-a",
  disks: [
    { name: "root", sizeGB: 20, boot: true },
    { name: "data", sizeGB: 50 }
  ]
}
const installer: GoMachine = { name: "talos-1", namespace: "team-a", iso: "https://cd.example/talos.iso" }

const machineOf = (m: GoMachine) => Schema.decodeUnknownSync(Machine)(goMachine(m, "remote-a"))

/** The Go operator's objects for `m` on remote-a (with the ISO DataVolume KubeVirt made from its template). */
const goObjects = (m: GoMachine, managedBy = GO_MANAGED_BY_DEFAULT): ReadonlyArray<KubeObject> => {
  const o = { managedBy }
  const iso = goIsoDataVolume(m, "vm-uid-1", o)
  return [goNamespace(m.namespace, o), ...goRemoteObjects(m, o), ...(iso === undefined ? [] : [iso])].map((x, i) => ({
    ...x,
    metadata: { ...x.metadata, resourceVersion: `${i + 1}` }
  }))
}

const planFor = (machine: Machine, objects: ReadonlyArray<KubeObject>, settings: Settings): Plan =>
  plan({
    machine,
    observed: ObservedState.make({
      kubevirtConfigs: present(["remote-a"]),
      machineClass: absent,
      vmSearch: [],
      remote: present(remoteStateFromObjects(machine, "remote-a", objects, settings))
    }),
    settings
  })

const tags = (p: Plan) => p.actions.map((a) => `${a._tag} ${a.target.name}`)
/** The diagnostics that matter here (not the storage notes of a claim to create). */
const reasons = (p: Plan) =>
  p.diagnostics.map((d) => d.reason).filter((r) => r !== "PvcImmutableDrift" && r !== "StorageProfileMissing")

const relabel = (o: KubeObject, labels: Record<string, string>): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, labels }
})

const cases: ReadonlyArray<{
  readonly name: string
  readonly reason: string
  readonly machine: GoMachine
  readonly objects: ReadonlyArray<KubeObject>
  readonly settings: Settings
  readonly want: ReadonlyArray<string>
  readonly diagnostics: ReadonlyArray<string>
}> = [
  {
    name: "GoMachineIsAdoptedWhole",
    reason: "VM and both disk claims carry the Go operator's labels for web: adopted, nothing else this round",
    machine: web,
    objects: goObjects(web),
    settings: adopting,
    want: ["AdoptVirtualMachine web", "AdoptPvc web", "AdoptPvc web-data"],
    diagnostics: ["AdoptionFollowUp"]
  },
  {
    name: "InstallerIsoIsAdoptedWithItsDataVolume",
    reason: "the ISO from the VM's dataVolumeTemplate is the Machine's ISO DataVolume by our naming",
    machine: installer,
    objects: goObjects(installer),
    settings: adopting,
    want: ["AdoptVirtualMachine talos-1", "AdoptPvc talos-1", "AdoptDataVolume talos-1-iso"],
    diagnostics: ["AdoptionFollowUp"]
  },
  {
    name: "OffByDefault",
    reason: "without the setting the Go operator's objects are someone else's: a name clash, as before",
    machine: web,
    objects: goObjects(web),
    settings: defaultSettings,
    want: [],
    diagnostics: ["NameClash", "NameClash", "NameClash"]
  },
  {
    name: "AnotherMachinesObjectsAreNotAdopted",
    reason: "source-machine names another Machine",
    machine: web,
    objects: goObjects(web).map((o) =>
      o.kind === "Namespace" ? o : relabel(o, goOwnerLabels("api", GO_MANAGED_BY_DEFAULT))
    ),
    settings: adopting,
    want: [],
    diagnostics: ["NameClash", "NameClash", "NameClash"]
  },
  {
    name: "AnotherManagedByIsNotAdopted",
    reason: "a Go operator run with MANAGED_BY=legacy-ops: adopted only when GO_OPERATOR_MANAGED_BY says so",
    machine: web,
    objects: goObjects(web, "legacy-ops"),
    settings: adopting,
    want: [],
    diagnostics: ["NameClash", "NameClash", "NameClash"]
  },
  {
    name: "ThatManagedByWhenConfigured",
    reason: "GO_OPERATOR_MANAGED_BY=legacy-ops",
    machine: web,
    objects: goObjects(web, "legacy-ops"),
    settings: Settings.make({ ...defaultSettings, adoptGoOperator: "legacy-ops" }),
    want: ["AdoptVirtualMachine web", "AdoptPvc web", "AdoptPvc web-data"],
    diagnostics: ["AdoptionFollowUp"]
  },
  {
    name: "AClaimedObjectIsNotTaken",
    reason: "the VM also carries our managed-by key (someone's claim): never taken over; the disks still are",
    machine: web,
    objects: goObjects(web).map((o) =>
      o.kind === "VirtualMachine" ? relabel(o, { ...o.metadata.labels, "managed-by": "someone-else" }) : o
    ),
    settings: adopting,
    want: ["AdoptPvc web", "AdoptPvc web-data"],
    diagnostics: []
  },
  {
    name: "ObjectsElsewhereAreNotRead",
    reason: "the same objects in another namespace are not this Machine's: it gets its own",
    machine: web,
    objects: [goNamespace("team-a"), ...goObjects({ ...web, namespace: "team-b" })],
    settings: adopting,
    want: ["CreatePvc web", "CreatePvc web-data", "CreateVirtualMachine web"],
    diagnostics: []
  },
  {
    name: "OldNamedVmIsReportedAndNotDuplicated",
    reason: "the Go operator's vm-web (before Nov 2025) is not adopted; no second VM while it exists",
    machine: web,
    objects: [
      goNamespace("team-a"),
      ...goRemoteObjects({ ...web, name: "vm-web" }).map((o) =>
        relabel(o, { ...o.metadata.labels, "vitistack.io/source-machine": "web" })
      )
    ],
    settings: adopting,
    want: ["CreatePvc web", "CreatePvc web-data"],
    diagnostics: [
      "GoOperatorObjectNotAdopted",
      "GoOperatorObjectNotAdopted",
      "GoOperatorObjectNotAdopted",
      "GoOperatorVirtualMachineExists"
    ]
  },
  {
    name: "OldNamedVmBesideTheCurrentOne",
    reason: "an upgraded Go operator left vm-web and made web: web is adopted, vm-web reported",
    machine: web,
    objects: [
      ...goObjects(web),
      ...goRemoteObjects({ ...web, name: "vm-web" })
        .filter((o) => o.kind === "VirtualMachine")
        .map((o) => relabel(o, { ...o.metadata.labels, "vitistack.io/source-machine": "web" }))
    ],
    settings: adopting,
    want: ["AdoptVirtualMachine web", "AdoptPvc web", "AdoptPvc web-data"],
    diagnostics: ["GoOperatorObjectNotAdopted", "AdoptionFollowUp"]
  }
]

describe("adoption (ADR 0014)", () => {
  it.each(cases)("$name", ({ machine, objects, settings, want, diagnostics }) => {
    const p = planFor(machineOf(machine), objects, settings)
    assert.deepStrictEqual(tags(p), want)
    assert.deepStrictEqual(reasons(p), diagnostics)
  })

  it("an adoption adds our labels and nothing else, against the resourceVersion observed; the plan line says so", () => {
    const p = planFor(machineOf(web), goObjects(web), adopting)
    const vm = p.actions.find((a) => a._tag === "AdoptVirtualMachine")
    assert.deepStrictEqual(vm, {
      _tag: "AdoptVirtualMachine",
      cluster: "remote-a",
      target: vm!.target,
      labels: { "managed-by": "vitistack-kubevirt-operator", "source-machine": "web" },
      annotations: {},
      resourceVersion: "4",
      reason:
        "made by the Go operator for this Machine (vitistack.io/managed-by=kubevirt-operator, vitistack.io/source-machine=web)"
    })
    assert.strictEqual(
      renderAction(vm!),
      "  ~ AdoptVirtualMachine VirtualMachine team-a/web @remote-a labels +managed-by=vitistack-kubevirt-operator,+source-machine=web  (made by the Go operator for this Machine (vitistack.io/managed-by=kubevirt-operator, vitistack.io/source-machine=web))"
    )
    assert.deepStrictEqual(ownershipPatch(vm!._tag === "AdoptVirtualMachine" ? vm!.labels : {}, {}), {
      metadata: { labels: { "managed-by": "vitistack-kubevirt-operator", "source-machine": "web" } }
    })
  })

  it("what follows adoption is shown first, then planned like any VM of ours: the HT feature, the ISO template", () => {
    const machine = machineOf(installer)
    const objects = goObjects(installer)
    const first = planFor(machine, objects, adopting)
    const followUp = first.diagnostics.find((d) => d.reason === "AdoptionFollowUp")
    assert.include(followUp?.message, 'spec.template.spec.domain.cpu.features []→["ht=disable"]')
    assert.include(followUp?.message, 'spec.dataVolumeTemplates ["talos-1-iso"]→[]')
    assert.include(followUp?.message, "(takes effect after a restart)")
    // The next round, on the adopted objects: the same change as a patch (restart-requiring, as for any VM of ours).
    const observed = ObservedState.make({
      kubevirtConfigs: present(["remote-a"]),
      machineClass: absent,
      vmSearch: [],
      remote: present(remoteStateFromObjects(machine, "remote-a", objects, adopting))
    })
    const after = simulate({ machine, observed }, first.actions)
    const next = plan({ machine, observed: after.observed, settings: adopting })
    const patch = next.actions.find(
      (a): a is Extract<Action, { _tag: "PatchVirtualMachine" }> => a._tag === "PatchVirtualMachine"
    )
    assert.deepStrictEqual(
      next.actions.map((a) => a._tag),
      ["PatchVirtualMachine"]
    )
    assert.isTrue(patch!.restartRequired)
    assert.strictEqual(followUp?.message.endsWith(patch!.reason), true)
    // The patch drops the template with the volume that names it (KubeVirt refuses a template no volume names) and
    // leaves the DataVolume, adopted on its own, in place.
    const body = vmPatch(patch!.before, patch!.after) as { spec: Record<string, unknown> }
    assert.strictEqual(body.spec.dataVolumeTemplates, null)
    assert.deepStrictEqual(observeVm(objects.find((o) => o.kind === "VirtualMachine")!).spec.dataVolumeTemplates, [
      "talos-1-iso"
    ])
  })

  it("the rule: the Go operator's labels naming this Machine, none of ours", () => {
    const go = goOwnerLabels("web", GO_MANAGED_BY_DEFAULT)
    assert.isTrue(isAdoptable(go, "web", GO_MANAGED_BY_DEFAULT))
    assert.isFalse(isAdoptable(go, "api", GO_MANAGED_BY_DEFAULT))
    assert.isFalse(isAdoptable(go, "web", "other"))
    assert.isFalse(isAdoptable({ ...go, "source-machine": "web" }, "web", GO_MANAGED_BY_DEFAULT))
    assert.isFalse(isAdoptable({ "vitistack.io/managed-by": GO_MANAGED_BY_DEFAULT }, "web", GO_MANAGED_BY_DEFAULT))
    assert.isTrue(isLabelValue("kubevirt-operator"))
    assert.isFalse(isLabelValue("x".repeat(64)))
    assert.isFalse(isLabelValue("-x"))
  })

  it("reads: none without the setting; with it, two lists by the Go operator's labels; none for a name no label can hold", () => {
    const machine = machineOf(web)
    assert.isUndefined(adoptionReads(machine, defaultSettings))
    assert.deepStrictEqual(
      adoptionReads(machine, adopting)?.queries.map((q) => (q._tag === "List" ? [q.kind.kind, q.labelSelector] : [])),
      [
        ["VirtualMachine", goOwnerLabels("web", GO_MANAGED_BY_DEFAULT)],
        ["PersistentVolumeClaim", goOwnerLabels("web", GO_MANAGED_BY_DEFAULT)]
      ]
    )
    const long = machineOf({ ...web, name: `${"a".repeat(60)}-worker-pool-1` })
    const reads = adoptionReads(long, adopting)
    assert.deepStrictEqual(reads?.queries, [])
    assert.deepStrictEqual(reads?.fact([]), present({ virtualMachines: [], pvcs: [] }))
  })
})
