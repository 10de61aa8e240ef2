/**
 * The read-only (dry-run) layer: reads pass through to the wrapped cluster, every write fails with reason
 * DryRun and nothing reaches the cluster.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream } from "effect"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import type { KubeApiError, KubeVerb } from "../../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"
import { layerInMemoryFrom } from "../../../src/effects/kube/inMemoryApi.ts"
import { layerReadOnly } from "../../../src/effects/kube/readOnly.ts"

const seeded = () => {
  const cluster = InMemoryCluster.make()
  cluster.seed([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } },
    {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "vm-a", namespace: "team-a" },
      spec: { runStrategy: "Always" }
    }
  ])
  return cluster
}

const vmRef = refOf("VirtualMachine", "vm-a", "team-a")

describe("layerReadOnly", () => {
  const cluster = seeded()
  const before = cluster.objects()
  const layer = layerReadOnly.pipe(Layer.provide(layerInMemoryFrom(cluster)))

  it.effect("reads pass through", () =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      assert.isTrue(Option.isSome(yield* api.get(vmRef)))
      const listed = yield* api.list({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" }, { namespace: "team-a" })
      assert.deepStrictEqual(
        listed.items.map((o) => o.metadata.name),
        ["vm-a"]
      )
      const watched = yield* api
        .watch({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" })
        .pipe(Stream.take(1), Stream.runCollect)
      assert.strictEqual([...watched][0]?.type, "ADDED")
    }).pipe(Effect.provide(layer))
  )

  const writes: ReadonlyArray<{
    readonly verb: KubeVerb
    readonly run: (api: KubeApi["Service"]) => Effect.Effect<unknown, KubeApiError>
  }> = [
    {
      verb: "create",
      run: (api: KubeApi["Service"]) =>
        api.create(refOf("VirtualMachine", "vm-b", "team-a"), {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachine",
          metadata: { name: "vm-b" }
        })
    },
    { verb: "patch", run: (api: KubeApi["Service"]) => api.patch(vmRef, { spec: { runStrategy: "Halted" } }) },
    {
      verb: "apply",
      run: (api: KubeApi["Service"]) =>
        api.apply(
          vmRef,
          { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "vm-a" } },
          { fieldManager: "t" }
        )
    },
    { verb: "delete", run: (api: KubeApi["Service"]) => api.delete(vmRef) },
    {
      verb: "updateStatus",
      run: (api: KubeApi["Service"]) => api.updateStatus(vmRef, { ready: true }, { resourceVersion: "2" })
    }
  ]

  it.effect.each(writes)("$verb fails with DryRun", ({ verb, run }) =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const error = yield* Effect.flip(run(api))
      assert.strictEqual(error.reason._tag, "DryRun")
      assert.strictEqual(error.verb, verb)
      assert.isFalse(error.isRetryable)
      assert.strictEqual(cluster.writeCount(), 0)
      assert.deepStrictEqual(cluster.objects(), before)
    }).pipe(Effect.provide(layer))
  )
})
