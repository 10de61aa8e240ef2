/**
 * Pause, approvals, AbandonAfter and decision traces through `reconcile` on in-memory clusters (ADR 0015): what is
 * written and what is held, the Planned condition a person reads the hash from, the Event an abandoned Machine gets,
 * and a trace recorded by a reconcile that replays to the same plan.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { type DecisionTrace, parseTraceLine, traceLine } from "../../src/domain/decisionTrace.ts"
import { APPROVE_PLAN_ANNOTATION, PAUSED_ANNOTATION, REQUIRE_APPROVAL_ANNOTATION } from "../../src/domain/governance.ts"
import { DELETION_POLICY_ANNOTATION } from "../../src/domain/labels.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { replayOne } from "../../src/domain/replay.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { Remotes, Supervisor } from "../../src/effects/Clusters.ts"
import { DecisionRecorder } from "../../src/effects/DecisionRecorder.ts"
import { EventRecorder } from "../../src/effects/EventRecorder.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { reconcile } from "../../src/effects/reconcile.ts"
import { machineObject, twoClusters } from "../fixtures/world.ts"

const ref = refOf("Machine", "vm-a", "default")
const statusOf = (w: ReturnType<typeof twoClusters>) =>
  Option.getOrUndefined(w.supervisor.object(ref))?.status as
    | { phase?: string; message?: string; conditions?: ReadonlyArray<Record<string, string>> }
    | undefined
const planned = (w: ReturnType<typeof twoClusters>) => statusOf(w)?.conditions?.find((c) => c.type === "Planned")

/** Reconciles until a round executes nothing. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 8; i++) {
    const r = yield* reconcile("default/vm-a", defaultSettings)
    if ((r.result?.executed.length ?? 0) === 0) return r
  }
  return yield* Effect.die("did not settle")
})

const annotate = (annotations: Record<string, string | null>) =>
  Effect.flatMap(Supervisor, (s) => s.patch(ref, { metadata: { annotations } } as never))

describe("approvals through reconcile", () => {
  it.effect(
    "the namespace asks for approval: the VM goes, the PVC deletion waits under the shown hash; a stale hash does not release it, the shown one does",
    () => {
      const w = twoClusters()
      w.supervisor.seed([machineObject("vm-a", "default", { disks: [{ name: "root", sizeGB: 1, boot: true }] })])
      return Effect.gen(function* () {
        const supervisor = yield* Supervisor
        yield* settle
        assert.strictEqual(planned(w)?.reason, "UpToDate")
        yield* supervisor.patch(refOf("Namespace", "default"), {
          metadata: { annotations: { [REQUIRE_APPROVAL_ANNOTATION]: "true" } }
        } as never)
        yield* supervisor.delete(ref)
        // Deleting the VM loses no data: it runs. Then the claim's deletion is held.
        const first = yield* reconcile("default/vm-a", defaultSettings)
        assert.deepStrictEqual(
          first.result?.executed.map((a) => a._tag),
          ["DeleteVirtualMachine"]
        )
        const held = yield* reconcile("default/vm-a", defaultSettings)
        assert.deepStrictEqual(held.result?.executed, [])
        assert.deepStrictEqual(held.outcome, {
          _tag: "AwaitChange",
          reason: "ApprovalRequired",
          requeueAfterSeconds: 300
        })
        const hash = held.plan!.hash!
        const condition = planned(w)!
        assert.strictEqual(condition.status, "False")
        assert.strictEqual(condition.reason, "AwaitingApproval")
        assert.match(
          condition.message!,
          new RegExp(`^plan ${hash}: 0 to add, 0 to change, 1 to destroy \\(1 held\\); `)
        )
        assert.include(statusOf(w)?.message, `vitistack.io/approve-plan: "${hash}"`)
        assert.include(statusOf(w)?.message, "Namespace 'default'")
        assert.strictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" }).length, 1)

        yield* annotate({ [APPROVE_PLAN_ANNOTATION]: "ffffffffffffffff" })
        const stale = yield* reconcile("default/vm-a", defaultSettings)
        assert.deepStrictEqual(stale.result?.executed, [])
        assert.include(statusOf(w)?.message, "it holds 'ffffffffffffffff'")

        yield* annotate({ [APPROVE_PLAN_ANNOTATION]: hash })
        const approved = yield* reconcile("default/vm-a", defaultSettings)
        assert.deepStrictEqual(
          approved.result?.executed.map((a) => a._tag),
          ["DeletePvc"]
        )
        yield* settle
        assert.isTrue(Option.isNone(w.supervisor.object(ref)))
      }).pipe(Effect.provide(w.layer))
    }
  )
})

describe("pause through reconcile", () => {
  it.effect("a paused Machine: no write but its status, which says Paused; removing the annotation resumes", () => {
    const w = twoClusters()
    w.supervisor.seed([
      {
        ...machineObject("vm-a", "default"),
        metadata: { name: "vm-a", namespace: "default", annotations: { [PAUSED_ANNOTATION]: "true" } }
      }
    ])
    return Effect.gen(function* () {
      const r = yield* reconcile("default/vm-a", defaultSettings)
      assert.deepStrictEqual(r.result?.executed, [])
      assert.strictEqual(w.remote.writeCount(), 0)
      assert.deepStrictEqual(w.supervisor.requestCounts().get("update/Machine") ?? 0, 0)
      assert.strictEqual(planned(w)?.reason, "Paused")
      assert.match(statusOf(w)?.message ?? "", /^paused by vitistack\.io\/paused: "true": 4 action\(s\) held/)
      // At rest while paused: no further write.
      w.supervisor.resetRequestCounts()
      yield* reconcile("default/vm-a", defaultSettings)
      assert.strictEqual(w.supervisor.writeCount() + w.remote.writeCount(), 0)
      yield* annotate({ [PAUSED_ANNOTATION]: null })
      yield* settle
      assert.strictEqual(w.remote.objects({ kind: "VirtualMachine" }).length, 1)
      assert.strictEqual(planned(w)?.reason, "UpToDate")
    }).pipe(Effect.provide(w.layer))
  })
})

describe("AbandonAfter through reconcile", () => {
  it.effect(
    "a remote that stays unreadable past the deadline: released, with a Warning Event listing what may be left",
    () => {
      const w = twoClusters()
      w.supervisor.seed([
        {
          ...machineObject("vm-a", "default"),
          metadata: {
            name: "vm-a",
            namespace: "default",
            finalizers: ["machine.vitistack.io/finalizer"],
            annotations: { "vitistack.io/kubevirt-config": "remote-a", [DELETION_POLICY_ANNOTATION]: "AbandonAfter=1s" }
          }
        }
      ])
      // The remote cannot be reached at all.
      const down = Layer.provideMerge(
        Layer.merge(EventRecorder.layer, Remotes.layerFromMap({})),
        Supervisor.layer(makeInMemoryApi(w.supervisor))
      )
      return Effect.gen(function* () {
        yield* (yield* Supervisor).delete(ref)
        const first = yield* reconcile("default/vm-a", defaultSettings)
        assert.deepStrictEqual(first.result?.executed, [])
        assert.strictEqual(first.plan?.diagnostics[0]?.reason, "AbandonPending")
        // The status recorded the outage; a second later (virtual time) the deadline has passed.
        yield* TestClock.adjust("1100 millis")
        const second = yield* reconcile("default/vm-a", defaultSettings)
        assert.deepStrictEqual(
          second.result?.executed.map((a) => a._tag),
          ["RemoveFinalizer"]
        )
        assert.isTrue(Option.isNone(w.supervisor.object(ref)))
        const event = w.supervisor
          .objects({ kind: "Event" })
          .find((e) => (e as { reason?: string }).reason === "RemoteObjectsAbandoned") as
          | { message?: string }
          | undefined
        assert.include(event?.message, "VirtualMachine default/vm-a, PersistentVolumeClaim default/vm-a")
        assert.include(event?.message, "-l managed-by=vitistack-kubevirt-operator,source-machine=vm-a")
      }).pipe(Effect.provide(down))
    }
  )
})

describe("decision traces through reconcile", () => {
  it.effect("every reconcile records one trace; each replays to exactly its plan; no cloud-init secret in them", () => {
    const w = twoClusters()
    const secret = "#cloud-config\npassword: hunter2-very-secret\n"
    w.supervisor.seed([
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "ud", namespace: "default" },
        stringData: { userdata: secret }
      } as never,
      machineObject("vm-a", "default", { cloudInit: { userDataSecretRef: { name: "ud" } } })
    ])
    const traces: Array<DecisionTrace> = []
    return Effect.gen(function* () {
      yield* settle
      assert.isAtLeast(traces.length, 2)
      for (const t of traces) {
        const line = traceLine(t)
        assert.notInclude(line, "hunter2")
        const parsed = parseTraceLine(line)
        assert.strictEqual(parsed._tag, "Trace")
        if (parsed._tag === "Trace") assert.deepStrictEqual(replayOne(parsed.trace).differences, [])
      }
      assert.deepStrictEqual(
        traces[0]!.result?.executed.map((e) => e.action),
        ["AddFinalizer", "PersistPlacement", "CreateSecret", "CreatePvc", "CreateVirtualMachine"]
      )
    }).pipe(
      Effect.provideService(DecisionRecorder, {
        enabled: true,
        record: (t) => Effect.sync(() => void traces.push(t))
      }),
      Effect.provide(w.layer)
    )
  })
})
