/**
 * The KubeApi contract: behaviour every layer must share with a real kube-apiserver, written once and run
 * against the in-memory layer (contract.inMemory.test.ts) and, by the harness, against a real cluster.
 * Each test works in its own fresh namespace (`ct-<test>-<random>`), so runs can share one cluster.
 * A real cluster needs the KubeVirt CRDs from shared/crds installed (the VirtualMachine test).
 */
import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, type Layer, Option, Schedule, Stream } from "effect"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { ObjectRef } from "../../../src/domain/ObjectRef.ts"
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import type { KubeApiError, KubeApiErrorReason } from "../../../src/effects/KubeApiError.ts"

export interface ContractOptions {
  /**
   * `effect` (default): `it.effect` with the TestClock, for in-process layers. `live`: `it.live` with real
   * time, for a real apiserver.
   */
  readonly runner?: "effect" | "live" | undefined
  /**
   * How to wait for what a real cluster does asynchronously (admission caches, the namespace controller).
   * Default: no waiting, the in-memory layer does it synchronously.
   */
  readonly eventually?: { readonly times: number; readonly spacing: Duration.Input } | undefined
  /** Also check that a terminating namespace disappears (needs kube-controller-manager on a real cluster). */
  readonly namespaceController?: boolean | undefined
  /** Per-test timeout in ms. */
  readonly timeout?: number | undefined
}

const CONFIGMAP = { apiVersion: "v1", kind: "ConfigMap" } as const
const PVC = { apiVersion: "v1", kind: "PersistentVolumeClaim" } as const
const FINALIZER = "contract.kubevirt-operator.test/block"

const nsRef = (name: string) => ObjectRef.make({ apiVersion: "v1", kind: "Namespace", name })
const cmRef = (namespace: string, name: string) => ObjectRef.make({ ...CONFIGMAP, namespace, name })
const pvcRef = (namespace: string, name: string) => ObjectRef.make({ ...PVC, namespace, name })

const aConfigMap = (
  namespace: string,
  name: string,
  extra: {
    readonly labels?: Record<string, string>
    readonly data?: Record<string, string>
    readonly finalizers?: ReadonlyArray<string>
  } = {}
): KubeObject => ({
  ...CONFIGMAP,
  metadata: {
    name,
    namespace,
    ...(extra.labels === undefined ? {} : { labels: extra.labels }),
    ...(extra.finalizers === undefined ? {} : { finalizers: extra.finalizers })
  },
  ...(extra.data === undefined ? {} : { data: extra.data })
})

const aPvc = (namespace: string, name: string, status?: unknown): KubeObject => ({
  ...PVC,
  metadata: { name, namespace },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  ...(status === undefined ? {} : { status })
})

const VM = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine" } as const
const vmRef = (namespace: string, name: string) => ObjectRef.make({ ...VM, namespace, name })
const aVm = (namespace: string, name: string, status?: unknown): KubeObject => ({
  ...VM,
  metadata: { name, namespace },
  spec: { runStrategy: "Halted", template: { spec: { domain: { devices: {} } } } },
  ...(status === undefined ? {} : { status })
})
const vmStatus = (o: KubeObject) => o.status as { readonly printableStatus?: string } | undefined

/** A namespace name unique to this test and run: `ct-<slug>-<6 hex>`. */
export const uniqueNamespace = (slug: string): string => `ct-${slug}-${randomBytes(3).toString("hex")}`

/** The error a failing effect ends with (fails the test if it succeeds). */
const failure = <A, R>(effect: Effect.Effect<A, KubeApiError, R>) => Effect.flip(effect)

const assertReason = (error: KubeApiError, tag: KubeApiErrorReason["_tag"]) =>
  assert.strictEqual(error.reason._tag, tag, `expected reason ${tag}, got ${error.reason._tag}: ${error.message}`)

const data = (o: KubeObject) => o.data as Record<string, string> | undefined
const status = (o: KubeObject) => o.status as { readonly phase?: string } | undefined

export const kubeApiContract = (
  name: string,
  makeLayer: () => Layer.Layer<KubeApi, unknown>,
  options: ContractOptions = {}
): void => {
  const test = options.runner === "live" ? it.live : it.effect
  const timeout = options.timeout

  /** Polls `effect` until `ok` holds (when the options allow waiting), failing with `what` otherwise. */
  function until<A, B extends A, E, R>(
    effect: Effect.Effect<A, E, R>,
    ok: (a: A) => a is B,
    what: string
  ): Effect.Effect<B, E | string, R>
  function until<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    ok: (a: A) => boolean,
    what: string
  ): Effect.Effect<A, E | string, R>
  function until<A, E, R>(effect: Effect.Effect<A, E, R>, ok: (a: A) => boolean, what: string) {
    const once = Effect.flatMap(effect, (a) => (ok(a) ? Effect.succeed(a) : Effect.fail(`not yet: ${what}`)))
    const waits = options.eventually
    return waits === undefined
      ? once
      : Effect.retry(once, { schedule: Schedule.spaced(waits.spacing), times: waits.times })
  }

  /** Creates a fresh namespace, runs `body` in it, deletes the namespace afterwards (best effort). */
  const inNamespace = <A, E>(slug: string, body: (ns: string, api: KubeApi["Service"]) => Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const api = yield* KubeApi
      const ns = uniqueNamespace(slug)
      yield* Effect.acquireRelease(
        api.create(nsRef(ns), { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }),
        () => Effect.ignore(api.delete(nsRef(ns)))
      )
      return yield* body(ns, api)
    }).pipe(Effect.provide(makeLayer()))

  describe(name, () => {
    test(
      "create, get and list by label",
      () =>
        inNamespace("crud", (ns, api) =>
          Effect.gen(function* () {
            const created = yield* api.create(
              cmRef(ns, "a1"),
              aConfigMap(ns, "a1", { labels: { app: "a" }, data: { k: "v" } })
            )
            yield* api.create(cmRef(ns, "a2"), aConfigMap(ns, "a2", { labels: { app: "a", tier: "x" } }))
            yield* api.create(cmRef(ns, "b1"), aConfigMap(ns, "b1", { labels: { app: "b" } }))
            assert.strictEqual(created.metadata.namespace, ns)
            assert.isString(created.metadata.uid)
            assert.isString(created.metadata.resourceVersion)

            const got = yield* api.get(cmRef(ns, "a1"))
            assert.isTrue(Option.isSome(got))
            const a1 = Option.getOrThrow(got)
            assert.deepStrictEqual(data(a1), { k: "v" })
            assert.strictEqual(a1.metadata.uid, created.metadata.uid)
            assert.strictEqual(a1.metadata.resourceVersion, created.metadata.resourceVersion)

            const byLabel = yield* api.list(CONFIGMAP, { namespace: ns, labelSelector: { app: "a" } })
            assert.deepStrictEqual(byLabel.items.map((o) => o.metadata.name).sort(), ["a1", "a2"])
            assert.isTrue(byLabel.resourceVersion !== "")
            for (const item of byLabel.items) {
              assert.strictEqual(item.apiVersion, "v1")
              assert.strictEqual(item.kind, "ConfigMap")
            }

            const twoLabels = yield* api.list(CONFIGMAP, { namespace: ns, labelSelector: { app: "a", tier: "x" } })
            assert.deepStrictEqual(
              twoLabels.items.map((o) => o.metadata.name),
              ["a2"]
            )

            const everywhere = yield* api.list(CONFIGMAP, { labelSelector: { app: "b" } })
            assert.deepStrictEqual(
              everywhere.items.filter((o) => o.metadata.namespace === ns).map((o) => o.metadata.name),
              ["b1"]
            )
          })
        ),
      timeout
    )

    test(
      "create of an existing name fails with AlreadyExists",
      () =>
        inNamespace("exists", (ns, api) =>
          Effect.gen(function* () {
            yield* api.create(cmRef(ns, "dup"), aConfigMap(ns, "dup"))
            const error = yield* failure(api.create(cmRef(ns, "dup"), aConfigMap(ns, "dup")))
            assertReason(error, "AlreadyExists")
            assert.isFalse(error.isRetryable)
            assert.include(error.message, `cannot create ConfigMap ${ns}/dup`)
          })
        ),
      timeout
    )

    test(
      "a missing object: get is None, patch, delete and updateStatus fail with NotFound",
      () =>
        inNamespace("missing", (ns, api) =>
          Effect.gen(function* () {
            assert.isTrue(Option.isNone(yield* api.get(cmRef(ns, "nope"))))
            assertReason(yield* failure(api.patch(cmRef(ns, "nope"), { data: { a: "b" } })), "NotFound")
            const deleted = yield* failure(api.delete(cmRef(ns, "nope")))
            assertReason(deleted, "NotFound")
            assert.include(deleted.message, `cannot delete ConfigMap ${ns}/nope`)
            assertReason(
              yield* failure(api.updateStatus(pvcRef(ns, "nope"), { phase: "Bound" }, { resourceVersion: "1" })),
              "NotFound"
            )
          })
        ),
      timeout
    )

    test(
      "an invalid name fails with Invalid",
      () =>
        inNamespace("invalid", (ns, api) =>
          Effect.gen(function* () {
            const error = yield* failure(api.create(cmRef(ns, "Not_A_Name"), aConfigMap(ns, "Not_A_Name")))
            assertReason(error, "Invalid")
            assert.isFalse(error.isRetryable)
          })
        ),
      timeout
    )

    test(
      "a stale resourceVersion gives Conflict on patch, delete and updateStatus",
      () =>
        inNamespace("conflict", (ns, api) =>
          Effect.gen(function* () {
            const v1 = yield* api.create(cmRef(ns, "c"), aConfigMap(ns, "c", { data: { n: "1" } }))
            const v2 = yield* api.patch(
              cmRef(ns, "c"),
              { data: { n: "2" } },
              { resourceVersion: v1.metadata.resourceVersion }
            )
            assert.notStrictEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion)
            assert.deepStrictEqual(data(v2), { n: "2" })

            const stalePatch = yield* failure(
              api.patch(cmRef(ns, "c"), { data: { n: "3" } }, { resourceVersion: v1.metadata.resourceVersion })
            )
            assertReason(stalePatch, "Conflict")
            assert.isTrue(stalePatch.isRetryable)
            assert.deepStrictEqual(data(Option.getOrThrow(yield* api.get(cmRef(ns, "c")))), { n: "2" })

            assertReason(
              yield* failure(api.delete(cmRef(ns, "c"), { resourceVersion: v1.metadata.resourceVersion })),
              "Conflict"
            )
            assertReason(
              yield* failure(api.delete(cmRef(ns, "c"), { uid: "00000000-dead-beef-0000-000000000000" })),
              "Conflict"
            )
            assert.isTrue(Option.isSome(yield* api.get(cmRef(ns, "c"))))

            const claim = yield* api.create(pvcRef(ns, "p"), aPvc(ns, "p"))
            yield* api.patch(pvcRef(ns, "p"), { metadata: { labels: { touched: "yes" } } })
            assertReason(
              yield* failure(
                api.updateStatus(
                  pvcRef(ns, "p"),
                  { phase: "Bound" },
                  { resourceVersion: claim.metadata.resourceVersion! }
                )
              ),
              "Conflict"
            )

            const deleted = yield* api.delete(cmRef(ns, "c"), { resourceVersion: v2.metadata.resourceVersion })
            assert.strictEqual(deleted._tag, "Deleted")
            assert.isTrue(Option.isNone(yield* api.get(cmRef(ns, "c"))))
          })
        ),
      timeout
    )

    test(
      "merge patch: maps merge, null deletes a key",
      () =>
        inNamespace("merge", (ns, api) =>
          Effect.gen(function* () {
            yield* api.create(cmRef(ns, "m"), aConfigMap(ns, "m", { labels: { keep: "1" }, data: { a: "1", b: "2" } }))
            const patched = yield* api.patch(cmRef(ns, "m"), {
              metadata: { labels: { added: "2" } },
              data: { b: null, c: "3" }
            })
            assert.deepStrictEqual(data(patched), { a: "1", c: "3" })
            assert.deepStrictEqual(patched.metadata.labels, { keep: "1", added: "2" })
            assert.deepStrictEqual(data(Option.getOrThrow(yield* api.get(cmRef(ns, "m")))), { a: "1", c: "3" })
          })
        ),
      timeout
    )

    test(
      "server-side apply creates, then updates the fields it sets",
      () =>
        inNamespace("apply", (ns, api) =>
          Effect.gen(function* () {
            const first = yield* api.apply(cmRef(ns, "s"), aConfigMap(ns, "s", { data: { a: "1" } }), {
              fieldManager: "contract-test",
              force: true
            })
            assert.deepStrictEqual(data(first), { a: "1" })
            const second = yield* api.apply(cmRef(ns, "s"), aConfigMap(ns, "s", { data: { a: "2", b: "3" } }), {
              fieldManager: "contract-test",
              force: true
            })
            assert.deepStrictEqual(data(second), { a: "2", b: "3" })
            assert.strictEqual(second.metadata.uid, first.metadata.uid)
          })
        ),
      timeout
    )

    test(
      "create in a missing namespace fails with NotFound naming the namespace",
      () =>
        Effect.gen(function* () {
          const api = yield* KubeApi
          const ns = uniqueNamespace("absent")
          const error = yield* failure(api.create(cmRef(ns, "x"), aConfigMap(ns, "x")))
          assertReason(error, "NotFound")
          assert.include(error.reason.message, `namespaces "${ns}" not found`)
          assert.include(error.message, `cannot create ConfigMap ${ns}/x`)
        }).pipe(Effect.provide(makeLayer())),
      timeout
    )

    test(
      "finalizers block deletion until the last one is removed",
      () =>
        inNamespace("finalizers", (ns, api) =>
          Effect.gen(function* () {
            yield* api.create(cmRef(ns, "f"), aConfigMap(ns, "f", { finalizers: [FINALIZER] }))
            const deleting = yield* api.delete(cmRef(ns, "f"))
            assert.strictEqual(deleting._tag, "Finalizing")

            const held = Option.getOrThrow(yield* api.get(cmRef(ns, "f")))
            assert.isString(held.metadata.deletionTimestamp)
            assert.deepStrictEqual(held.metadata.finalizers, [FINALIZER])

            const again = yield* api.delete(cmRef(ns, "f"))
            assert.strictEqual(again._tag, "Finalizing")

            assertReason(
              yield* failure(api.patch(cmRef(ns, "f"), { metadata: { finalizers: [FINALIZER, "another/one"] } })),
              "Invalid"
            )

            const current = Option.getOrThrow(yield* api.get(cmRef(ns, "f")))
            assert.strictEqual(current.metadata.uid, held.metadata.uid)
            yield* api.patch(
              cmRef(ns, "f"),
              { metadata: { finalizers: null } },
              { resourceVersion: current.metadata.resourceVersion }
            )
            yield* until(api.get(cmRef(ns, "f")), Option.isNone, "finalized object disappears")
          })
        ),
      timeout
    )

    test(
      "a terminating namespace refuses creates with Forbidden",
      () =>
        Effect.gen(function* () {
          const api = yield* KubeApi
          const ns = uniqueNamespace("terminating")
          yield* api.create(nsRef(ns), { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
          yield* api.create(cmRef(ns, "held"), aConfigMap(ns, "held", { finalizers: [FINALIZER] }))
          const deleting = yield* api.delete(nsRef(ns))
          assert.strictEqual(deleting._tag, "Finalizing")

          // Admission reads an informer cache: until it sees the deletion, creates may still be admitted.
          const attempt = api.create(cmRef(ns, "late"), aConfigMap(ns, "late")).pipe(
            Effect.flatMap(() => Effect.andThen(Effect.ignore(api.delete(cmRef(ns, "late"))), Effect.fail("admitted"))),
            Effect.flip
          )
          const refused = yield* until(
            attempt,
            (e): e is KubeApiError => typeof e !== "string" && e.reason._tag === "Forbidden",
            "create refused"
          )
          assert.include(refused.message, `cannot create ConfigMap ${ns}/late`)
          assert.include(refused.reason.message, "being terminated")

          if (options.namespaceController !== false) {
            yield* until(
              api.get(cmRef(ns, "held")),
              (o) => Option.isSome(o) && o.value.metadata.deletionTimestamp !== undefined,
              "namespace controller marks the held object deleted"
            )
          }
          yield* api.patch(cmRef(ns, "held"), { metadata: { finalizers: null } })
          if (options.namespaceController !== false) {
            yield* until(api.get(nsRef(ns)), Option.isNone, "namespace disappears")
          }
        }).pipe(Effect.provide(makeLayer())),
      timeout
    )

    test(
      "status subresource: create and patch ignore .status, updateStatus replaces only .status",
      () =>
        inNamespace("status", (ns, api) =>
          Effect.gen(function* () {
            const created = yield* api.create(pvcRef(ns, "p"), aPvc(ns, "p", { phase: "Lost" }))
            assert.notStrictEqual(status(created)?.phase, "Lost")

            const patched = yield* api.patch(pvcRef(ns, "p"), {
              metadata: { labels: { l: "1" } },
              status: { phase: "Lost" }
            })
            assert.notStrictEqual(status(patched)?.phase, "Lost")
            assert.deepStrictEqual(patched.metadata.labels, { l: "1" })

            const updated = yield* api.updateStatus(
              pvcRef(ns, "p"),
              { phase: "Bound" },
              { resourceVersion: patched.metadata.resourceVersion! }
            )
            assert.deepStrictEqual(updated.status, { phase: "Bound" })
            assert.deepStrictEqual(updated.metadata.labels, { l: "1" })
            assert.deepStrictEqual(updated.spec, patched.spec)
            assert.notStrictEqual(updated.metadata.resourceVersion, patched.metadata.resourceVersion)

            const reread = Option.getOrThrow(yield* api.get(pvcRef(ns, "p")))
            assert.strictEqual(status(reread)?.phase, "Bound")
          })
        ),
      timeout
    )

    test(
      "custom resource (VirtualMachine): .status is a subresource, updateStatus replaces it, generation follows spec",
      () =>
        inNamespace("crd", (ns, api) =>
          Effect.gen(function* () {
            const ref = vmRef(ns, "vm")
            const created = yield* api.create(ref, aVm(ns, "vm", { printableStatus: "Running" }))
            assert.isUndefined(vmStatus(created)?.printableStatus)
            assert.strictEqual(created.metadata.generation, 1)

            const relabeled = yield* api.patch(ref, { metadata: { labels: { a: "b" } } })
            assert.strictEqual(relabeled.metadata.generation, 1)
            const started = yield* api.patch(ref, {
              spec: { runStrategy: "Always" },
              status: { printableStatus: "Lost" }
            })
            assert.strictEqual(started.metadata.generation, 2)
            assert.isUndefined(vmStatus(started)?.printableStatus)

            const first = yield* api.updateStatus(
              ref,
              { printableStatus: "Stopped", ready: false },
              {
                resourceVersion: started.metadata.resourceVersion!
              }
            )
            assert.deepStrictEqual(first.status, { printableStatus: "Stopped", ready: false })
            assert.strictEqual(first.metadata.generation, 2)
            assert.strictEqual((first.spec as { readonly runStrategy?: string }).runStrategy, "Always")

            const second = yield* api.updateStatus(
              ref,
              { printableStatus: "Running" },
              {
                resourceVersion: first.metadata.resourceVersion!
              }
            )
            assert.deepStrictEqual(second.status, { printableStatus: "Running" }, "status is replaced, not merged")

            assert.isTrue(Option.isNone(yield* api.get(vmRef(ns, "absent"))))
          })
        ),
      timeout
    )

    test(
      "watch from a list's resourceVersion delivers ADDED, MODIFIED, DELETED",
      () =>
        inNamespace("watch", (ns, api) =>
          Effect.gen(function* () {
            yield* api.create(cmRef(ns, "other"), aConfigMap(ns, "other", { labels: { app: "no" } }))
            const listed = yield* api.list(CONFIGMAP, { namespace: ns, labelSelector: { app: "w" } })
            const events = yield* api
              .watch(CONFIGMAP, { namespace: ns, labelSelector: { app: "w" }, resourceVersion: listed.resourceVersion })
              .pipe(
                Stream.filter((e) => e.type !== "BOOKMARK"),
                Stream.take(3),
                Stream.runCollect,
                Effect.forkChild
              )
            const created = yield* api.create(cmRef(ns, "w1"), aConfigMap(ns, "w1", { labels: { app: "w" } }))
            yield* api.patch(cmRef(ns, "other"), { data: { ignored: "yes" } })
            yield* api.patch(
              cmRef(ns, "w1"),
              { data: { x: "1" } },
              { resourceVersion: created.metadata.resourceVersion }
            )
            yield* api.delete(cmRef(ns, "w1"))
            const seen = Chunk.toReadonlyArray(Chunk.fromIterable(yield* Fiber.join(events)))
            assert.deepStrictEqual(
              seen.map((e) => [e.type, e.object.metadata.name]),
              [
                ["ADDED", "w1"],
                ["MODIFIED", "w1"],
                ["DELETED", "w1"]
              ]
            )
            assert.deepStrictEqual(data(seen[1]!.object), { x: "1" })
          })
        ),
      timeout
    )

    test(
      "watch without a resourceVersion starts with ADDED for existing objects",
      () =>
        inNamespace("watchinit", (ns, api) =>
          Effect.gen(function* () {
            yield* api.create(cmRef(ns, "e1"), aConfigMap(ns, "e1"))
            yield* api.create(cmRef(ns, "e2"), aConfigMap(ns, "e2"))
            const events = yield* api.watch(CONFIGMAP, { namespace: ns }).pipe(
              Stream.filter((e) => e.type !== "BOOKMARK"),
              Stream.take(2),
              Stream.runCollect
            )
            assert.deepStrictEqual([...events].map((e) => [e.type, e.object.metadata.name]).sort(), [
              ["ADDED", "e1"],
              ["ADDED", "e2"]
            ])
          })
        ),
      timeout
    )

    test(
      "discovery lists a group's served versions and their resources (no subresources); an unserved group is none",
      () =>
        Effect.gen(function* () {
          const api = yield* KubeApi
          const kubevirt = Option.getOrThrow(yield* api.discover("kubevirt.io"))
          const v1 = kubevirt.find((v) => v.version === "v1")
          assert.deepStrictEqual(
            v1?.resources.find((r) => r.name === "virtualmachines"),
            { name: "virtualmachines", kind: "VirtualMachine", namespaced: true }
          )
          assert.isTrue(v1?.resources.some((r) => r.name === "kubevirts"))
          assert.isFalse(kubevirt.some((v) => v.resources.some((r) => r.name.includes("/"))))
          assert.isTrue(Option.isNone(yield* api.discover("no-such-group.kubevirt-operator.test")))
        }).pipe(Effect.provide(makeLayer())),
      timeout
    )
  })
}

/** Spacing and attempts suited to a real apiserver (informer caches, namespace controller). */
export const liveEventually = { times: 180, spacing: Duration.millis(500) } as const
