/**
 * The interpreter on in-memory clusters: a reconcile creates what the plan says; running it again changes nothing;
 * retries happen on virtual time; a non-retryable error stops the run and is reported.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { FINALIZER, PLACEMENT_ANNOTATION } from "../../src/domain/labels.ts"
import { execute, outcomeOf } from "../../src/effects/interpret.ts"
import { Forbidden, kubeApiError } from "../../src/effects/KubeApiError.ts"
import { machineObject, namespaceObject, readMachine, reconcileOnce, twoClusters } from "../fixtures/world.ts"

const snapshot = (c: { objects: () => ReadonlyArray<unknown> }) => JSON.stringify(c.objects())

describe("execute", () => {
  it.effect("a reconcile creates namespace, PVC and VM; a second one plans nothing and writes nothing", () => {
    const w = twoClusters()
    w.supervisor.seed([namespaceObject("team-a"), machineObject("web", "team-a")])
    return Effect.gen(function* () {
      const first = yield* reconcileOnce("web", "team-a")
      assert.deepStrictEqual(
        first?.plan.actions.map((a) => a._tag),
        ["AddFinalizer", "PersistPlacement", "EnsureNamespace", "CreatePvc", "CreateVirtualMachine"]
      )
      assert.isUndefined(first?.result.failed)
      const ns = w.remote.objects({ kind: "Namespace" }).find((o) => o.metadata.name === "team-a")
      assert.deepStrictEqual(ns?.metadata.labels, { "managed-by": "vitistack-kubevirt-operator" })
      assert.deepStrictEqual(
        w.remote.objects({ kind: "PersistentVolumeClaim" }).map((o) => o.metadata.name),
        ["web"]
      )
      assert.deepStrictEqual(
        w.remote.objects({ kind: "VirtualMachine" }).map((o) => o.metadata.name),
        ["web"]
      )
      const m = yield* readMachine("web", "team-a")
      assert.isTrue(m._tag === "Some" && m.value.metadata.finalizers?.includes(FINALIZER))
      assert.strictEqual(m._tag === "Some" && m.value.metadata.annotations?.[PLACEMENT_ANNOTATION], "remote-a")

      const before = [snapshot(w.remote), w.remote.writeCount(), w.supervisor.writeCount()]
      const second = yield* reconcileOnce("web", "team-a")
      assert.deepStrictEqual(second?.plan.actions, [])
      assert.deepStrictEqual([snapshot(w.remote), w.remote.writeCount(), w.supervisor.writeCount()], before)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("running the same plan twice leaves the same state as running it once", () => {
    const w = twoClusters()
    w.supervisor.seed([
      namespaceObject("team-a"),
      machineObject("web", "team-a", {
        disks: [
          { name: "root", sizeGB: 5, boot: true },
          { name: "data", sizeGB: 7 }
        ]
      })
    ])
    return Effect.gen(function* () {
      const first = yield* reconcileOnce("web", "team-a")
      const once = [snapshot(w.remote)]
      const again = yield* execute(first!.plan)
      assert.isUndefined(again.failed)
      assert.deepStrictEqual([snapshot(w.remote)], once)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("retryable errors are retried with backoff on virtual time, then reported", () => {
    const w = twoClusters({
      remote: {
        faults: { seed: 7, rules: [{ verbs: ["create"], kinds: ["VirtualMachine"], rate: 1, faults: ["ServerError"] }] }
      }
    })
    w.supervisor.seed([machineObject("web", "default")])
    return Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(reconcileOnce("web", "default"))
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r?.result.failed?.action._tag, "CreateVirtualMachine")
      const outcome = outcomeOf(r!.result)
      assert.deepStrictEqual([outcome.failed?.reason, outcome.failed?.retryable], ["ServerError", true])
      // 1 attempt + 5 retries, all on virtual time.
      assert.strictEqual(w.remote.requestCount({ verb: "create", kind: "VirtualMachine" }), 6)
      assert.deepStrictEqual(w.remote.objects({ kind: "VirtualMachine" }), [])
    }).pipe(Effect.provide(w.layer))
  })

  it.effect(
    "a non-retryable error stops the run at once: no retry, later actions skipped, the namespace message",
    () => {
      const w = twoClusters({
        wrapRemote: (api) => ({
          ...api,
          create: (ref, body) =>
            ref.kind === "Namespace"
              ? Effect.fail(
                  kubeApiError(
                    "create",
                    `Namespace ${ref.name}`,
                    new Forbidden({
                      message: 'namespaces is forbidden: User "operator" cannot create resource "namespaces"',
                      status: 403
                    })
                  )
                )
              : api.create(ref, body)
        })
      })
      w.supervisor.seed([namespaceObject("team-a"), machineObject("web", "team-a")])
      return Effect.gen(function* () {
        const r = yield* reconcileOnce("web", "team-a")
        assert.strictEqual(r?.result.failed?.action._tag, "EnsureNamespace")
        assert.deepStrictEqual(
          r?.result.skipped.map((a) => a._tag),
          ["CreatePvc", "CreateVirtualMachine"]
        )
        assert.deepStrictEqual(
          [outcomeOf(r!.result).failed?.reason, outcomeOf(r!.result).failed?.retryable],
          ["Forbidden", false]
        )
        assert.strictEqual(w.remote.writeCount(), 0)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect("AlreadyExists of our object is success; of a foreign object it is NotOurs", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("web", "default")])
    return Effect.gen(function* () {
      const first = yield* reconcileOnce("web", "default")
      // Replay the creates: the objects are ours, so AlreadyExists counts as done.
      const replay = yield* execute(first!.plan)
      assert.isUndefined(replay.failed)
      // A foreign claim with the same name as another Machine's disk.
      w.remote.seed([
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "db", namespace: "default", labels: { app: "theirs" } },
          spec: {}
        }
      ])
      const creates = first!.plan.actions
        .filter((a) => a._tag === "CreatePvc")
        .map((a) => ({ ...a, target: { ...a.target, name: "db" }, after: { ...a.after, name: "db" } }))
      const clash = yield* execute({ ...first!.plan, actions: creates } as never)
      assert.strictEqual(clash.failed?.error._tag, "NotOurs")
      assert.deepStrictEqual(
        w.remote.objects({ kind: "PersistentVolumeClaim" }).find((o) => o.metadata.name === "db")?.metadata.labels,
        { app: "theirs" }
      )
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("AddFinalizer and PersistPlacement on one Machine are one patch, and both are reported executed", () => {
    const w = twoClusters()
    w.supervisor.seed([namespaceObject("team-a"), machineObject("web", "team-a")])
    return Effect.gen(function* () {
      const first = yield* reconcileOnce("web", "team-a")
      assert.deepStrictEqual(
        first?.result.executed.slice(0, 2).map((a) => a._tag),
        ["AddFinalizer", "PersistPlacement"]
      )
      assert.strictEqual(w.supervisor.requestCount({ verb: "patch", kind: "Machine" }), 1)
      const m = yield* readMachine("web", "team-a")
      assert.isTrue(m._tag === "Some" && m.value.metadata.finalizers?.includes(FINALIZER))
      assert.strictEqual(m._tag === "Some" && m.value.metadata.annotations?.[PLACEMENT_ANNOTATION], "remote-a")
    }).pipe(Effect.provide(w.layer))
  })
})
