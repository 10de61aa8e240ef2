/**
 * `kubevirt_operator_machines{phase}` (the dashboard's "Machines by phase"): the operator loop reports each in-scope
 * Machine's phase from its watch cache, as it changes, on in-memory clusters with the KubeVirt stand-in on virtual
 * time. Out-of-scope Machines are not counted; a deleted Machine leaves its phase's count.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { Supervisor } from "../../src/effects/Clusters.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { makeOperatorMetrics } from "../../src/runtime/Metrics.ts"
import { runOperator } from "../../src/runtime/Operator.ts"
import { runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import { machineObject, namespaceObject, twoClusters } from "../fixtures/world.ts"

const until = (done: () => boolean, limit = 2000) =>
  Effect.gen(function* () {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
    assert.isTrue(done(), "condition not reached in virtual time")
  })

/** The gauge's non-zero series, as `phase=count`, sorted. */
const phases = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("kubevirt_operator_machines{") && !l.endsWith(" 0"))
    .map((l) => `${/phase="([^"]*)"/.exec(l)![1]}=${l.split(" ").at(-1)}`)
    .sort()

describe("Machines by phase", () => {
  it.effect(
    "counts in-scope Machines by status.phase as it changes; out of scope and deleted ones do not count",
    () => {
      const w = twoClusters()
      w.supervisor.seed([
        namespaceObject("apps"),
        machineObject("a", "apps"),
        machineObject("b", "apps"),
        machineObject("other", "apps", { provider: "proxmox" })
      ])
      const metrics = makeOperatorMetrics()
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(
          runOperator({
            settings: defaultSettings,
            workers: 2,
            onMachinePhase: (before, after) => {
              if (before !== undefined) metrics.machines.decUnsafe({ phase: before })
              if (after !== undefined) metrics.machines.incUnsafe({ phase: after })
            }
          })
        )
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => phases(metrics.registry.exposeUnsafe()).join(",") === "Running=2")
        yield* (yield* Supervisor).delete(refOf("Machine", "b", "apps"))
        yield* until(() => phases(metrics.registry.exposeUnsafe()).join(",") === "Running=1")
        yield* Fiber.interrupt(standin)
        yield* Fiber.interrupt(op)
      }).pipe(Effect.provide(w.layer))
    }
  )
})
