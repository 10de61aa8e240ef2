/**
 * MachineProvider self-registration in the operator loop, on in-memory clusters and virtual time: registered with the
 * Vitistack's region, its status filled from the remote clusters and the Machines and written only when it changes;
 * a Vitistack that lists it stops its creation; a supervisor without the MachineProvider CRD, or without the right to
 * write its status, costs nothing but a log line and the metric: Machines run all the same.
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
import { Forbidden, kubeApiError } from "../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { KindTable } from "../../src/effects/kube/KindTable.ts"
import { Metrics } from "../../src/runtime/Metrics.ts"
import { runOperator } from "../../src/runtime/Operator.ts"
import { runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import { kubevirtInstallation } from "../../src/runtime/standin/kubevirtInstallation.ts"
import { kubevirtConfigObject, machineObject, namespaceObject } from "../fixtures/world.ts"

const vitistack = (providers: ReadonlyArray<string>): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Vitistack",
  metadata: { name: "vitistack" },
  spec: {
    displayName: "Test",
    region: "west",
    zone: "west-1",
    infrastructure: "test",
    machineProviders: providers.map((name) => ({ name }))
  }
})

const smallClass: KubeObject = {
  apiVersion: "vitistack.io/v1alpha1",
  kind: "MachineClass",
  metadata: { name: "small" },
  spec: { enabled: true, memory: { quantity: "4Gi" }, cpu: { cores: 2, sockets: 1, threads: 2 } }
}

const world = (
  options: { readonly supervisorKinds?: KindTable; readonly wrap?: (api: KubeApiService) => KubeApiService } = {}
) => {
  const supervisor = InMemoryCluster.make({ kinds: options.supervisorKinds })
  const remote = InMemoryCluster.make()
  supervisor.seed([namespaceObject("default"), namespaceObject("vitistack"), kubevirtConfigObject("remote-a")])
  remote.seed([namespaceObject("default"), ...kubevirtInstallation()])
  const api = makeInMemoryApi(supervisor)
  const layer = Layer.provideMerge(
    Layer.mergeAll(EventRecorder.layer, Metrics.layer, Remotes.layerFromMap({ "remote-a": makeInMemoryApi(remote) })),
    Supervisor.layer(options.wrap === undefined ? api : options.wrap(api))
  )
  return { supervisor, remote, layer }
}

const provider = (c: InMemoryCluster) => Option.getOrUndefined(c.object(refOf("MachineProvider", "kubevirt-provider")))
const phaseOf = (c: InMemoryCluster, name: string) =>
  (Option.getOrUndefined(c.object(refOf("Machine", name, "default")))?.status as { phase?: string } | undefined)?.phase

const until = (done: () => boolean, limit = 3000) =>
  Effect.gen(function* () {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
    assert.isTrue(done(), "condition not reached in virtual time")
  })

const settings = { name: "kubevirt-provider", vitistack: "vitistack" }

describe("MachineProvider in the operator", () => {
  it.effect("registered with the Vitistack's region; status from clusters and Machines, written only on change", () => {
    const w = world()
    w.supervisor.seed([
      vitistack(["some-other-provider"]),
      smallClass,
      machineObject("a", "default", { machineClass: "small", disks: [{ name: "root", sizeGB: 20, boot: true }] }),
      machineObject("b", "default")
    ])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, provider: { settings } }))
      const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
      yield* until(() => (provider(w.supervisor)?.status as any)?.activeMachines === 2)
      const mp = provider(w.supervisor)!
      assert.deepStrictEqual(mp.spec, {
        displayName: "kubevirt-provider",
        providerType: "kubevirt",
        region: "west",
        authentication: { type: "credentials" }
      })
      const status = mp.status as any
      assert.strictEqual(status.phase, "Ready")
      assert.strictEqual(status.message, "1 of 1 remote clusters ready")
      // a: small (2 cores × 1 socket × 2 threads, 4Gi) with a 20Gi disk; b: defaults (2 cores, 2Gi, 10Gi).
      assert.deepStrictEqual(status.quota, { instanceUsed: 2, cpuUsed: 6, memoryUsedGB: 6, storageUsedGB: 30 })
      assert.deepStrictEqual(status.health.serviceAvailability, { "remote-a": "Ready" })
      assert.deepStrictEqual(
        status.conditions.map((c: any) => [c.type, c.status, c.reason]),
        [["Ready", "True", "AllClustersReady"]]
      )
      const metrics = yield* Metrics
      assert.strictEqual(yield* metrics.machineProviderRegistered.value(), 1)

      // Steady state: ten more checks, no write.
      const writes = w.supervisor.writeCount("MachineProvider")
      for (let i = 0; i < 30; i++) yield* TestClock.adjust("10 seconds")
      assert.strictEqual(w.supervisor.writeCount("MachineProvider"), writes)
      assert.strictEqual(w.supervisor.requestCount({ verb: "create", kind: "MachineProvider" }), 1)

      // A third Machine: one more write, with the new counts.
      yield* (yield* Supervisor).create(refOf("Machine", "c", "default"), machineObject("c", "default"))
      yield* until(() => (provider(w.supervisor)?.status as any)?.activeMachines === 3, 1000)
      assert.strictEqual((provider(w.supervisor)!.status as any).quota.instanceUsed, 3)
      yield* Fiber.interrupt(op)
      yield* Fiber.interrupt(standin)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a Vitistack that lists it: not created; once the platform creates it, its status is kept", () => {
    const w = world()
    w.supervisor.seed([vitistack(["kubevirt-provider"])])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, provider: { settings } }))
      for (let i = 0; i < 12; i++) yield* TestClock.adjust("10 seconds")
      assert.isUndefined(provider(w.supervisor))
      assert.strictEqual(yield* (yield* Metrics).machineProviderRegistered.value(), 0)
      w.supervisor.seed([
        {
          apiVersion: "vitistack.io/v1alpha1",
          kind: "MachineProvider",
          metadata: { name: "kubevirt-provider" },
          spec: { displayName: "KubeVirt", providerType: "kubevirt", region: "west", authentication: { type: "token" } }
        }
      ])
      yield* until(() => (provider(w.supervisor)?.status as any)?.phase === "Ready", 1000)
      assert.strictEqual((provider(w.supervisor)!.spec as any).displayName, "KubeVirt")
      yield* Fiber.interrupt(op)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("no MachineProvider CRD on the supervisor: Machines run all the same; the metric says 0", () => {
    const kinds = KindTable.make(KindTable.default.all().filter((k) => k.kind !== "MachineProvider"))
    const w = world({ supervisorKinds: kinds })
    w.supervisor.seed([machineObject("a", "default")])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(
        runOperator({ settings: defaultSettings, provider: { settings: { name: "kubevirt-provider", region: "x" } } })
      )
      const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
      yield* until(() => phaseOf(w.supervisor, "a") === "Running")
      assert.strictEqual(yield* (yield* Metrics).machineProviderRegistered.value(), 0)
      yield* Fiber.interrupt(op)
      yield* Fiber.interrupt(standin)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a status write that is refused is tried again; Machines are not held up", () => {
    let allowed = false
    const w = world({
      wrap: (api) => ({
        ...api,
        updateStatus: (ref, status, opts) =>
          ref.kind === "MachineProvider" && !allowed
            ? Effect.fail(
                kubeApiError(
                  "updateStatus",
                  "MachineProvider kubevirt-provider",
                  new Forbidden({ message: "forbidden" })
                )
              )
            : api.updateStatus(ref, status, opts)
      })
    })
    w.supervisor.seed([machineObject("a", "default")])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(
        runOperator({ settings: defaultSettings, provider: { settings: { name: "kubevirt-provider", region: "x" } } })
      )
      const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
      yield* until(() => phaseOf(w.supervisor, "a") === "Running" && provider(w.supervisor) !== undefined)
      for (let i = 0; i < 6; i++) yield* TestClock.adjust("10 seconds")
      assert.isUndefined(provider(w.supervisor)?.status)
      assert.strictEqual(yield* (yield* Metrics).machineProviderRegistered.value(), 0)
      allowed = true
      yield* until(() => (provider(w.supervisor)?.status as any)?.activeMachines === 1, 1000)
      assert.strictEqual(yield* (yield* Metrics).machineProviderRegistered.value(), 1)
      yield* Fiber.interrupt(op)
      yield* Fiber.interrupt(standin)
    }).pipe(Effect.provide(w.layer))
  })
})
