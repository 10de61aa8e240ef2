/**
 * Seeded fault injection: the same seed gives the same failures, rules select verbs and kinds, faults can
 * strike after a write took effect, and faulted requests are still counted.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { ObjectRef } from "../../../src/domain/ObjectRef.ts"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import { type FaultConfig, faultAt, layerFaulty } from "../../../src/effects/kube/FaultInjection.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"
import { ClusterState, layerInMemory, layerInMemoryFrom } from "../../../src/effects/kube/inMemoryApi.ts"

const cmRef = (name: string) => ObjectRef.make({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name })
const cm = (name: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" } })

const chaos = (seed: number): FaultConfig => ({
  seed,
  rules: [
    {
      verbs: ["create", "patch", "get", "delete"],
      rate: 0.4,
      faults: ["ServerError", "TooManyRequests", "Timeout", "ConnectionReset", "Conflict"]
    }
  ]
})

/** A fixed script of 60 requests; each outcome is "ok" or the failure's reason tag. */
const script = Effect.gen(function* () {
  const api = yield* KubeApi
  const outcomes: Array<string> = []
  const record = <A, R>(effect: Effect.Effect<A, { readonly reason: { readonly _tag: string } }, R>) =>
    Effect.map(Effect.result(effect), (r) => (r._tag === "Success" ? "ok" : r.failure.reason._tag))
  for (let i = 0; i < 15; i++) {
    const name = `c${i % 5}`
    outcomes.push(yield* record(api.create(cmRef(name), cm(name))))
    outcomes.push(yield* record(api.patch(cmRef(name), { data: { i: String(i) } })))
    outcomes.push(yield* record(api.get(cmRef(name))))
    outcomes.push(yield* record(api.delete(cmRef(name))))
  }
  return outcomes
})

const layerWith = (faults: FaultConfig) => {
  const cluster = InMemoryCluster.make({ faults })
  cluster.seed([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "ns" } }])
  return layerInMemoryFrom(cluster)
}

const runScript = (faults: FaultConfig) =>
  Effect.gen(function* () {
    const outcomes = yield* script
    const cluster = yield* ClusterState
    return { outcomes, log: cluster.faults?.log ?? [], objects: cluster.objects({ kind: "ConfigMap" }) }
  }).pipe(Effect.provide(layerWith(faults)))

describe("fault injection", () => {
  it("faultAt is a pure function of seed, verb, kind and index", () => {
    const config = chaos(42)
    const decisions = (c: FaultConfig) =>
      Array.from({ length: 200 }, (_, n) => Option.getOrUndefined(faultAt(c, "create", "ConfigMap", n))?.fault ?? "-")
    assert.deepStrictEqual(decisions(config), decisions(chaos(42)))
    assert.notDeepEqual(decisions(config), decisions(chaos(43)))
    const failures = decisions(config).filter((d) => d !== "-").length
    assert.isAbove(failures, 40, "about 40% of 200 should fail")
    assert.isBelow(failures, 120)
    assert.strictEqual(new Set(decisions(config).filter((d) => d !== "-")).size, 5, "every fault kind occurs")
  })

  it.effect("the same seed gives the same failures through the in-memory layer", () =>
    Effect.gen(function* () {
      const first = yield* runScript(chaos(7))
      const second = yield* runScript(chaos(7))
      const other = yield* runScript(chaos(8))
      assert.deepStrictEqual(first.outcomes, second.outcomes)
      assert.deepStrictEqual(first.log, second.log)
      assert.deepStrictEqual(
        first.objects.map((o) => o.metadata.name),
        second.objects.map((o) => o.metadata.name)
      )
      assert.notDeepEqual(first.outcomes, other.outcomes)
      assert.isTrue(first.outcomes.some((o) => o === "ServerError" || o === "Timeout" || o === "Transport"))
    })
  )

  it.effect("rules select verbs and kinds; rate 0 never fails", () =>
    Effect.gen(function* () {
      const onlyCreates = yield* runScript({
        seed: 1,
        rules: [{ verbs: ["create"], kinds: ["ConfigMap"], rate: 1, faults: ["ServerError"] }]
      })
      assert.isTrue(onlyCreates.log.every((f) => f.verb === "create" && f.kind === "ConfigMap"))
      assert.strictEqual(onlyCreates.log.length, 15)
      assert.deepStrictEqual(onlyCreates.objects, [])

      const otherKind = yield* runScript({ seed: 1, rules: [{ kinds: ["Secret"], rate: 1, faults: ["ServerError"] }] })
      assert.deepStrictEqual(otherKind.log, [])

      const never = yield* runScript({ seed: 1, rules: [{ rate: 0, faults: ["ServerError"] }] })
      assert.deepStrictEqual(never.log, [])
    })
  )

  it.effect("an after-effect fault fails the call although the write happened", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const cluster = yield* ClusterState
      const error = yield* Effect.flip(api.create(cmRef("lost"), cm("lost")))
      assert.strictEqual(error.reason._tag, "Timeout")
      assert.isTrue(error.isRetryable)
      assert.isTrue(Option.isSome(cluster.object(cmRef("lost"))))
      assert.strictEqual(cluster.requestCount({ verb: "create" }), 1)
      // The retry meets the object the lost call created: an idempotent executor reads this as success.
      const retried = yield* Effect.flip(api.create(cmRef("lost"), cm("lost")))
      assert.strictEqual(retried.reason._tag, "AlreadyExists")
    }).pipe(
      Effect.provide(
        layerWith({ seed: 3, rules: [{ verbs: ["create"], rate: 1, faults: ["Timeout"], afterEffect: true }] })
      )
    )
  )

  it.effect("faulted requests are counted and never reach the cluster", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const cluster = yield* ClusterState
      const error = yield* Effect.flip(api.create(cmRef("x"), cm("x")))
      assert.strictEqual(error.reason._tag, "TooManyRequests")
      assert.include(error.message, "cannot create ConfigMap ns/x")
      assert.strictEqual(cluster.writeCount(), 1)
      assert.isTrue(Option.isNone(cluster.object(cmRef("x"))))
    }).pipe(Effect.provide(layerWith({ seed: 5, rules: [{ rate: 1, faults: ["TooManyRequests"] }] })))
  )

  it.effect("layerFaulty wraps any KubeApi", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const error = yield* Effect.flip(api.get(cmRef("x")))
      assert.strictEqual(error.reason._tag, "Transport")
      const listed = yield* api.list({ apiVersion: "v1", kind: "ConfigMap" })
      assert.deepStrictEqual(listed.items, [])
    }).pipe(
      Effect.provide(
        layerFaulty({ seed: 9, rules: [{ verbs: ["get"], rate: 1, faults: ["ConnectionReset"] }] }).pipe(
          Layer.provide(layerInMemory())
        )
      )
    )
  )
})
