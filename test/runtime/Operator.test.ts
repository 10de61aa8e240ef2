/**
 * The operator loop on in-memory clusters with the KubeVirt stand-in, on virtual time: Machines reach Running with
 * IPs and disks; a converged world stays write-free across resyncs; deletion removes VM then PVCs, keeps the
 * namespace and releases the finalizer; a VM that fails to schedule shows Failed; a Machine on a NetworkNamespace is
 * woken by its watch and runs with its recorded MAC.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { Supervisor } from "../../src/effects/Clusters.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  Forbidden,
  type KubeApiError,
  type KubeVerb,
  kubeApiError,
  Transport,
  Unauthorized
} from "../../src/effects/KubeApiError.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { runOperator } from "../../src/runtime/Operator.ts"
import { FAIL_ANNOTATION, runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import { kubevirtConfigObject, machineObject, nadObject, namespaceObject, twoClusters } from "../fixtures/world.ts"

const statusOf = (w: ReturnType<typeof twoClusters>, name: string, ns: string) =>
  Option.getOrUndefined(w.supervisor.object(refOf("Machine", name, ns)))?.status as Record<string, any> | undefined

/** Advances virtual time in small steps until `done` holds (or fails after `limit` steps). */
const until = (done: () => boolean, limit = 2000) =>
  Effect.gen(function* () {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
    assert.isTrue(done(), "condition not reached in virtual time")
  })

describe("runOperator", () => {
  it.effect(
    "Machines in default, a new namespace and a shared namespace reach Running; deletion cleans up; resync writes nothing",
    () => {
      const w = twoClusters()
      w.supervisor.seed([
        namespaceObject("my-app"),
        namespaceObject("shared"),
        machineObject("test-vm", "default"),
        machineObject("app-vm", "my-app"),
        machineObject("web", "shared"),
        machineObject("db", "shared", {
          disks: [
            { name: "root", sizeGB: 20, boot: true },
            { name: "data", sizeGB: 5 }
          ]
        })
      ])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, workers: 2, resync: "1 minute" }))
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        const all = [
          ["test-vm", "default"],
          ["app-vm", "my-app"],
          ["web", "shared"],
          ["db", "shared"]
        ] as const
        yield* until(() => all.every(([n, ns]) => statusOf(w, n, ns)?.phase === "Running"))

        const config = Option.getOrUndefined(w.supervisor.object(refOf("KubevirtConfig", "remote-a")))
        // The remote's health: KubeVirt deployed (its KubeVirt resource), VirtualMachine and DataVolume APIs served.
        assert.deepStrictEqual(config?.status, {
          name: "remote-a",
          phase: "Ready",
          status: "KubevirtDeployed",
          message:
            "KubeVirt kubevirt/kubevirt Deployed (v1.8.2); VirtualMachine kubevirt.io v1; DataVolume cdi.kubevirt.io v1beta1"
        })
        const db = statusOf(w, "db", "shared")!
        assert.isAbove(db.publicIPAddresses.length, 0)
        assert.deepStrictEqual(
          db.disks.map((d: any) => [d.pvcName, d.device]),
          [
            ["db", "/dev/vda"],
            ["db-data", "/dev/vdb"]
          ]
        )
        assert.deepStrictEqual(
          db.conditions.map((c: any) => [c.type, c.status]),
          [
            ["Ready", "True"],
            ["Placed", "True"],
            ["RemoteReachable", "True"],
            ["Planned", "True"]
          ]
        )
        // Converged: nothing left to do, and the plan hash of an empty plan.
        assert.match(db.conditions.at(-1).message, /^plan [0-9a-f]{16}: no changes; nothing to do$/)
        const namespaces = w.remote.objects({ kind: "Namespace" })
        assert.deepStrictEqual(namespaces.find((n) => n.metadata.name === "my-app")?.metadata.labels, {
          "managed-by": "vitistack-kubevirt-operator"
        })
        assert.strictEqual(namespaces.filter((n) => n.metadata.name === "shared").length, 1)

        // Steady state: two resyncs later, no write anywhere.
        yield* TestClock.adjust("5 seconds")
        const writes = [w.supervisor.writeCount(), w.remote.writeCount()]
        yield* TestClock.adjust("2 minutes")
        yield* Effect.yieldNow
        assert.deepStrictEqual([w.supervisor.writeCount(), w.remote.writeCount()], writes)
        // KubevirtConfigs come from the watch cache: listed once by the informer, not by every reconcile.
        assert.strictEqual(w.supervisor.requestCount({ verb: "list", kind: "KubevirtConfig" }), 1)

        // Deletion of one Machine in the shared namespace.
        yield* (yield* Supervisor).delete(refOf("Machine", "db", "shared"))
        yield* until(() => Option.isNone(w.supervisor.object(refOf("Machine", "db", "shared"))))
        assert.deepStrictEqual(
          w.remote.objects({ kind: "VirtualMachine", namespace: "shared" }).map((o) => o.metadata.name),
          ["web"]
        )
        assert.deepStrictEqual(
          w.remote.objects({ kind: "PersistentVolumeClaim", namespace: "shared" }).map((o) => o.metadata.name),
          ["web"]
        )
        assert.isTrue(w.remote.objects({ kind: "Namespace" }).some((n) => n.metadata.name === "shared"))
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect("a KubevirtConfig whose remote cannot be reached says so on its status", () => {
    const w = twoClusters()
    w.supervisor.seed([kubevirtConfigObject("remote-gone")])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings }))
      yield* until(
        () =>
          (Option.getOrUndefined(w.supervisor.object(refOf("KubevirtConfig", "remote-gone")))!.status as any)?.phase ===
          "Error"
      )
      const status = Option.getOrUndefined(w.supervisor.object(refOf("KubevirtConfig", "remote-gone")))?.status as any
      assert.strictEqual(status.status, "Unreachable")
      assert.include(status.message, "remote-gone")
      yield* Fiber.interrupt(op)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a VM that cannot be scheduled makes the Machine Failed with the printable status as reason", () => {
    const w = twoClusters()
    const failing = machineObject("stuck", "default")
    w.supervisor.seed([failing])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings }))
      // The stand-in fails VMs carrying the annotation: add it when the operator has created the VM.
      yield* until(() => w.remote.objects({ kind: "VirtualMachine" }).length === 1)
      const vm = w.remote.objects({ kind: "VirtualMachine" })[0]!
      const api = makeInMemoryApi(w.remote)
      yield* api.patch(refOf("VirtualMachine", vm.metadata.name, "default"), {
        metadata: { annotations: { [FAIL_ANNOTATION]: "ErrorUnschedulable" } }
      })
      const standin = yield* Effect.forkChild(runKubevirtStandIn(api))
      yield* until(() => statusOf(w, "stuck", "default")?.phase === "Failed")
      assert.strictEqual(statusOf(w, "stuck", "default")?.failureReason, "ErrorUnschedulable")
      assert.strictEqual(statusOf(w, "stuck", "default")?.state, "ErrorUnschedulable")
      yield* Fiber.interrupt(op)
      yield* Fiber.interrupt(standin)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("a Machine on a custom network waits for its NetworkAttachmentDefinition, then runs on it", () => {
    const w = twoClusters()
    w.supervisor.seed([
      machineObject("net-vm", "default", { network: { interfaces: [{ name: "lan", subnet: "vlan100" }] } })
    ])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
      const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
      yield* until(() => String(statusOf(w, "net-vm", "default")?.message).includes("default/vlan100"))
      assert.strictEqual(w.remote.objects({ kind: "VirtualMachine" }).length, 0)
      assert.strictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" }).length, 1)
      // Long enough for the per-key backoff to reach its cap (5 minutes): from here only a watch event is prompt.
      for (let i = 0; i < 60; i++) {
        yield* TestClock.adjust("10 seconds")
        yield* Effect.yieldNow
      }
      assert.strictEqual(w.remote.objects({ kind: "VirtualMachine" }).length, 0)
      // The cluster owner creates the NAD in the Machine's namespace; the NAD watch wakes the Machine.
      yield* makeInMemoryApi(w.remote).create(
        refOf("NetworkAttachmentDefinition", "vlan100", "default"),
        nadObject("vlan100", "default")
      )
      yield* until(() => statusOf(w, "net-vm", "default")?.phase === "Running", 100)
      const vm = w.remote.objects({ kind: "VirtualMachine" })[0] as any
      assert.deepStrictEqual(vm.spec.template.spec.networks, [
        { name: "default", pod: {} },
        { name: "lan", multus: { networkName: "vlan100" } }
      ])
      yield* Fiber.interrupt(op)
      yield* Fiber.interrupt(standin)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect(
    "a remote where NADs may not be listed at first is asked again: granting the right later wakes the Machine",
    () => {
      let nadListAllowed = false
      const w = twoClusters({
        wrapRemote: (api) => ({
          ...api,
          list: (kind, options) =>
            kind.kind === "NetworkAttachmentDefinition" && !nadListAllowed
              ? Effect.fail(
                  kubeApiError(
                    "list",
                    "NetworkAttachmentDefinition in all namespaces",
                    new Forbidden({ message: "cannot list networkattachmentdefinitions" })
                  )
                )
              : api.list(kind, options)
        })
      })
      w.supervisor.seed([
        machineObject("net-vm", "default", { network: { interfaces: [{ name: "lan", subnet: "vlan100" }] } })
      ])
      return Effect.gen(function* () {
        // Backoff and resync are out of the picture: only a NAD watch can bring the Machine back within the test.
        const op = yield* Effect.forkChild(
          runOperator({
            settings: defaultSettings,
            resync: "1 hour",
            queue: { baseDelay: "1 hour", maxDelay: "1 hour" }
          })
        )
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => String(statusOf(w, "net-vm", "default")?.message).includes("default/vlan100"))
        // The right is granted and the NAD created; the operator finds out at its next look (every 10 minutes).
        nadListAllowed = true
        yield* makeInMemoryApi(w.remote).create(
          refOf("NetworkAttachmentDefinition", "vlan100", "default"),
          nadObject("vlan100", "default")
        )
        yield* until(() => statusOf(w, "net-vm", "default")?.phase === "Running", 6300)
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "a Machine on a NetworkNamespace waits until its VLAN is provisioned, is woken by the NetworkNamespace's watch, and runs with the MAC its NetworkConfiguration records",
    () => {
      const w = twoClusters()
      const nn = (status?: object) => ({
        apiVersion: "vitistack.io/v1alpha1",
        kind: "NetworkNamespace",
        metadata: { name: "net", namespace: "team-a" },
        spec: { datacenterIdentifier: "dc1", supervisorIdentifier: "sup1", ipAllocation: { type: "dhcp" } },
        ...(status === undefined ? {} : { status })
      })
      w.supervisor.seed([
        namespaceObject("team-a"),
        nn(),
        machineObject("vlan-vm", "team-a", { network: { networkNamespaceName: "net" } })
      ])
      w.remote.seed([namespaceObject("team-a"), nadObject("vlan7", "team-a")])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, workers: 2 }))
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => /no VLAN in its status/.test(String(statusOf(w, "vlan-vm", "team-a")?.message)))
        // Long enough for the per-key backoff to reach its cap: only the watch can wake the Machine promptly now.
        yield* TestClock.adjust("10 minutes")
        yield* Effect.yieldNow
        w.supervisor.seed([nn({ vlanId: 7 })])
        yield* until(() => statusOf(w, "vlan-vm", "team-a")?.phase === "Running", 100)
        const nc = Option.getOrUndefined(w.supervisor.object(refOf("NetworkConfiguration", "vlan-vm", "team-a")))
        const recorded = (nc!.spec as any).networkInterfaces
        assert.strictEqual(recorded[0].name, "vlan7")
        assert.match(recorded[0].macAddress, /^02:12:/)
        const vm = Option.getOrUndefined(w.remote.object(refOf("VirtualMachine", "vlan-vm", "team-a")))
        assert.deepStrictEqual((vm!.spec as any).template.spec.networks, [
          { name: "vlan7", multus: { networkName: "vlan7" } }
        ])
        assert.strictEqual(
          (vm!.spec as any).template.spec.domain.devices.interfaces[0].macAddress,
          recorded[0].macAddress
        )
        assert.strictEqual(statusOf(w, "vlan-vm", "team-a")?.networkInterfaces[0].macAddress, recorded[0].macAddress)
        // The vitistack reads came from the watch cache: no reconcile asked the supervisor for them (lists: the probe
        // and the informer's; at most one get, a create that met its own NetworkConfiguration the cache had not seen).
        assert.strictEqual(w.supervisor.requestCount({ verb: "get", kind: "NetworkNamespace" }), 0)
        assert.isAtMost(w.supervisor.requestCount({ verb: "list", kind: "NetworkNamespace" }), 2)
        assert.isAtMost(w.supervisor.requestCount({ verb: "list", kind: "NetworkConfiguration" }), 2)
        assert.isAtMost(w.supervisor.requestCount({ verb: "get", kind: "NetworkConfiguration" }), 1)
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )
})

/** Virtual milliseconds until `done` holds, stepping 100 ms (fails after `limitMs`). */
const timeUntil = (done: () => boolean, limitMs: number) =>
  Effect.gen(function* () {
    let elapsed = 0
    while (!done() && elapsed < limitMs) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
      elapsed += 100
    }
    assert.isTrue(done(), `condition not reached within ${limitMs} ms of virtual time`)
    return elapsed
  })

/** Advances virtual time by `seconds`, in steps of 10 seconds. */
const pass = (seconds: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < seconds / 10; i++) {
      yield* TestClock.adjust("10 seconds")
      yield* Effect.yieldNow
    }
  })

const condition = (w: ReturnType<typeof twoClusters>, name: string, ns: string, type: string) =>
  (statusOf(w, name, ns)?.conditions as Array<Record<string, string>> | undefined)?.find((c) => c.type === type)

/**
 * A remote that can be switched into an outage: every request fails (connection refused, or a rejected token) and its
 * open watches end with that failure, as a real remote's would.
 */
const switchableRemote = () => {
  let mode: "ok" | "down" | "unauthorized" = "ok"
  const failure = (verb: KubeVerb, target: string) =>
    kubeApiError(
      verb,
      target,
      mode === "down"
        ? new Transport({ message: "connect ECONNREFUSED 10.0.0.1:6443" })
        : new Unauthorized({ message: "Unauthorized" })
    )
  const gate =
    (verb: KubeVerb) =>
    <A>(target: string, e: Effect.Effect<A, KubeApiError>): Effect.Effect<A, KubeApiError> =>
      Effect.suspend(() => (mode === "ok" ? e : Effect.fail(failure(verb, target))))
  const broken = (target: string): Stream.Stream<never, KubeApiError> =>
    Stream.fromEffect(
      Effect.gen(function* () {
        while (mode === "ok") yield* Effect.sleep("100 millis")
        return yield* Effect.fail(failure("watch", target))
      })
    )
  const wrap = (api: KubeApiService): KubeApiService => ({
    get: (ref) => gate("get")(ref.name, api.get(ref)),
    list: (kind, o) => gate("list")(kind.kind, api.list(kind, o)),
    create: (ref, body) => gate("create")(ref.name, api.create(ref, body)),
    patch: (ref, p, o) => gate("patch")(ref.name, api.patch(ref, p, o)),
    apply: (ref, b, o) => gate("apply")(ref.name, api.apply(ref, b, o)),
    delete: (ref, o) => gate("delete")(ref.name, api.delete(ref, o)),
    updateStatus: (ref, s, o) => gate("updateStatus")(ref.name, api.updateStatus(ref, s, o)),
    discover: (group) => gate("discover")(group, api.discover(group)),
    watch: (kind, o) =>
      Stream.unwrap(
        Effect.sync(() =>
          mode === "ok" ? Stream.merge(api.watch(kind, o), broken(kind.kind)) : Stream.fail(failure("watch", kind.kind))
        )
      )
  })
  return {
    wrap,
    set: (m: typeof mode) => {
      mode = m
    }
  }
}

describe("runOperator: status that follows the remote (issue 'Hardening', items 6, 7, 9)", () => {
  const outages = [
    { name: "the remote goes down", mode: "down", reason: "RemoteUnreadable", says: "ECONNREFUSED" },
    { name: "its token is rejected", mode: "unauthorized", reason: "RemoteUnreadable", says: "Unauthorized" }
  ] as const
  it.effect.each(outages)(
    "$name: every Machine of the cluster, converged or not, shows it at once, keeps Running, and costs one write per transition",
    ({ mode, says }) => {
      const remote = switchableRemote()
      const w = twoClusters({ wrapRemote: remote.wrap })
      const names = ["a", "b", "c"]
      w.supervisor.seed(names.map((n) => machineObject(n, "default")))
      return Effect.gen(function* () {
        // No resync and no backoff within the test: only the cluster's transition can bring converged Machines back.
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => names.every((n) => statusOf(w, n, "default")?.phase === "Running"))
        yield* pass(30)
        const converged = w.supervisor.writeCount("Machine")

        remote.set(mode)
        yield* timeUntil(
          () => names.every((n) => condition(w, n, "default", "RemoteReachable")?.status === "False"),
          60_000
        )
        for (const n of names) {
          assert.strictEqual(statusOf(w, n, "default")?.phase, "Running", `${n} keeps its last known phase`)
          assert.strictEqual(condition(w, n, "default", "Ready")?.status, "Unknown")
          assert.include(condition(w, n, "default", "RemoteReachable")?.message, says)
          assert.isAbove(statusOf(w, n, "default")?.publicIPAddresses.length, 0)
        }
        // A cluster that stays down costs nothing more: one status write per Machine for the transition.
        yield* pass(600)
        assert.strictEqual(w.supervisor.writeCount("Machine") - converged, names.length)

        remote.set("ok")
        yield* timeUntil(() => names.every((n) => condition(w, n, "default", "Ready")?.status === "True"), 120_000)
        yield* pass(600)
        for (const n of names) assert.strictEqual(condition(w, n, "default", "RemoteReachable")?.status, "True")
        assert.strictEqual(w.supervisor.writeCount("Machine") - converged, 2 * names.length)
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect("a NameClash clears within 30 s of the foreign object's deletion, however long it lasted", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("clash", "default")])
    w.remote.seed([
      {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachine",
        metadata: { name: "clash", namespace: "default", labels: { app: "someone-else" } },
        spec: { runStrategy: "Halted", template: { spec: {} } }
      }
    ])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
      const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
      yield* until(() => statusOf(w, "clash", "default")?.failureReason === "NameClash")
      yield* pass(1200)
      assert.strictEqual(statusOf(w, "clash", "default")?.failureReason, "NameClash")
      assert.strictEqual(
        w.remote.objects({ kind: "PersistentVolumeClaim" }).length,
        0,
        "nothing created while clashing"
      )
      yield* makeInMemoryApi(w.remote).delete(refOf("VirtualMachine", "clash", "default"))
      const took = yield* timeUntil(() => statusOf(w, "clash", "default")?.phase === "Running", 60_000)
      assert.isAtMost(took, 31_000)
      yield* Fiber.interrupt(op)
      yield* Fiber.interrupt(standin)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect(
    "a Forbidden namespace create is retried with backoff (design 3.3): allowed after a minute, the Machine runs within a minute",
    () => {
      let forbid = true
      const w = twoClusters({
        wrapRemote: (api) => ({
          ...api,
          create: (ref, body) =>
            ref.kind === "Namespace" && forbid
              ? Effect.fail(
                  kubeApiError(
                    "create",
                    `Namespace ${ref.name}`,
                    new Forbidden({ message: 'namespaces is forbidden: User "operator" cannot create' })
                  )
                )
              : api.create(ref, body)
        })
      })
      w.supervisor.seed([namespaceObject("team-x"), machineObject("vm", "team-x")])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => String(statusOf(w, "vm", "team-x")?.failureMessage).includes("failed to create namespace"))
        assert.match(statusOf(w, "vm", "team-x")?.message, /; retrying$/)
        yield* pass(60)
        forbid = false
        const took = yield* timeUntil(() => statusOf(w, "vm", "team-x")?.phase === "Running", 300_000)
        assert.isAtMost(took, 60_000)
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "spec.provider changed after placement: the VM is left as it is and a condition says so; deletion cleans up",
    () => {
      const w = twoClusters()
      w.supervisor.seed([
        machineObject("moved", "default", {
          disks: [
            { name: "root", sizeGB: 10, boot: true },
            { name: "data", sizeGB: 5 }
          ]
        })
      ])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => statusOf(w, "moved", "default")?.phase === "Running")
        const supervisor = yield* Supervisor
        yield* supervisor.patch(refOf("Machine", "moved", "default"), {
          spec: { provider: "proxmox", cpu: { cores: 8 } }
        })
        const vmBefore = w.remote.objects({ kind: "VirtualMachine" })[0]!.metadata.resourceVersion
        yield* until(() => condition(w, "moved", "default", "SpecApplied")?.reason === "ProviderChanged")
        yield* pass(60)
        assert.strictEqual(w.remote.objects({ kind: "VirtualMachine" })[0]!.metadata.resourceVersion, vmBefore)
        assert.strictEqual(statusOf(w, "moved", "default")?.phase, "Running")

        yield* supervisor.delete(refOf("Machine", "moved", "default"))
        yield* until(() => Option.isNone(w.supervisor.object(refOf("Machine", "moved", "default"))))
        assert.deepStrictEqual(w.remote.objects({ kind: "VirtualMachine" }), [])
        assert.deepStrictEqual(w.remote.objects({ kind: "PersistentVolumeClaim" }), [])
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )
})

describe("runOperator: tenancy (issue 'Hardening', item 10; ADR 0011)", () => {
  it.effect(
    "a namespace the KubevirtConfig does not allow gets a condition and no remote write; allowing it by a selector on its labels wakes it",
    () => {
      const w = twoClusters()
      w.supervisor.seed([
        namespaceObject("team-a"),
        namespaceObject("team-b", { tenant: "red" }),
        {
          ...kubevirtConfigObject("remote-a"),
          metadata: { name: "remote-a", annotations: { "vitistack.io/allowed-namespaces": "team-a" } }
        },
        machineObject("ok", "team-a"),
        machineObject("outside", "team-b")
      ])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => statusOf(w, "ok", "team-a")?.phase === "Running")
        yield* until(() => statusOf(w, "outside", "team-b")?.failureReason === "NamespaceNotAllowed")
        const s = statusOf(w, "outside", "team-b")!
        assert.strictEqual(s.phase, "Failed")
        assert.include(s.failureMessage, "metadata.namespace: namespace 'team-b' may not use KubevirtConfig 'remote-a'")
        assert.deepStrictEqual(
          [condition(w, "outside", "team-b", "Placed")?.status, condition(w, "outside", "team-b", "Placed")?.reason],
          ["False", "NamespaceNotAllowed"]
        )
        // Nothing remote for it: no namespace, no PVC, no VM; and its placement was not recorded.
        assert.isFalse(w.remote.objects({ kind: "Namespace" }).some((n) => n.metadata.name === "team-b"))
        assert.deepStrictEqual(w.remote.objects({ namespace: "team-b" }), [])
        const machine = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "outside", "team-b")))
        assert.isUndefined(machine?.metadata.annotations?.["vitistack.io/kubevirt-config"])

        const supervisor = yield* Supervisor
        // The cluster's owner allows namespaces labelled tenant=blue: team-b is red, so it stays outside.
        yield* supervisor.patch(refOf("KubevirtConfig", "remote-a"), {
          metadata: { annotations: { "vitistack.io/allowed-namespace-selector": "tenant=blue" } }
        })
        yield* pass(30)
        assert.strictEqual(statusOf(w, "outside", "team-b")?.failureReason, "NamespaceNotAllowed")
        assert.deepStrictEqual(w.remote.objects({ namespace: "team-b" }), [])
        // Relabelling the namespace wakes its Machines at once (no resync, and the 5-minute safety requeue is far).
        yield* supervisor.patch(refOf("Namespace", "team-b"), { metadata: { labels: { tenant: "blue" } } })
        const took = yield* timeUntil(() => statusOf(w, "outside", "team-b")?.phase === "Running", 60_000)
        assert.isAtMost(took, 5_000)
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )
})
