/** Executor of EnsureNamespace on the in-memory remote: creates with our label; reuses an existing one untouched. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { executeEnsureNamespace } from "../../../src/effects/executors/EnsureNamespace.ts"
import { namespaceObject, twoClusters } from "../../fixtures/world.ts"

const ensure = {
  _tag: "EnsureNamespace",
  cluster: "remote-a",
  target: refOf("Namespace", "team-a"),
  labels: { "managed-by": "vitistack-kubevirt-operator" },
  reason: "test"
} as const

describe("executeEnsureNamespace", () => {
  it.effect("creates the namespace with exactly our label", () => {
    const w = twoClusters()
    return Effect.gen(function* () {
      yield* executeEnsureNamespace(ensure)
      const ns = w.remote.objects({ kind: "Namespace" }).find((o) => o.metadata.name === "team-a")
      assert.deepStrictEqual(ns?.metadata.labels, { "managed-by": "vitistack-kubevirt-operator" })
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("an existing namespace (someone else's) is success and stays as it was: only a create is ever sent", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a", { owner: "platform" })])
    const before = JSON.stringify(w.remote.objects({ kind: "Namespace" }))
    return Effect.gen(function* () {
      yield* executeEnsureNamespace(ensure)
      assert.strictEqual(JSON.stringify(w.remote.objects({ kind: "Namespace" })), before)
      assert.strictEqual(w.remote.requestCount({ kind: "Namespace" }), 1)
      assert.strictEqual(w.remote.requestCount({ verb: "create", kind: "Namespace" }), 1)
    }).pipe(Effect.provide(w.layer))
  })
})
