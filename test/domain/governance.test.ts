/**
 * Pause, approvals and the plan hash as named tables (`governance.ts`, `planHash.ts`, ADR 0015): which steps are
 * destructive, where the policy comes from, what a stale approval says, what a pause holds, and that progress does
 * not move the hash.
 */
import { assert, describe, it } from "@effect/vitest"
import { isDestructive } from "../../src/domain/actionInfo.ts"
import { present, unknown } from "../../src/domain/Fact.ts"
import {
  APPROVE_PLAN_ANNOTATION,
  approvalHash,
  approvalPolicyFrom,
  PAUSED_ALLOW_DELETION_ANNOTATION,
  PAUSED_ANNOTATION,
  REQUIRE_APPROVAL_ANNOTATION
} from "../../src/domain/governance.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { allActions } from "../../src/domain/Plan.ts"
import { PLANNER_VERSION, planHash } from "../../src/domain/planHash.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { aCluster, aPvc } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

/** vm-a deleted on remote-a: its VM is gone, its disk's PVC is left: the next step deletes the claim. */
const deleting = aMachine().withFinalizer().placedOn("remote-a").deleting()
const withPvc = aCluster().withObjects(aPvc("vm-a", "default", "10Gi", "vm-a"))
const required = present({ required: true, source: "KubevirtConfig 'remote-a' (vitistack.io/require-approval)" })

describe("destructive steps (actionInfo)", () => {
  it("deleting a claim or a DataVolume, and a VM patch that needs a restart; nothing else", () => {
    const m = deleting.build()
    const p = plan({ machine: m, observed: withPvc.build(m), settings: defaultSettings })
    assert.deepStrictEqual(
      p.actions.map((a) => [a._tag, isDestructive(a)]),
      [["DeletePvc", true]]
    )
    const fresh = aMachine().build()
    const create = plan({ machine: fresh, observed: aCluster().build(fresh), settings: defaultSettings })
    assert.isFalse(create.actions.some(isDestructive))
  })
})

describe("approvals", () => {
  const cases = [
    {
      name: "PolicyOffRuns",
      reason: "no setting, no annotation: the deletion runs",
      settings: defaultSettings,
      approval: undefined,
      annotation: undefined,
      held: false
    },
    {
      name: "KubevirtConfigAsksHolds",
      reason: "the KubevirtConfig asks for approval: the deletion waits",
      settings: defaultSettings,
      approval: required,
      annotation: undefined,
      held: true
    },
    {
      name: "SettingAsksHolds",
      reason: "REQUIRE_APPROVAL asks for it everywhere",
      settings: Settings.make({ ...defaultSettings, requireApproval: true }),
      approval: undefined,
      annotation: undefined,
      held: true
    },
    {
      name: "UnreadablePolicyHolds",
      reason: "a policy that cannot be read counts as required",
      settings: defaultSettings,
      approval: unknown("forbidden"),
      annotation: undefined,
      held: true
    },
    {
      name: "StaleApprovalHolds",
      reason: "an approval of another plan approves nothing",
      settings: defaultSettings,
      approval: required,
      annotation: "0123456789abcdef",
      held: true
    },
    {
      name: "MatchingApprovalRuns",
      reason: "the shown hash lets it through",
      settings: defaultSettings,
      approval: required,
      annotation: "match",
      held: false
    },
    {
      name: "PolicyObservedOffRuns",
      reason: "observed, not asked for",
      settings: defaultSettings,
      approval: present({ required: false, source: "none" }),
      annotation: undefined,
      held: false
    }
  ] as const
  it.each(cases)("$name", ({ settings, approval, annotation, held }) => {
    const base = deleting.build()
    const observed = (m: typeof base) =>
      ObservedState.make({ ...withPvc.build(m), ...(approval === undefined ? {} : { approval }) })
    const unapproved = plan({ machine: base, observed: observed(base), settings })
    const hash = approvalHash(allActions(unapproved))
    const m =
      annotation === undefined
        ? base
        : deleting.annotated(APPROVE_PLAN_ANNOTATION, annotation === "match" ? hash : annotation).build()
    const p = plan({ machine: m, observed: observed(m), settings })
    assert.strictEqual(p.hash, unapproved.hash)
    if (!held) {
      assert.deepStrictEqual(
        p.actions.map((a) => a._tag),
        ["DeletePvc"]
      )
      assert.isUndefined(p.held)
      return
    }
    assert.deepStrictEqual(p.actions, [])
    assert.deepStrictEqual(
      p.held?.map((h) => [h.action._tag, h.gate]),
      [["DeletePvc", "Approval"]]
    )
    const d = p.diagnostics[0]!
    assert.strictEqual(d.reason, "ApprovalRequired")
    assert.include(d.message, `vitistack.io/approve-plan: "${hash}"`)
    // All destructive: the hash to approve is the plan's own.
    assert.strictEqual(hash, p.hash)
    if (annotation !== undefined) assert.include(d.message, `it holds '${annotation}'`)
  })

  it("a long value in the approval annotation is echoed cut, the hash to approve first", () => {
    const m = deleting.annotated(APPROVE_PLAN_ANNOTATION, "f".repeat(10_000)).build()
    const observed = ObservedState.make({ ...withPvc.build(m), approval: required })
    const d = plan({ machine: m, observed, settings: defaultSettings }).diagnostics[0]!
    assert.strictEqual(d.reason, "ApprovalRequired")
    assert.match(d.message, /^annotate the Machine with vitistack\.io\/approve-plan: "[0-9a-f]{16}" to approve: /)
    assert.include(d.message, `it holds '${"f".repeat(32)}…'`)
    assert.isBelow(d.message.length, 400)
  })

  it("the policy comes from the KubevirtConfig's annotation or the namespace's; either turns it on", () => {
    const on = { [REQUIRE_APPROVAL_ANNOTATION]: "true" }
    assert.deepStrictEqual(approvalPolicyFrom("a", on, "ns", undefined), {
      required: true,
      source: "KubevirtConfig 'a' (vitistack.io/require-approval)"
    })
    assert.deepStrictEqual(approvalPolicyFrom("a", {}, "ns", on), {
      required: true,
      source: "Namespace 'ns' (vitistack.io/require-approval)"
    })
    assert.deepStrictEqual(approvalPolicyFrom(undefined, undefined, "ns", { [REQUIRE_APPROVAL_ANNOTATION]: "yes" }), {
      required: false,
      source: "none"
    })
  })
})

describe("pause", () => {
  it("a fresh Machine that is paused gets nothing written; everything it wants is held; its status will say Paused", () => {
    const m = aMachine().annotated(PAUSED_ANNOTATION, "true").build()
    const p = plan({ machine: m, observed: aCluster().build(m), settings: defaultSettings })
    assert.deepStrictEqual(p.actions, [])
    assert.deepStrictEqual(
      p.held?.map((h) => [h.action._tag, h.gate]),
      [
        ["AddFinalizer", "Paused"],
        ["PersistPlacement", "Paused"],
        ["CreatePvc", "Paused"],
        ["CreateVirtualMachine", "Paused"]
      ]
    )
    assert.strictEqual(p.diagnostics[0]?.reason, "Paused")
    assert.match(p.diagnostics[0]!.message, /4 action\(s\) held \(first: AddFinalizer Machine default\/vm-a\)/)
  })

  it("a paused deletion waits, unless the Machine lets deletion through", () => {
    const paused = deleting.annotated(PAUSED_ANNOTATION, "true")
    const m = paused.build()
    const p = plan({ machine: m, observed: withPvc.build(m), settings: defaultSettings })
    assert.deepStrictEqual(p.actions, [])
    assert.include(p.diagnostics[0]!.message, "deletion waits too")
    const through = paused.annotated(PAUSED_ALLOW_DELETION_ANNOTATION, "true").build()
    assert.deepStrictEqual(
      plan({ machine: through, observed: withPvc.build(through), settings: defaultSettings }).actions.map(
        (a) => a._tag
      ),
      ["DeletePvc"]
    )
  })

  it('a value other than "true" does not pause', () => {
    const m = aMachine().annotated(PAUSED_ANNOTATION, "false").build()
    assert.isAbove(plan({ machine: m, observed: aCluster().build(m), settings: defaultSettings }).actions.length, 0)
  })
})

describe("plan hash", () => {
  it("progress does not move it: an import at 43 % and at 44 % have one hash", () => {
    const m = aMachine()
      .withFinalizer()
      .placedOn("remote-a")
      .withSpec({ os: { imageID: "https://images.example/noble.qcow2" } })
      .build()
    const at = (progress: string) =>
      plan({
        machine: m,
        observed: aCluster()
          .mapRemote((r) => ({
            ...r,
            dataVolumes: present([
              {
                name: "vm-a",
                labels: { "managed-by": "vitistack-kubevirt-operator", "source-machine": "vm-a" },
                annotations: { "vitistack.io/image-source": "https://images.example/noble.qcow2" },
                resourceVersion: progress,
                phase: "ImportInProgress",
                progress,
                deleting: false
              }
            ])
          }))
          .build(m),
        settings: defaultSettings
      })
    const a = at("43.00%")
    const b = at("44.00%")
    assert.notDeepEqual(a.diagnostics, b.diagnostics)
    assert.strictEqual(a.hash, b.hash)
  })

  it("is 16 hex digits; the empty plan's is fixed for a planner version", () => {
    assert.match(planHash([]), /^[0-9a-f]{16}$/)
    assert.strictEqual(planHash([]), planHash([], PLANNER_VERSION))
    assert.notStrictEqual(planHash([]), planHash([], "0"))
  })
})
