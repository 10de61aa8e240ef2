/**
 * Observing tenancy (`observeTenancy.ts`): the KubevirtConfig's annotations and, only for a selector, the labels of
 * the Machine's namespace; from the operator's caches when it has them (no request), from the supervisor otherwise;
 * an unreadable object is Unknown, never "not restricted".
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { KubevirtConfig } from "../../src/domain/KubevirtConfig.ts"
import { Supervisor } from "../../src/effects/Clusters.ts"
import { Forbidden, kubeApiError } from "../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../src/effects/kube/inMemoryApi.ts"
import { observeTenancy, SupervisorCache } from "../../src/effects/observeTenancy.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { kubevirtConfigObject, namespaceObject } from "../fixtures/world.ts"

const SELECTOR = "vitistack.io/allowed-namespace-selector"
const machine = aMachine().inNamespace("team-b").placedOn("remote-a").build()

const supervisorWith = (annotations: Record<string, string>) => {
  const cluster = InMemoryCluster.make()
  cluster.seed([
    namespaceObject("team-b", { tenant: "blue" }),
    { ...kubevirtConfigObject("remote-a"), metadata: { name: "remote-a", annotations } }
  ])
  return cluster
}

describe("observeTenancy", () => {
  it.effect("reads the KubevirtConfig, and the namespace only when a selector needs its labels", () => {
    const cluster = supervisorWith({ "vitistack.io/allowed-namespaces": "team-a" })
    return Effect.gen(function* () {
      const t = yield* observeTenancy(machine, "remote-a")
      assert.deepStrictEqual(t, {
        _tag: "Present",
        value: { cluster: "remote-a", allowedNamespaces: "team-a" }
      })
      assert.strictEqual(cluster.requestCount({ kind: "Namespace" }), 0)
    }).pipe(Effect.provideService(Supervisor, makeInMemoryApi(cluster)))
  })

  it.effect("with a selector, the namespace's labels come along", () => {
    const cluster = supervisorWith({ [SELECTOR]: "tenant=blue" })
    return Effect.gen(function* () {
      const t = yield* observeTenancy(machine, "remote-a")
      assert.deepStrictEqual(t._tag === "Present" && t.value.namespaceLabels, {
        _tag: "Present",
        value: { tenant: "blue" }
      })
    }).pipe(Effect.provideService(Supervisor, makeInMemoryApi(cluster)))
  })

  it.effect("from the operator's caches, nothing is read", () => {
    const cluster = supervisorWith({})
    const cached = KubevirtConfig.make({
      metadata: { name: "remote-a", annotations: { [SELECTOR]: "tenant=red" } },
      spec: { secretNamespace: "vitistack", kubeconfigSecretRef: "remote-a" }
    })
    return Effect.gen(function* () {
      const t = yield* observeTenancy(machine, "remote-a").pipe(
        Effect.provideService(SupervisorCache, {
          kubevirtConfig: () => Option.some(cached),
          namespaceLabels: () => Option.some({ tenant: "green" })
        })
      )
      assert.deepStrictEqual(t, {
        _tag: "Present",
        value: {
          cluster: "remote-a",
          allowedNamespaceSelector: "tenant=red",
          namespaceLabels: { _tag: "Present", value: { tenant: "green" } }
        }
      })
      assert.strictEqual(cluster.requestCount(), 0)
    }).pipe(Effect.provideService(Supervisor, makeInMemoryApi(cluster)))
  })

  it.effect("a KubevirtConfig or namespace that cannot be read is Unknown", () => {
    const cluster = supervisorWith({ [SELECTOR]: "tenant=blue" })
    const api = makeInMemoryApi(cluster)
    const forbidden = (kind: string) => ({
      ...api,
      get: (ref: Parameters<typeof api.get>[0]) =>
        ref.kind === kind
          ? Effect.fail(kubeApiError("get", ref.name, new Forbidden({ message: "forbidden" })))
          : api.get(ref)
    })
    return Effect.gen(function* () {
      const config = yield* observeTenancy(machine, "remote-a").pipe(
        Effect.provideService(Supervisor, forbidden("KubevirtConfig"))
      )
      assert.strictEqual(config._tag, "Unknown")
      const labels = yield* observeTenancy(machine, "remote-a").pipe(
        Effect.provideService(Supervisor, forbidden("Namespace"))
      )
      assert.strictEqual(labels._tag === "Present" && labels.value.namespaceLabels?._tag, "Unknown")
    })
  })
})
