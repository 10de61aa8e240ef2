/**
 * Start-up needs nothing but the supervisor: missing supervisor CRDs fail `/readyz`'s `supervisor-crds` check with a
 * message naming them, and a found set is trusted for a minute (probes come every few seconds).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { KindTable } from "../../src/effects/kube/KindTable.ts"
import { checkSupervisorCrds, supervisorCrdsCheck } from "../../src/runtime/supervisorCrds.ts"

const without = (...kinds: Array<string>) =>
  InMemoryCluster.make({ kinds: KindTable.make(KindTable.default.all().filter((k) => !kinds.includes(k.kind))) })

describe("supervisor CRDs", () => {
  it.effect("served: ready", () => checkSupervisorCrds(makeInMemoryApi(InMemoryCluster.make())))

  it.effect("missing ones are named, with the fix", () =>
    Effect.gen(function* () {
      const reason = yield* Effect.flip(checkSupervisorCrds(makeInMemoryApi(without("Machine", "MachineClass"))))
      assert.strictEqual(
        reason,
        "the supervisor does not serve machines.vitistack.io/v1alpha1, machineclasses.vitistack.io/v1alpha1: install the CRDs (deploy/crds, or the Helm chart's crds/)"
      )
      const none = KindTable.make(KindTable.default.all().filter((k) => !k.apiVersion.startsWith("vitistack.io/")))
      const all = yield* Effect.flip(checkSupervisorCrds(makeInMemoryApi(InMemoryCluster.make({ kinds: none }))))
      assert.include(all, "machines.vitistack.io/v1alpha1, kubevirtconfigs.vitistack.io/v1alpha1")
    })
  )

  it.effect("a success is trusted for a minute, then asked again", () =>
    Effect.gen(function* () {
      const cluster = InMemoryCluster.make()
      const check = supervisorCrdsCheck(makeInMemoryApi(cluster))
      yield* check.check
      yield* check.check
      assert.strictEqual(cluster.requestCount({ verb: "discover" }), 1)
      yield* TestClock.adjust("61 seconds")
      yield* check.check
      assert.strictEqual(cluster.requestCount({ verb: "discover" }), 2)
    })
  )
})
