/**
 * The operator reading from its watch caches (ADR 0017), on in-memory clusters and virtual time:
 * - a reconcile right after a create never creates the object a second time, even when the watch is slow to deliver;
 * - a remote whose watches break has its facts Unknown once the bound has passed: no create, no delete (writes would
 *   still go through), until the watches list again; then everything converges;
 * - a converged fleet costs no request at all when it is resynced;
 * - the initial lists' garbage is collected once per cluster (compactHeap.ts), not per reconcile or resync;
 * - the watch's echo of the operator's own Machine patch wakes nothing (two reconciles for a new Machine);
 * - another provider's Machine is never reconciled, whatever wakes it (a remote object naming it, a resync);
 * - a Machine whose cluster has not been checked yet is not reconciled until the check answers, and the rechecks set
 *   meanwhile bring no reconcile after it (two reconciles each);
 * - with adoption on (ADR 0014), the Go operator's objects are read from a watch selected by its label (none per
 *   reconcile), adopted with no create and no delete, and a converged fleet's resync is still free; while that watch
 *   cannot list, the cluster's facts turn Unknown after the bound and nothing is adopted;
 * - the vitistack reads (ADR 0013) come from the NetworkNamespace and NetworkConfiguration watches: a NetworkNamespace
 *   watch broken for longer than the bound is Unknown (no VM, no NetworkConfiguration) until it lists again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Queue, Stream } from "effect"
import { TestClock } from "effect/testing"
import { GO_MANAGED_BY_DEFAULT, GO_MANAGED_BY_LABEL } from "../../src/domain/adoption.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import {
  FINALIZER,
  isOwnedBy,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PLACEMENT_ANNOTATION,
  SOURCE_MACHINE_LABEL
} from "../../src/domain/labels.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { Supervisor } from "../../src/effects/Clusters.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { Forbidden, kubeApiError } from "../../src/effects/KubeApiError.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { runOperator } from "../../src/runtime/Operator.ts"
import { runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import { type GoMachine, goMachine, goNamespace, goRemoteObjects } from "../fixtures/goOperator.ts"
import { machineObject, nadObject, namespaceObject, twoClusters } from "../fixtures/world.ts"

const statusOf = (w: ReturnType<typeof twoClusters>, name: string, ns = "default") =>
  Option.getOrUndefined(w.supervisor.object(refOf("Machine", name, ns)))?.status as Record<string, any> | undefined

const until = (done: () => boolean, limit = 3000) =>
  Effect.gen(function* () {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
    assert.isTrue(done(), "condition not reached in virtual time")
  })

const pass = (seconds: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < seconds * 10; i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
  })

/** The operator with a resync on demand and a count of its reconciles (no periodic resync or health probe). */
const operatorWithResync = (settings: Settings) =>
  Effect.gen(function* () {
    const resyncNow = yield* Queue.unbounded<void>()
    let reconciles = 0
    const fiber = yield* Effect.forkChild(
      runOperator({
        settings,
        resync: "1 hour",
        healthInterval: "1 hour",
        resyncNow,
        onReconciled: () =>
          Effect.sync(() => {
            reconciles++
          })
      })
    )
    return { fiber, resync: Queue.offer(resyncNow, undefined), reconciles: () => reconciles }
  })

describe("runOperator: reads from the watch caches (ADR 0017)", () => {
  it.effect("a reconcile right after a create never creates it a second time, though the watch lags by seconds", () => {
    // Every watch event of the remote arrives 5 s late: the confirming reconcile runs long before the VM is watched.
    const w = twoClusters({
      wrapRemote: (api) => ({
        ...api,
        watch: (kind, o) => api.watch(kind, o).pipe(Stream.tap(() => Effect.sleep("5 seconds")))
      })
    })
    w.supervisor.seed([
      machineObject("a", "default", {
        disks: [
          { name: "root", sizeGB: 5, boot: true },
          { name: "data", sizeGB: 5 }
        ]
      }),
      machineObject("b", "default")
    ])
    return Effect.gen(function* () {
      const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "1 hour" }))
      yield* until(() => ["a", "b"].every((n) => statusOf(w, n)?.phase !== undefined))
      yield* pass(30)
      assert.strictEqual(w.remote.requestCount({ verb: "create", kind: "VirtualMachine" }), 2)
      assert.strictEqual(w.remote.requestCount({ verb: "create", kind: "PersistentVolumeClaim" }), 3)
      // Nothing was asked live after a create found it existing: no AlreadyExists at all.
      assert.strictEqual(w.remote.requestCount({ verb: "get" }), 0)
      yield* Fiber.interrupt(op)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("the echo of the operator's own Machine patch wakes nothing: a new Machine takes two reconciles", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("a", "default")])
    return Effect.gen(function* () {
      const op = yield* operatorWithResync(defaultSettings)
      yield* until(() => statusOf(w, "a")?.phase !== undefined)
      yield* pass(30)
      // The one that acts (finalizer and placement, claims, VM) and the confirming one (status); the watch's echo of
      // the patch, which arrives after the write returned, adds none.
      assert.strictEqual(op.reconciles(), 2)
      assert.strictEqual(w.remote.requestCount({ verb: "create", kind: "VirtualMachine" }), 1)
      yield* Fiber.interrupt(op.fiber)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect(
    "another provider's Machine is never reconciled: not at the start, not for its remote objects, not at a resync",
    () => {
      const w = twoClusters()
      const theirs = machineObject("theirs", "default", { provider: "proxmox" })
      w.supervisor.seed([
        { ...theirs, metadata: { ...theirs.metadata, annotations: { [PLACEMENT_ANNOTATION]: "remote-a" } } },
        machineObject("ours", "default")
      ])
      // A VM on the remote that names it as its Machine, labelled as ours (the remote watch selects it).
      const vm: KubeObject = {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachine",
        metadata: {
          name: "theirs",
          namespace: "default",
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [SOURCE_MACHINE_LABEL]: "theirs" }
        },
        spec: { runStrategy: "Halted" }
      }
      w.remote.seed([vm])
      const reconciled = new Set<string>()
      return Effect.gen(function* () {
        const resyncNow = yield* Queue.unbounded<void>()
        const fiber = yield* Effect.forkChild(
          runOperator({
            settings: defaultSettings,
            resync: "1 hour",
            healthInterval: "1 hour",
            resyncNow,
            onReconciled: (key) => Effect.sync(() => void reconciled.add(key))
          })
        )
        yield* until(() => statusOf(w, "ours")?.phase !== undefined)
        yield* makeInMemoryApi(w.remote).patch(refOf("VirtualMachine", "theirs", "default"), {
          spec: { runStrategy: "Always" }
        })
        yield* Queue.offer(resyncNow, undefined)
        yield* pass(10)
        assert.deepStrictEqual([...reconciled], ["default/ours"])
        // Made ours (its provider changed): reconciled from then on.
        yield* makeInMemoryApi(w.supervisor).patch(refOf("Machine", "theirs", "default"), {
          spec: { provider: "kubevirt" }
        })
        yield* until(() => reconciled.has("default/theirs"))
        yield* Fiber.interrupt(fiber)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "Machines whose cluster is not checked yet are not reconciled: two reconciles each, none before, none after",
    () => {
      // The remote's first health check takes 5 s (its discovery answers late); the Machines exist before the start.
      const w = twoClusters({
        wrapRemote: (api) => ({ ...api, discover: (group) => Effect.delay(api.discover(group), "5 seconds") })
      })
      w.supervisor.seed(["a", "b", "c"].map((n) => machineObject(n, "default")))
      return Effect.gen(function* () {
        const op = yield* operatorWithResync(defaultSettings)
        yield* pass(4)
        assert.strictEqual(op.reconciles(), 0, "none while the cluster is not checked")
        yield* until(() => ["a", "b", "c"].every((n) => statusOf(w, n)?.phase !== undefined))
        // Long enough for any backoff or recheck timer set before the check to have fired.
        yield* pass(120)
        assert.strictEqual(op.reconciles(), 6)
        yield* Fiber.interrupt(op.fiber)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "the initial lists' garbage is collected once the supervisor's caches and once the remote's have listed",
    () => {
      const w = twoClusters()
      w.supervisor.seed([machineObject("a", "default")])
      const holder = globalThis as { gc?: ((options: unknown) => void) | undefined }
      const saved = holder.gc
      const collections: Array<unknown> = []
      holder.gc = (options) => {
        collections.push(options)
      }
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(runOperator({ settings: defaultSettings, resync: "10 seconds" }))
        yield* until(() => statusOf(w, "a")?.phase !== undefined)
        // Resyncs and reconciles afterwards collect nothing more.
        yield* pass(30)
        assert.deepStrictEqual(
          collections,
          [0, 1].map(() => ({ type: "major", execution: "sync", flavor: "last-resort" }))
        )
        yield* Fiber.interrupt(op)
      }).pipe(
        Effect.provide(w.layer),
        Effect.ensuring(
          Effect.sync(() => {
            holder.gc = saved
          })
        )
      )
    }
  )

  it.effect(
    "a broken remote watch: after the bound its facts are Unknown, so nothing is created or deleted, until it recovers",
    () => {
      let broken = false
      const forbidden = (verb: "list" | "watch", kind: string) =>
        kubeApiError(
          verb,
          `${kind} in all namespaces`,
          new Forbidden({ message: `cannot ${verb} ${kind}s: forbidden` })
        )
      // Lists and watches fail (and open watches end) while `broken`; every other request still goes through.
      const breakable = (api: KubeApiService): KubeApiService => ({
        ...api,
        list: (kind, o) =>
          Effect.suspend(() => (broken ? Effect.fail(forbidden("list", kind.kind)) : api.list(kind, o))),
        watch: (kind, o) =>
          Stream.unwrap(
            Effect.sync(() =>
              broken
                ? Stream.fail(forbidden("watch", kind.kind))
                : Stream.merge(
                    api.watch(kind, o),
                    Stream.fromEffect(
                      Effect.gen(function* () {
                        while (!broken) yield* Effect.sleep("100 millis")
                        return yield* Effect.fail(forbidden("watch", kind.kind))
                      })
                    )
                  )
            )
          )
      })
      const w = twoClusters({ wrapRemote: breakable })
      w.supervisor.seed([machineObject("a", "default")])
      const remoteNames = (kind: string) => w.remote.objects({ kind }).map((o) => o.metadata.name)
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(
          runOperator({ settings: defaultSettings, resync: "1 hour", cacheStaleAfter: "5 seconds" })
        )
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => statusOf(w, "a")?.phase === "Running")

        broken = true
        yield* pass(8)
        const supervisor = yield* Supervisor
        yield* supervisor.create(refOf("Machine", "b", "default"), machineObject("b", "default"))
        yield* supervisor.delete(refOf("Machine", "a", "default"))
        // A long outage: the informers' retries and the Machines' backoffs grow to their caps meanwhile.
        yield* pass(600)
        assert.deepStrictEqual(remoteNames("VirtualMachine"), ["a"], "b not created, a not deleted")
        assert.deepStrictEqual(remoteNames("PersistentVolumeClaim"), ["a"])
        const a = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "a", "default")))
        assert.include(a?.metadata.finalizers ?? [], FINALIZER, "a waits for its cleanup")
        const reachable = (statusOf(w, "b")?.conditions as Array<Record<string, string>> | undefined)?.find(
          (c) => c.type === "RemoteReachable"
        )
        assert.strictEqual(reachable?.status, "False")
        assert.include(reachable?.message, "forbidden")

        broken = false
        // Within the informers' capped retry (30 s, +20 % jitter) and a few reconciles: the Machines' backoffs, grown
        // during the outage, start afresh when the caches recover.
        yield* until(
          () =>
            remoteNames("VirtualMachine").join() === "b" &&
            Option.isNone(w.supervisor.object(refOf("Machine", "a", "default"))),
          450
        )
        yield* until(() => statusOf(w, "b")?.phase === "Running", 100)
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect("a full resync of a converged fleet sends no request and writes nothing", () => {
    const w = twoClusters()
    const names = ["a", "b", "c", "d"]
    w.supervisor.seed(names.map((n) => machineObject(n, "default")))
    return Effect.gen(function* () {
      const op = yield* operatorWithResync(defaultSettings)
      const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
      yield* until(() => names.every((n) => statusOf(w, n)?.phase === "Running"))
      yield* pass(5)
      yield* Fiber.interrupt(standin)
      w.supervisor.resetRequestCounts()
      w.remote.resetRequestCounts()
      const before = op.reconciles()
      yield* op.resync
      yield* until(() => op.reconciles() - before >= names.length)
      yield* pass(1)
      assert.strictEqual(w.supervisor.requestCount() + w.remote.requestCount(), 0)
      yield* Fiber.interrupt(op.fiber)
    }).pipe(Effect.provide(w.layer))
  })

  const adopting = Settings.make({ ...defaultSettings, adoptGoOperator: GO_MANAGED_BY_DEFAULT })
  const goWeb: GoMachine = {
    name: "web",
    namespace: "team-a",
    disks: [
      { name: "root", sizeGB: 20, boot: true },
      { name: "data", sizeGB: 50 }
    ]
  }
  /** Lists and watches of the Go operator's selection fail while `broken()` (and open ones end). */
  const goWatchBreakable =
    (broken: () => boolean) =>
    (api: KubeApiService): KubeApiService => {
      const isGo = (o: { readonly labelSelector?: Readonly<Record<string, string>> | undefined } | undefined) =>
        o?.labelSelector?.[GO_MANAGED_BY_LABEL] !== undefined
      const forbidden = (verb: "list" | "watch", kind: string) =>
        kubeApiError(
          verb,
          `${kind} in all namespaces`,
          new Forbidden({ message: `cannot ${verb} ${kind}s: forbidden` })
        )
      return {
        ...api,
        list: (kind, o) =>
          Effect.suspend(() => (broken() && isGo(o) ? Effect.fail(forbidden("list", kind.kind)) : api.list(kind, o))),
        watch: (kind, o) =>
          Stream.unwrap(
            Effect.sync(() =>
              !isGo(o)
                ? api.watch(kind, o)
                : broken()
                  ? Stream.fail(forbidden("watch", kind.kind))
                  : Stream.merge(
                      api.watch(kind, o),
                      Stream.fromEffect(
                        Effect.gen(function* () {
                          while (!broken()) yield* Effect.sleep("100 millis")
                          return yield* Effect.fail(forbidden("watch", kind.kind))
                        })
                      )
                    )
            )
          )
      }
    }
  const goWorld = (wrapRemote?: (api: KubeApiService) => KubeApiService) => {
    const w = twoClusters(wrapRemote === undefined ? {} : { wrapRemote })
    w.supervisor.seed([namespaceObject("team-a"), goMachine(goWeb, "remote-a")])
    w.remote.seed([goNamespace("team-a"), ...goRemoteObjects(goWeb)])
    w.remote.resetRequestCounts()
    return w
  }
  const allOurs = (w: ReturnType<typeof twoClusters>) =>
    ["VirtualMachine", "PersistentVolumeClaim"].every((kind) =>
      w.remote.objects({ kind }).every((o) => isOwnedBy(o.metadata.labels, "web"))
    )

  it.effect(
    "adoption on: the Go operator's objects come from a watch of its label (no read per reconcile), are adopted with no create or delete, and a resync is free",
    () => {
      // The operator's lists of the Go operator's selection (the stand-in lists VMs too, on its own client).
      let goLists = 0
      const w = goWorld((api) => ({
        ...api,
        list: (kind, o) =>
          Effect.suspend(() => {
            if (o?.labelSelector?.[GO_MANAGED_BY_LABEL] !== undefined) goLists++
            return api.list(kind, o)
          })
      }))
      return Effect.gen(function* () {
        const op = yield* operatorWithResync(adopting)
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* until(() => allOurs(w) && statusOf(w, "web", "team-a")?.phase === "Running")
        yield* pass(5)
        // The operator's (the stand-in creates the VMI, as KubeVirt would).
        for (const kind of ["VirtualMachine", "PersistentVolumeClaim", "DataVolume"]) {
          assert.strictEqual(w.remote.requestCount({ verb: "create", kind }), 0, kind)
          assert.strictEqual(w.remote.requestCount({ verb: "delete", kind }), 0, kind)
        }
        assert.isAbove(op.reconciles(), 2)
        // The Go operator's VMs and claims were listed once each, by their watches: none per reconcile.
        assert.strictEqual(goLists, 2)
        yield* Fiber.interrupt(standin)
        w.supervisor.resetRequestCounts()
        w.remote.resetRequestCounts()
        const before = op.reconciles()
        yield* op.resync
        yield* until(() => op.reconciles() > before)
        yield* pass(1)
        assert.strictEqual(w.supervisor.requestCount() + w.remote.requestCount(), 0)
        yield* Fiber.interrupt(op.fiber)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "adoption on: the adopted VM's running VMI keeps the Go operator's labels (until a restart) and is still read, so the Machine is Running",
    () => {
      const w = goWorld()
      const vm = w.remote.objects({ kind: "VirtualMachine" }).find((o) => o.metadata.name === "web")!
      // As KubeVirt left them under the Go operator: the VM Running, its VMI labelled from the Go template.
      w.remote.seed([
        { ...vm, status: { printableStatus: "Running", ready: true, created: true } },
        {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachineInstance",
          metadata: { name: "web", namespace: "team-a", labels: { ...vm.metadata.labels } },
          spec: { domain: { devices: {} } },
          status: {
            phase: "Running",
            interfaces: [
              { name: "default", mac: "02:12:0a:0b:0c:0d", ipAddress: "10.0.0.7", ipAddresses: ["10.0.0.7"] }
            ]
          }
        }
      ])
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(
          runOperator({ settings: adopting, resync: "1 hour", healthInterval: "1 hour" })
        )
        yield* until(() => allOurs(w) && statusOf(w, "web", "team-a")?.phase === "Running")
        assert.isFalse(
          isOwnedBy(w.remote.objects({ kind: "VirtualMachineInstance" })[0]?.metadata.labels, "web"),
          "the VMI still carries only the Go operator's labels"
        )
        assert.strictEqual(statusOf(w, "web", "team-a")?.ipAddresses?.[0], "10.0.0.7")
        yield* Fiber.interrupt(op)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "adoption on: while the Go operator's objects cannot be listed, the cluster's facts are Unknown after the bound and nothing is adopted",
    () => {
      let broken = true
      const w = goWorld(goWatchBreakable(() => broken))
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(
          runOperator({ settings: adopting, resync: "1 hour", healthInterval: "1 hour", cacheStaleAfter: "5 seconds" })
        )
        yield* pass(20)
        assert.strictEqual(w.remote.requestCount({ verb: "patch" }), 0, "nothing adopted")
        assert.strictEqual(w.remote.requestCount({ verb: "create" }), 0)
        assert.isFalse(allOurs(w))
        const reachable = (statusOf(w, "web", "team-a")?.conditions as Array<Record<string, string>> | undefined)?.find(
          (c) => c.type === "RemoteReachable"
        )
        assert.strictEqual(reachable?.status, "False")
        assert.include(reachable?.message, "forbidden")
        broken = false
        yield* until(() => allOurs(w))
        assert.strictEqual(w.remote.requestCount({ verb: "create" }), 0)
        assert.strictEqual(w.remote.requestCount({ verb: "delete" }), 0)
        yield* Fiber.interrupt(op)
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "a NetworkNamespace watch broken for longer than the bound: the Machine's vitistack facts are Unknown, nothing is created, until it lists again",
    () => {
      let broken = false
      const forbidden = (verb: "list" | "watch") =>
        kubeApiError(
          verb,
          "NetworkNamespaces in all namespaces",
          new Forbidden({ message: `cannot ${verb} NetworkNamespaces: forbidden` })
        )
      const isNn = (kind: { readonly kind: string }) => kind.kind === "NetworkNamespace"
      const w = twoClusters({
        wrapSupervisor: (api) => ({
          ...api,
          list: (kind, o) =>
            Effect.suspend(() => (broken && isNn(kind) ? Effect.fail(forbidden("list")) : api.list(kind, o))),
          watch: (kind, o) =>
            !isNn(kind)
              ? api.watch(kind, o)
              : Stream.unwrap(
                  Effect.sync(() =>
                    broken
                      ? Stream.fail(forbidden("watch"))
                      : Stream.merge(
                          api.watch(kind, o),
                          Stream.fromEffect(
                            Effect.gen(function* () {
                              while (!broken) yield* Effect.sleep("100 millis")
                              return yield* Effect.fail(forbidden("watch"))
                            })
                          )
                        )
                  )
                )
        })
      })
      w.supervisor.seed([
        namespaceObject("team-a"),
        {
          apiVersion: "vitistack.io/v1alpha1",
          kind: "NetworkNamespace",
          metadata: { name: "net", namespace: "team-a" },
          spec: { datacenterIdentifier: "dc1", supervisorIdentifier: "sup1", ipAllocation: { type: "dhcp" } },
          status: { vlanId: 7 }
        }
      ])
      w.remote.seed([namespaceObject("team-a"), nadObject("vlan7", "team-a")])
      const vms = () => w.remote.objects({ kind: "VirtualMachine" }).map((o) => o.metadata.name)
      const ncs = () => w.supervisor.objects({ kind: "NetworkConfiguration" }).map((o) => o.metadata.name)
      return Effect.gen(function* () {
        const op = yield* Effect.forkChild(
          runOperator({
            settings: defaultSettings,
            resync: "1 hour",
            healthInterval: "1 hour",
            cacheStaleAfter: "5 seconds"
          })
        )
        const standin = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(w.remote)))
        yield* pass(2)
        broken = true
        yield* pass(8)
        const supervisor = yield* Supervisor
        yield* supervisor.create(
          refOf("Machine", "vlan-vm", "team-a"),
          machineObject("vlan-vm", "team-a", { network: { networkNamespaceName: "net" } })
        )
        yield* pass(30)
        assert.deepStrictEqual(vms(), [], "no VM on an Unknown network")
        assert.deepStrictEqual(ncs(), [], "no NetworkConfiguration either")
        assert.include(JSON.stringify(statusOf(w, "vlan-vm", "team-a")), "NetworkNamespaces")
        broken = false
        yield* until(() => statusOf(w, "vlan-vm", "team-a")?.phase === "Running")
        assert.deepStrictEqual(vms(), ["vlan-vm"])
        assert.deepStrictEqual(ncs(), ["vlan-vm"])
        yield* Fiber.interrupt(op)
        yield* Fiber.interrupt(standin)
      }).pipe(Effect.provide(w.layer))
    }
  )
})
