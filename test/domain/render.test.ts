/**
 * The plan renderer (`render.ts`, G9): one Terraform-style line per action with its glyph, target and reason; the
 * diagnostics; "(no changes)"; and the summary line counting creates, changes and destroys. The head line carries the
 * plan hash; held actions say what holds them.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Action } from "../../src/domain/Action.ts"
import { error, info, waiting } from "../../src/domain/Diagnostic.ts"
import { FINALIZER } from "../../src/domain/labels.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { Plan } from "../../src/domain/Plan.ts"
import { planHash } from "../../src/domain/planHash.ts"
import { renderAction, renderPlan, renderPlans, summarize } from "../../src/domain/render.ts"
import { desiredOf, webMachineRef, webPvcRef, webVmRef } from "../fixtures/desiredObjects.ts"

const { pvcs, vm } = desiredOf()
const pvc = pvcs[0]!

describe("renderAction", () => {
  const cases: ReadonlyArray<{ name: string; action: Action; want: string }> = [
    {
      name: "EnsureNamespace",
      action: {
        _tag: "EnsureNamespace",
        cluster: "remote-a",
        target: refOf("Namespace", "team-a"),
        labels: { "managed-by": "vitistack-kubevirt-operator" },
        reason: "namespace absent"
      },
      want: "  + EnsureNamespace Namespace team-a @remote-a labels=managed-by:vitistack-kubevirt-operator  (namespace absent)"
    },
    {
      name: "CreatePvc",
      action: { _tag: "CreatePvc", cluster: "remote-a", target: webPvcRef, after: pvc, reason: "absent" },
      want: "  + CreatePvc PersistentVolumeClaim team-a/web @remote-a size=10Gi volumeMode=Block accessModes=ReadWriteMany  (absent)"
    },
    {
      name: "CreatePvcWithStorageClass",
      action: {
        _tag: "CreatePvc",
        cluster: "remote-a",
        target: webPvcRef,
        after: { ...pvc, storageClassName: "fast" },
        reason: "absent"
      },
      want: "  + CreatePvc PersistentVolumeClaim team-a/web @remote-a size=10Gi volumeMode=Block accessModes=ReadWriteMany storageClass=fast  (absent)"
    },
    {
      name: "ExpandPvc",
      action: {
        _tag: "ExpandPvc",
        cluster: "remote-a",
        target: webPvcRef,
        before: "10Gi",
        after: "20Gi",
        resourceVersion: "3",
        reason: "grew"
      },
      want: "  ~ ExpandPvc PersistentVolumeClaim team-a/web @remote-a size 10Gi -> 20Gi  (grew)"
    },
    {
      name: "DeletePvc",
      action: { _tag: "DeletePvc", cluster: "remote-a", target: webPvcRef, resourceVersion: "3", reason: "gone" },
      want: "  - DeletePvc PersistentVolumeClaim team-a/web @remote-a  (gone)"
    },
    {
      name: "CreateVirtualMachinePodNetworkOnly",
      action: { _tag: "CreateVirtualMachine", cluster: "remote-a", target: webVmRef, after: vm, reason: "absent" },
      want: "  + CreateVirtualMachine VirtualMachine team-a/web @remote-a cpu=2x1x1 memory=2Gi disks=web boot=disk,network  (absent)"
    },
    {
      name: "CreateVirtualMachineWithNetworks",
      action: {
        _tag: "CreateVirtualMachine",
        cluster: "remote-a",
        target: webVmRef,
        after: {
          ...vm,
          networks: [
            { name: "lan", nad: "vlan100", primary: true },
            { name: "storage", nad: "san" }
          ]
        },
        reason: "absent"
      },
      want: "  + CreateVirtualMachine VirtualMachine team-a/web @remote-a cpu=2x1x1 memory=2Gi disks=web networks=lan=vlan100*,storage=san  (absent)"
    },
    {
      name: "PatchVirtualMachine",
      action: {
        _tag: "PatchVirtualMachine",
        cluster: "remote-a",
        target: webVmRef,
        before: vm,
        after: vm,
        resourceVersion: "4",
        restartRequired: false,
        reason: "VmSpecDrift: spec.runStrategy Halted→Always"
      },
      want: "  ~ PatchVirtualMachine VirtualMachine team-a/web @remote-a  (VmSpecDrift: spec.runStrategy Halted→Always)"
    },
    {
      name: "DeleteVirtualMachine",
      action: {
        _tag: "DeleteVirtualMachine",
        cluster: "remote-a",
        target: webVmRef,
        resourceVersion: "4",
        reason: "x"
      },
      want: "  - DeleteVirtualMachine VirtualMachine team-a/web @remote-a  (x)"
    },
    {
      name: "AddFinalizer",
      action: { _tag: "AddFinalizer", target: webMachineRef, finalizer: FINALIZER, reason: "x" },
      want: `  ~ AddFinalizer Machine team-a/web finalizer ${FINALIZER}  (x)`
    },
    {
      name: "RemoveFinalizer",
      action: { _tag: "RemoveFinalizer", target: webMachineRef, finalizer: FINALIZER, reason: "x" },
      want: `  ~ RemoveFinalizer Machine team-a/web finalizer ${FINALIZER}  (x)`
    },
    {
      name: "PersistPlacement",
      action: { _tag: "PersistPlacement", target: webMachineRef, placement: "remote-a", reason: "x" },
      want: "  ~ PersistPlacement Machine team-a/web annotation vitistack.io/kubevirt-config=remote-a  (x)"
    }
  ]
  it.each(cases)("$name", ({ action, want }) => assert.strictEqual(renderAction(action), want))
})

describe("renderPlan and renderPlans", () => {
  const create: Action = { _tag: "CreatePvc", cluster: "remote-a", target: webPvcRef, after: pvc, reason: "absent" }
  const destroy: Action = {
    _tag: "DeletePvc",
    cluster: "remote-a",
    target: webPvcRef,
    resourceVersion: "3",
    reason: "x"
  }
  const change: Action = { _tag: "AddFinalizer", target: webMachineRef, finalizer: FINALIZER, reason: "x" }

  it("a plan: the Machine and its cluster, its actions, then its diagnostics with their fields", () => {
    const p = Plan.make({
      machine: webMachineRef,
      cluster: "remote-a",
      actions: [change],
      diagnostics: [
        error("MachineClassNotFound", "MachineClass 'nope' does not exist", "spec.machineClass"),
        waiting("RemoteUnreachable", "remote cluster 'remote-a' cannot be read: down"),
        info("PvcNotInSpec", "PVC team-a/old is kept")
      ]
    })
    assert.deepStrictEqual(renderPlan(p).split("\n"), [
      `Machine team-a/web -> remote-a  (plan ${planHash([change])})`,
      renderAction(change),
      "  ! Error MachineClassNotFound [spec.machineClass]: MachineClass 'nope' does not exist",
      "  ! Warning RemoteUnreachable: remote cluster 'remote-a' cannot be read: down",
      "  ! Info PvcNotInSpec: PVC team-a/old is kept"
    ])
  })

  it("a plan with nothing to say says (no changes); an unplaced one has no cluster", () => {
    assert.strictEqual(
      renderPlan(Plan.make({ machine: webMachineRef, actions: [], diagnostics: [] })),
      `Machine team-a/web  (plan ${planHash([])})\n  (no changes)`
    )
  })

  it("held actions are listed after the runnable ones with what holds them, and counted as pending", () => {
    const p = Plan.make({
      machine: webMachineRef,
      cluster: "remote-a",
      actions: [create],
      held: [{ action: destroy, gate: "Approval" }],
      diagnostics: [],
      hash: "0123456789abcdef"
    })
    assert.deepStrictEqual(renderPlan(p).split("\n"), [
      "Machine team-a/web -> remote-a  (plan 0123456789abcdef)",
      renderAction(create),
      `${renderAction(destroy)}  [held: awaiting approval]`
    ])
    assert.deepStrictEqual(summarize([p]), { add: 1, change: 0, destroy: 1, held: 1 })
    assert.match(renderPlans([p]), /\n\nPlan: 1 to add, 0 to change, 1 to destroy \(1 held\)\.$/)
  })

  it("the summary counts creates, changes and destroys over every plan", () => {
    const plans = [
      Plan.make({ machine: webMachineRef, actions: [create, change], diagnostics: [] }),
      Plan.make({ machine: webMachineRef, actions: [destroy, create], diagnostics: [] })
    ]
    assert.deepStrictEqual(summarize(plans), { add: 2, change: 1, destroy: 1, held: 0 })
    assert.match(renderPlans(plans), /\n\nPlan: 2 to add, 1 to change, 1 to destroy\.$/)
  })
})
