/**
 * Deletion policy AbandonAfter (`abandon.ts`): the deadline counts from the later of the deletion and the start of
 * the outage the status recorded; before it the plan waits and says when; after it the finalizer goes with the list
 * of what may be left behind; a readable remote is cleaned up as usual.
 */
import { assert, describe, it } from "@effect/vitest"
import { remoteObjectsOf } from "../../src/domain/abandon.ts"
import { unknown } from "../../src/domain/Fact.ts"
import { DELETION_POLICY_ANNOTATION } from "../../src/domain/labels.ts"
import { Machine } from "../../src/domain/Machine.ts"
import { refKey } from "../../src/domain/ObjectRef.ts"
import { plan } from "../../src/domain/planner.ts"
import { outcomeFor } from "../../src/domain/reconcileOutcome.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { aCluster, aPvc } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

/** Deleted at 12:00:00 (the builder's time), placed on remote-a, AbandonAfter=10m. */
const deleted = aMachine()
  .withFinalizer()
  .placedOn("remote-a")
  .deleting()
  .annotated(DELETION_POLICY_ANNOTATION, "AbandonAfter=10m")
  .withDisks({ name: "root", sizeGB: 10, boot: true }, { name: "data", sizeGB: 20 })

const unreachableSince = (m: Machine, since: string): Machine =>
  Machine.make({
    ...m,
    status: {
      phase: "Running",
      conditions: [
        {
          type: "RemoteReachable",
          status: "False",
          reason: "RemoteUnreachable",
          message: "x",
          lastTransitionTime: since
        }
      ]
    }
  })

const down = aCluster().remoteUnreachable("connect ECONNREFUSED")

describe("AbandonAfter", () => {
  const cases = [
    {
      name: "OutageNotRecordedYetWaits",
      reason: "the status has not recorded the outage: the count has not started",
      since: undefined,
      now: "2026-11-28T13:00:00Z",
      released: false,
      recheck: 30
    },
    {
      name: "BeforeTheDeadlineWaits",
      reason: "down since before the deletion: 10 minutes from the deletion",
      since: "2026-11-28T11:00:00Z",
      now: "2026-11-28T12:04:00Z",
      released: false,
      recheck: 360
    },
    {
      name: "OutageAfterDeletionCountsFromTheOutage",
      reason: "went down after the deletion: 10 minutes from then",
      since: "2026-11-28T12:05:00Z",
      now: "2026-11-28T12:12:00Z",
      released: false,
      recheck: 180
    },
    {
      name: "PastTheDeadlineReleases",
      reason: "10 minutes after both",
      since: "2026-11-28T12:05:00Z",
      now: "2026-11-28T12:15:00Z",
      released: true,
      recheck: undefined
    },
    {
      name: "NoTimeNoRelease",
      reason: "an offline plan has no time: it says when, never releases",
      since: "2026-11-28T11:00:00Z",
      now: undefined,
      released: false,
      recheck: 30
    }
  ] as const
  it.each(cases)("$name", ({ since, now, released, recheck }) => {
    const base = deleted.build()
    const m = since === undefined ? base : unreachableSince(base, since)
    const p = plan({ machine: m, observed: down.build(m), settings: defaultSettings, now })
    if (!released) {
      assert.deepStrictEqual(p.actions, [])
      assert.strictEqual(p.diagnostics[0]?.reason, "AbandonPending")
      assert.include(p.diagnostics[0]!.message, "AbandonAfter=10m")
      assert.strictEqual(p.recheckAfterSeconds, recheck)
      assert.deepStrictEqual(outcomeFor(p, undefined), {
        _tag: "Backoff",
        reason: "AbandonPending",
        maxDelaySeconds: recheck
      })
      return
    }
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      ["RemoveFinalizer"]
    )
    const a = p.actions[0]!
    assert.strictEqual(a._tag, "RemoveFinalizer")
    if (a._tag !== "RemoveFinalizer") return
    assert.deepStrictEqual(
      a.abandoned?.objects.map((o) => `${o.kind} ${refKey(o)}`),
      ["VirtualMachine default/vm-a", "PersistentVolumeClaim default/vm-a", "PersistentVolumeClaim default/vm-a-data"]
    )
    assert.strictEqual(a.abandoned?.labelSelector, "managed-by=vitistack-kubevirt-operator,source-machine=vm-a")
    assert.strictEqual(a.abandoned?.since, since)
    assert.strictEqual(p.diagnostics[0]?.reason, "Abandoned")
  })

  it("a token the remote refuses (its facts Unknown, the cluster answering) counts as unreadable too", () => {
    const m = unreachableSince(deleted.build(), "2026-11-28T11:00:00Z")
    const observed = aCluster()
      .mapRemote((r) => ({
        ...r,
        namespace: unknown("Unauthorized"),
        vm: unknown("Unauthorized"),
        vmi: unknown("Unauthorized"),
        pvcs: unknown("Unauthorized")
      }))
      .build(m)
    const p = plan({ machine: m, observed, settings: defaultSettings, now: "2026-11-28T13:00:00Z" })
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      ["RemoveFinalizer"]
    )
  })

  it("one kind it may not read on a cluster that answers the rest is no outage: deletion waits past the deadline", () => {
    const m = unreachableSince(deleted.build(), "2026-11-28T11:00:00Z")
    const observed = aCluster()
      .withObjects(aPvc("vm-a", "default", "10Gi", "vm-a"))
      .mapRemote((r) => ({ ...r, pvcs: unknown("Forbidden: persistentvolumeclaims") }))
      .build(m)
    const p = plan({ machine: m, observed, settings: defaultSettings, now: "2026-11-29T00:00:00Z" })
    assert.deepStrictEqual(p.actions, [])
    assert.isFalse(p.actions.some((a) => a._tag === "RemoveFinalizer"))
    assert.isTrue(p.diagnostics.some((d) => d.message.includes("Forbidden")))
  })

  it("a remote that answers is cleaned up as with Delete, whatever the time", () => {
    const m = unreachableSince(deleted.build(), "2026-11-28T11:00:00Z")
    const observed = aCluster()
      .withObjects(aPvc("vm-a", "default", "10Gi", "vm-a"))
      .build(m)
    const p = plan({ machine: m, observed, settings: defaultSettings, now: "2026-11-29T00:00:00Z" })
    assert.deepStrictEqual(
      p.actions.map((a) => a._tag),
      ["DeletePvc"]
    )
  })

  it("the objects a Machine may have: VM, DataVolumes of its image and ISO, claims (also from its last status), cloud-init Secret", () => {
    const m = Machine.make({
      ...aMachine()
        .withSpec({
          os: { imageID: "https://images.example/a.qcow2", isoUri: "https://cd.example/b.iso" },
          sshKeys: ["ssh-ed25519 AAAA k"]
        })
        .withDisks({ name: "root", sizeGB: 10, boot: true }, { name: "data", sizeGB: 20 })
        .build(),
      status: { disks: [{ name: "old", pvcName: "vm-a-old" }] }
    })
    assert.deepStrictEqual(
      remoteObjectsOf(m).map((o) => `${o.kind} ${refKey(o)}`),
      [
        "VirtualMachine default/vm-a",
        "DataVolume default/vm-a",
        "DataVolume default/vm-a-iso",
        "PersistentVolumeClaim default/vm-a",
        "PersistentVolumeClaim default/vm-a-data",
        "PersistentVolumeClaim default/vm-a-old",
        "Secret default/vm-a-cloudinit"
      ]
    )
  })
})

describe("a deletion policy that cannot be read", () => {
  it("on deletion: nothing remote is deleted and the finalizer stays, with an Error naming the annotation", () => {
    const m = aMachine()
      .withFinalizer()
      .placedOn("remote-a")
      .deleting()
      .annotated(DELETION_POLICY_ANNOTATION, "orphan")
      .build()
    const p = plan({
      machine: m,
      observed: aCluster()
        .withObjects(aPvc("vm-a", "default", "10Gi", "vm-a"))
        .build(m),
      settings: defaultSettings
    })
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.diagnostics[0]?.reason, "InvalidDeletionPolicy")
    assert.strictEqual(p.diagnostics[0]?.field, `metadata.annotations[${DELETION_POLICY_ANNOTATION}]`)
  })

  it("while the Machine lives: an advisory (SpecApplied False), nothing held back", () => {
    const m = aMachine().annotated(DELETION_POLICY_ANNOTATION, "AbandonAfter=1 hour").build()
    const p = plan({ machine: m, observed: aCluster().build(m), settings: defaultSettings })
    assert.isAbove(p.actions.length, 0)
    assert.isTrue(p.diagnostics.some((d) => d.reason === "DeletionPolicyNotUnderstood"))
  })
})
