/**
 * `reconcile` on in-memory clusters: what one reconcile reads and writes. A converged Machine costs one read of the
 * Machine and no write; a reconcile whose actions change the Machine reads it again before writing its status.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { answered, evaluateHealth, uncheckedHealth } from "../../src/domain/ClusterHealth.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { renderAction } from "../../src/domain/render.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { ClusterHealthFacts } from "../../src/effects/ClusterHealthFacts.ts"
import { reconcile } from "../../src/effects/reconcile.ts"
import { machineObject, twoClusters } from "../fixtures/world.ts"

describe("reconcile", () => {
  it.effect("reads the Machine again only after acting on it; a converged Machine: one read, no write", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("vm-a", "default", { disks: [{ name: "root", sizeGB: 1, boot: true }] })])
    const machineGets = () => w.supervisor.requestCount({ verb: "get", kind: "Machine" })
    return Effect.gen(function* () {
      // First reconcile: finalizer, placement and remote objects; the status is derived against a fresh read.
      const first = yield* reconcile("default/vm-a", defaultSettings)
      assert.strictEqual(first.outcome._tag, "Requeue")
      assert.isTrue(first.statusWritten)
      const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as
        | Record<string, unknown>
        | undefined
      assert.strictEqual(status?.phase, "Creating")
      // Until nothing is left to do.
      for (let i = 0; i < 5; i++) {
        const r = yield* reconcile("default/vm-a", defaultSettings)
        if ((r.result?.executed.length ?? 0) === 0 && !r.statusWritten) break
      }
      w.supervisor.resetRequestCounts()
      w.remote.resetRequestCounts()
      const steady = yield* reconcile("default/vm-a", defaultSettings)
      assert.strictEqual(steady.result?.executed.length, 0)
      assert.isFalse(steady.statusWritten)
      assert.strictEqual(machineGets(), 1)
      assert.strictEqual(w.supervisor.writeCount() + w.remote.writeCount(), 0)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("records one Event for the actions a round ran (their plan lines), none for adding the finalizer", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("vm-a", "default", { disks: [{ name: "root", sizeGB: 1, boot: true }] })])
    return Effect.gen(function* () {
      const first = yield* reconcile("default/vm-a", defaultSettings)
      const executed = first.result?.executed ?? []
      assert.include(
        executed.map((a) => a._tag),
        "AddFinalizer"
      )
      const events = w.supervisor.objects({ kind: "Event" }) as ReadonlyArray<{ reason?: string; message?: string }>
      assert.strictEqual(events.length, 1)
      const recorded = executed.filter((a) => a._tag !== "AddFinalizer")
      assert.isAbove(recorded.length, 1)
      assert.strictEqual(events[0]?.reason, "Applied")
      assert.strictEqual(events[0]?.message, recorded.map((a) => renderAction(a).trim()).join("; "))
      assert.notInclude(events[0]?.message, "AddFinalizer")
    }).pipe(Effect.provide(w.layer))
  })

  it.effect(
    "its cluster not checked yet: no plan, no write, a backoff; NotReady: only supervisor actions and a status",
    () => {
      const w = twoClusters()
      w.supervisor.seed([machineObject("vm-a", "default")])
      return Effect.gen(function* () {
        const unchecked = yield* reconcile("default/vm-a", defaultSettings).pipe(
          Effect.provideService(ClusterHealthFacts, uncheckedHealth)
        )
        assert.deepStrictEqual(unchecked.outcome, { _tag: "Backoff", reason: "ClusterNotChecked" })
        assert.strictEqual(w.supervisor.writeCount() + w.remote.writeCount(), 0)

        const notReady = evaluateHealth("remote-a", {
          kubevirtGroup: answered([]),
          cdiGroup: answered([]),
          kubevirts: undefined
        })
        const r = yield* reconcile("default/vm-a", defaultSettings).pipe(
          Effect.provideService(ClusterHealthFacts, () => notReady)
        )
        assert.deepStrictEqual(
          r.result?.executed.map((a) => a._tag),
          ["AddFinalizer", "PersistPlacement"]
        )
        assert.strictEqual(w.remote.writeCount(), 0)
        const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as any
        assert.strictEqual(status.conditions[0].reason, "ClusterNotReady")
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "deferStatus: a reconcile whose actions all ran leaves the status to the next, which writes it once",
    () => {
      const w = twoClusters()
      w.supervisor.seed([machineObject("vm-a", "default")])
      const statusWrites = () => w.supervisor.requestCount({ verb: "updateStatus", kind: "Machine" })
      return Effect.gen(function* () {
        const acted = yield* reconcile("default/vm-a", defaultSettings, undefined, { deferStatus: true })
        assert.strictEqual(acted.outcome._tag, "Requeue")
        assert.isTrue(acted.statusDeferred)
        assert.strictEqual(statusWrites(), 0)
        const confirmed = yield* reconcile("default/vm-a", defaultSettings, undefined, { deferStatus: true })
        assert.isTrue(confirmed.statusWritten)
        assert.strictEqual(statusWrites(), 1)
        const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as any
        assert.strictEqual(status.phase, "Creating")
      }).pipe(Effect.provide(w.layer))
    }
  )
})
