/**
 * The operator's loop as a property: for random Machines, foreign objects and seeded fault schedules (500, 429,
 * timeouts, resets, Conflicts, and lost responses after the write took effect), repeating observe → plan → execute
 * converges within a bounded number of rounds to the state the planner describes: every object of ours present once,
 * nothing foreign touched; then deletion removes ours and keeps the namespace and everything foreign.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import fc from "fast-check"
import { desiredFor } from "../../src/domain/desired.ts"
import { absent } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { FINALIZER, isOwnedBy, PLACEMENT_ANNOTATION } from "../../src/domain/labels.ts"
import { Machine } from "../../src/domain/Machine.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { Supervisor } from "../../src/effects/Clusters.ts"
import type { FaultKind } from "../../src/effects/kube/FaultInjection.ts"
import { onVirtualTime } from "../fixtures/virtualTime.ts"
import { machineObject, namespaceObject, readMachine, reconcileOnce, twoClusters } from "../fixtures/world.ts"

const RUNS = Number(process.env.CONVERGENCE_RUNS ?? 100)
const MAX_ROUNDS = 25

const caseArb = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
  namespace: fc.constantFrom("default", "team-a"),
  namespaceExists: fc.boolean(),
  disks: fc.uniqueArray(
    fc.record({ name: fc.constantFrom("root", "data", "logs"), sizeGB: fc.integer({ min: 1, max: 50 }) }),
    { maxLength: 3, selector: (d) => d.name }
  ),
  foreignNeighbour: fc.boolean(),
  seed: fc.integer(),
  rate: fc.constantFrom(0, 0.1, 0.3),
  faults: fc.subarray<FaultKind>(["ServerError", "TooManyRequests", "Timeout", "ConnectionReset", "Conflict"], {
    minLength: 1
  }),
  lostResponses: fc.boolean()
})

const ours = (objects: ReadonlyArray<KubeObject>, name: string) =>
  objects.filter((o) => isOwnedBy(o.metadata.labels, name))

describe("observe → plan → execute under faults", () => {
  it.effect("converges, creates each object once, never touches foreign objects, and deletes cleanly", () =>
    Effect.gen(function* () {
      const cases = fc.sample(caseArb, { numRuns: RUNS, seed: 20261128 })
      let injected = 0
      let lostWrites = 0
      for (const c of cases) {
        const w = twoClusters({
          remote: {
            faults: {
              seed: c.seed,
              rules: [
                { verbs: ["create", "patch", "delete"], rate: c.rate, faults: c.faults, afterEffect: c.lostResponses },
                { rate: c.rate, faults: c.faults }
              ]
            }
          }
        })
        const disks = c.disks.map((d, i) => (i === 0 ? { ...d, boot: true } : d))
        w.supervisor.seed([
          namespaceObject("team-a"),
          machineObject(c.name, c.namespace, disks.length > 0 ? { disks } : {})
        ])
        if (c.namespaceExists) w.remote.seed([namespaceObject("team-a", { owner: "platform" })])
        const foreign: KubeObject = {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: `${c.name}-foreign`, namespace: c.namespace, labels: { app: "theirs" } },
          spec: {}
        }
        if (c.foreignNeighbour)
          w.remote.seed([
            ...(c.namespace === "team-a" && !c.namespaceExists ? [namespaceObject("team-a")] : []),
            foreign
          ])
        const foreignBefore = JSON.stringify(
          w.remote.objects({ kind: "PersistentVolumeClaim" }).filter((o) => !isOwnedBy(o.metadata.labels, c.name))
        )
        const nsBefore = JSON.stringify(
          w.remote.objects({ kind: "Namespace" }).find((o) => o.metadata.name === c.namespace) ?? null
        )

        const converge = Effect.gen(function* () {
          for (let round = 0; round < MAX_ROUNDS; round++) {
            const r = yield* reconcileOnce(c.name, c.namespace)
            if (r === undefined) return round
            if (r.plan.actions.length === 0 && r.result.failed === undefined) return round
          }
          return -1
        })
        const rounds = yield* onVirtualTime(converge.pipe(Effect.provide(w.layer)))
        assert.isAtLeast(rounds, 0, `did not converge in ${MAX_ROUNDS} rounds: ${JSON.stringify(c)}`)

        const machine = Schema.decodeUnknownSync(Machine)(
          w.supervisor.object(refOf("Machine", c.name, c.namespace)).pipe(Option.getOrThrow)
        )
        assert.isTrue(machine.metadata.finalizers?.includes(FINALIZER))
        assert.strictEqual(machine.metadata.annotations?.[PLACEMENT_ANNOTATION], "remote-a")
        const desired = desiredFor(machine, absent, defaultSettings)
        assert.strictEqual(desired._tag, "Ok")
        if (desired._tag !== "Ok") return
        assert.deepStrictEqual(
          ours(w.remote.objects({ kind: "PersistentVolumeClaim" }), c.name).map((o) => o.metadata.name),
          desired.desired.pvcs.map((p) => p.name).sort()
        )
        assert.deepStrictEqual(
          ours(w.remote.objects({ kind: "VirtualMachine" }), c.name).map((o) => o.metadata.name),
          [c.name]
        )
        assert.strictEqual(
          JSON.stringify(
            w.remote.objects({ kind: "PersistentVolumeClaim" }).filter((o) => !isOwnedBy(o.metadata.labels, c.name))
          ),
          foreignBefore
        )
        if (c.namespaceExists)
          assert.strictEqual(
            JSON.stringify(w.remote.objects({ kind: "Namespace" }).find((o) => o.metadata.name === c.namespace)),
            nsBefore
          )

        // Deletion: the Machine gets a deletionTimestamp; rounds run until it is gone.
        const remove = Effect.gen(function* () {
          yield* (yield* Supervisor).delete(refOf("Machine", c.name, c.namespace))
          for (let round = 0; round < MAX_ROUNDS; round++) {
            if (Option.isNone(yield* readMachine(c.name, c.namespace))) return round
            yield* reconcileOnce(c.name, c.namespace)
          }
          return -1
        })
        const deletionRounds = yield* onVirtualTime(remove.pipe(Effect.provide(w.layer)))
        assert.isAtLeast(deletionRounds, 0, `deletion did not finish: ${JSON.stringify(c)}`)
        assert.deepStrictEqual(ours(w.remote.objects(), c.name), [])
        assert.isTrue(
          w.remote.objects({ kind: "Namespace" }).some((o) => o.metadata.name === c.namespace),
          "the namespace is kept"
        )
        assert.strictEqual(
          JSON.stringify(
            w.remote.objects({ kind: "PersistentVolumeClaim" }).filter((o) => !isOwnedBy(o.metadata.labels, c.name))
          ),
          foreignBefore
        )
        injected += w.remote.faults?.log.length ?? 0
        lostWrites += w.remote.faults?.log.filter((f) => f.afterEffect).length ?? 0
      }
      // The schedules must have bitten, including writes whose response was lost after they took effect.
      assert.isAbove(injected, RUNS)
      assert.isAbove(lostWrites, 0)
    })
  )
})
