/**
 * Remote cluster health in the operator loop, on in-memory clusters and virtual time: a remote without KubeVirt is
 * NotReady on its KubevirtConfig and holds back only its own Machines while another remote's run; once KubeVirt is
 * deployed there, its Machines proceed without a restart; the status is written only when the health changes; the
 * metric follows; a cluster that stops answering is Error, and answers again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { Remotes, Supervisor } from "../../src/effects/Clusters.ts"
import { EventRecorder } from "../../src/effects/EventRecorder.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { kubeApiError, Transport } from "../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { Metrics } from "../../src/runtime/Metrics.ts"
import { runOperator } from "../../src/runtime/Operator.ts"
import { runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import { installKubevirt, kubevirtInstallation } from "../../src/runtime/standin/kubevirtInstallation.ts"
import { kubevirtConfigObject, machineObject, namespaceObject } from "../fixtures/world.ts"

/** A supervisor with KubevirtConfigs `with-kv` (KubeVirt deployed) and `no-kv` (KubeVirt CRDs, no KubeVirt). */
const world = (options: { readonly down?: { value: boolean } } = {}) => {
  const supervisor = InMemoryCluster.make()
  const withKv = InMemoryCluster.make()
  const noKv = InMemoryCluster.make()
  supervisor.seed([
    namespaceObject("default"),
    namespaceObject("vitistack"),
    kubevirtConfigObject("with-kv"),
    kubevirtConfigObject("no-kv")
  ])
  withKv.seed([namespaceObject("default"), ...kubevirtInstallation()])
  noKv.seed([namespaceObject("default")])
  const down = options.down
  const noKvApi = makeInMemoryApi(noKv)
  // `down`: every call to `no-kv` fails as a connection would.
  const flaky: KubeApiService =
    down === undefined
      ? noKvApi
      : {
          ...noKvApi,
          discover: (g) =>
            down.value
              ? Effect.fail(kubeApiError("discover", `API group ${g}`, new Transport({ message: "ECONNREFUSED" })))
              : noKvApi.discover(g)
        }
  const layer = Layer.provideMerge(
    Layer.mergeAll(
      EventRecorder.layer,
      Metrics.layer,
      Remotes.layerFromMap({ "with-kv": makeInMemoryApi(withKv), "no-kv": flaky })
    ),
    Supervisor.layer(makeInMemoryApi(supervisor))
  )
  return { supervisor, withKv, noKv, layer }
}

const placedOn = (name: string, cluster: string): KubeObject => {
  const m = machineObject(name, "default")
  return { ...m, metadata: { ...m.metadata, annotations: { "vitistack.io/kubevirt-config": cluster } } }
}

const statusOf = (c: InMemoryCluster, kind: "Machine" | "KubevirtConfig", name: string, ns?: string) =>
  Option.getOrUndefined(c.object(refOf(kind, name, ns)))?.status as Record<string, any> | undefined

const until = (done: () => boolean, limit = 3000) =>
  Effect.gen(function* () {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
    assert.isTrue(done(), "condition not reached in virtual time")
  })

describe("remote cluster health in the operator", () => {
  it.effect(
    "a remote without KubeVirt is NotReady and holds back only its own Machines, until KubeVirt is deployed",
    () => {
      const w = world()
      w.supervisor.seed([placedOn("on-a", "with-kv"), placedOn("on-b", "no-kv")])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
        const standins = [
          yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.withKv))),
          yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.noKv)))
        ]
        yield* until(
          () =>
            statusOf(w.supervisor, "Machine", "on-a", "default")?.phase === "Running" &&
            statusOf(w.supervisor, "KubevirtConfig", "no-kv")?.phase === "NotReady" &&
            String(statusOf(w.supervisor, "Machine", "on-b", "default")?.message).includes("not ready")
        )
        const config = statusOf(w.supervisor, "KubevirtConfig", "no-kv")!
        assert.strictEqual(config.status, "KubevirtNotInstalled")
        assert.match(config.message, /^KubeVirt is not installed: no KubeVirt resource in any namespace/)
        assert.strictEqual(statusOf(w.supervisor, "KubevirtConfig", "with-kv")?.phase, "Ready")
        const b = statusOf(w.supervisor, "Machine", "on-b", "default")!
        assert.strictEqual(b.phase, "Creating")
        assert.deepStrictEqual(
          b.conditions.find((c: any) => c.type === "Ready"),
          {
            type: "Ready",
            status: "False",
            reason: "ClusterNotReady",
            message: `remote cluster 'no-kv' is not ready: ${config.message}`,
            lastTransitionTime: b.conditions.find((c: any) => c.type === "Ready").lastTransitionTime
          }
        )
        // Nothing was created on the cluster that is not ready.
        assert.deepStrictEqual([w.noKv.writeCount(), w.noKv.objects({ kind: "VirtualMachine" }).length], [0, 0])
        const metrics = yield* Metrics
        assert.strictEqual(yield* metrics.remoteHealth.value({ cluster: "no-kv", phase: "NotReady" }), 1)
        assert.strictEqual(yield* metrics.remoteHealth.value({ cluster: "with-kv", phase: "Ready" }), 1)
        const served = (cluster: string, resource: string, version: string) =>
          metrics.remoteApiServed.value({ cluster, resource, version })
        assert.deepStrictEqual(
          [yield* served("with-kv", "virtualmachines", "v1"), yield* served("with-kv", "datavolumes", "v1beta1")],
          [1, 1]
        )

        // Steady state: probes keep coming (reads), but nothing is written while nothing changes.
        yield* TestClock.adjust("10 seconds")
        const writes = w.supervisor.writeCount()
        const discoveries = w.noKv.requestCount({ verb: "discover" })
        for (let i = 0; i < 30; i++) yield* TestClock.adjust("10 seconds")
        assert.strictEqual(w.supervisor.writeCount(), writes)
        assert.isAbove(w.noKv.requestCount({ verb: "discover" }), discoveries)

        // KubeVirt is deployed on the second remote: within a probe interval its Machine runs, no restart needed.
        yield* installKubevirt(makeInMemoryApi(w.noKv))
        yield* until(() => statusOf(w.supervisor, "Machine", "on-b", "default")?.phase === "Running", 600)
        assert.strictEqual(statusOf(w.supervisor, "KubevirtConfig", "no-kv")?.phase, "Ready")
        assert.strictEqual(yield* metrics.remoteHealth.value({ cluster: "no-kv", phase: "NotReady" }), 0)
        yield* Fiber.interrupt(op)
        for (const f of standins) yield* Fiber.interrupt(f)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect("a remote that stops answering is Error on its KubevirtConfig, and Ready again when it answers", () => {
    const down = { value: false }
    const w = world({ down })
    w.noKv.seed(kubevirtInstallation())
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
      yield* until(() => statusOf(w.supervisor, "KubevirtConfig", "no-kv")?.phase === "Ready")
      down.value = true
      yield* until(() => statusOf(w.supervisor, "KubevirtConfig", "no-kv")?.phase === "Error", 600)
      const status = statusOf(w.supervisor, "KubevirtConfig", "no-kv")!
      assert.strictEqual(status.status, "Unreachable")
      assert.include(status.message, "ECONNREFUSED")
      down.value = false
      yield* until(() => statusOf(w.supervisor, "KubevirtConfig", "no-kv")?.phase === "Ready", 600)
      yield* Fiber.interrupt(op)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a restarted operator finds the health already written and writes nothing", () => {
    const w = world()
    return Effect.gen(function* () {
      const first = yield* Effect.forkChild(runOperator({ settings: defaultSettings }))
      yield* until(
        () =>
          statusOf(w.supervisor, "KubevirtConfig", "no-kv")?.phase === "NotReady" &&
          statusOf(w.supervisor, "KubevirtConfig", "with-kv")?.phase === "Ready"
      )
      yield* Fiber.interrupt(first)
      const writes = w.supervisor.writeCount("KubevirtConfig")
      const second = yield* Effect.forkChild(runOperator({ settings: defaultSettings }))
      for (let i = 0; i < 12; i++) yield* TestClock.adjust("10 seconds")
      assert.strictEqual(w.supervisor.writeCount("KubevirtConfig"), writes)
      yield* Fiber.interrupt(second)
    }).pipe(Effect.provide(w.layer))
  })
})
