/**
 * The remote watches the capabilities declare (`remoteWatches.ts`): which kinds, with which selector, and which
 * Machines an event wakes.
 */
import { assert, describe, it } from "@effect/vitest"
import { adoptionWatches, GO_MANAGED_BY_LABEL, goOwnerLabels } from "../../src/domain/adoption.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { ownerAnnotations, ownerLabels } from "../../src/domain/labels.ts"
import type { PlacedMachines } from "../../src/domain/RemoteWatch.ts"
import { REMOTE_WATCHES } from "../../src/domain/remoteWatches.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { nadObject } from "../fixtures/world.ts"

const watchOf = (kind: string) => REMOTE_WATCHES.find((w) => w.kind.kind === kind)!
const placed: PlacedMachines = {
  inNamespace: (cluster, namespace) =>
    cluster === "remote-a" && namespace === "team-a" ? ["team-a/web", "team-a/db"] : [],
  isPlaced: (cluster, key) => cluster === "remote-a" && ["team-a/web", "team-a/db"].includes(key)
}
const object = (kind: string, name: string, metadata: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "v1",
  kind,
  metadata: { name, namespace: "team-a", ...metadata }
})

describe("REMOTE_WATCHES", () => {
  it("watches our VMs, VMIs, PVCs and DataVolumes (optional kind) by label, and every NetworkAttachmentDefinition (optional kind)", () => {
    assert.deepStrictEqual(
      REMOTE_WATCHES.map((w) => [w.kind.kind, Object.keys(w.labelSelector).length > 0, w.optional !== undefined]),
      [
        ["VirtualMachine", true, false],
        ["VirtualMachineInstance", true, false],
        ["PersistentVolumeClaim", true, false],
        ["NetworkAttachmentDefinition", false, true],
        ["DataVolume", true, true]
      ]
    )
    assert.deepStrictEqual(
      REMOTE_WATCHES.filter((w) => w.reportsHealth === true).map((w) => w.kind.kind),
      ["VirtualMachine"]
    )
  })

  const cases = [
    { name: "VmByName", kind: "VirtualMachine", o: object("VirtualMachine", "web"), want: ["team-a/web"] },
    {
      name: "VmiByName",
      kind: "VirtualMachineInstance",
      o: object("VirtualMachineInstance", "web"),
      want: ["team-a/web"]
    },
    {
      name: "PvcByLabel",
      kind: "PersistentVolumeClaim",
      o: object("PersistentVolumeClaim", "web-data", { labels: ownerLabels("web") }),
      want: ["team-a/web"]
    },
    {
      name: "PvcOfALongNameByAnnotation",
      kind: "PersistentVolumeClaim",
      o: object("PersistentVolumeClaim", "x", {
        labels: ownerLabels("m".repeat(70)),
        annotations: ownerAnnotations("m".repeat(70))
      }),
      want: [`team-a/${"m".repeat(70)}`]
    },
    { name: "PvcWithoutOwner", kind: "PersistentVolumeClaim", o: object("PersistentVolumeClaim", "x"), want: [] },
    {
      name: "NadWakesItsNamespace",
      kind: "NetworkAttachmentDefinition",
      o: nadObject("vlan100", "team-a"),
      want: ["team-a/web", "team-a/db"]
    },
    { name: "NadElsewhere", kind: "NetworkAttachmentDefinition", o: nadObject("vlan100", "team-b"), want: [] }
  ] as const
  it.each(cases)("$name", ({ kind, o, want }) =>
    assert.deepStrictEqual(watchOf(kind).toKeys(o, "remote-a", placed), want)
  )
})

describe("adoptionWatches (ADR 0014, ADR 0017)", () => {
  const on = { ...defaultSettings, adoptGoOperator: "kubevirt-operator" }

  it("none without the setting; with it, the Go operator's VMs and claims by its managed-by label, names only", () => {
    assert.deepStrictEqual(adoptionWatches(defaultSettings), [])
    assert.deepStrictEqual(adoptionWatches({ ...defaultSettings, adoptGoOperator: "not a label value" }), [])
    assert.deepStrictEqual(
      adoptionWatches(on).map((w) => [w.kind.kind, w.labelSelector, w.others?.machineLabel, w.optional]),
      [
        ["VirtualMachine", { [GO_MANAGED_BY_LABEL]: "kubevirt-operator" }, "vitistack.io/source-machine", undefined],
        [
          "PersistentVolumeClaim",
          { [GO_MANAGED_BY_LABEL]: "kubevirt-operator" },
          "vitistack.io/source-machine",
          undefined
        ]
      ]
    )
  })

  const [vms, pvcs] = adoptionWatches(on)
  const cases = [
    {
      name: "GoVmWakesItsMachine",
      watch: vms!,
      o: object("VirtualMachine", "vm-web", { labels: goOwnerLabels("web", "kubevirt-operator") }),
      cluster: "remote-a",
      want: ["team-a/web"]
    },
    {
      name: "GoPvcWakesItsMachine",
      watch: pvcs!,
      o: object("PersistentVolumeClaim", "web-root", { labels: goOwnerLabels("db", "kubevirt-operator") }),
      cluster: "remote-a",
      want: ["team-a/db"]
    },
    {
      name: "MachineNotPlacedThere",
      watch: vms!,
      o: object("VirtualMachine", "web", { labels: goOwnerLabels("web", "kubevirt-operator") }),
      cluster: "remote-b",
      want: []
    },
    {
      name: "UnknownMachine",
      watch: vms!,
      o: object("VirtualMachine", "x", { labels: goOwnerLabels("x", "kubevirt-operator") }),
      cluster: "remote-a",
      want: []
    },
    {
      name: "NoSourceMachineLabel",
      watch: pvcs!,
      o: object("PersistentVolumeClaim", "x", { labels: { [GO_MANAGED_BY_LABEL]: "kubevirt-operator" } }),
      cluster: "remote-a",
      want: []
    }
  ] as const
  it.each(cases)("$name", ({ watch, o, cluster, want }) =>
    assert.deepStrictEqual(watch.toKeys(o, cluster, placed), want)
  )
})
