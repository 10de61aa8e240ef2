/**
 * The CDI stand-in on an in-memory cluster, in virtual time: an import goes through its phases with progress and
 * leaves a PVC with the DataVolume's labels, an owner reference and the StorageProfile's modes; a URL marked bad
 * fails with CDI's reason; a VM with a dataVolume volume runs only after the import succeeded.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"
import { makeInMemoryApi } from "../../../src/effects/kube/inMemoryApi.ts"
import { runKubevirtStandIn } from "../../../src/runtime/standin/KubevirtStandIn.ts"

const dataVolume = (name: string, url: string): KubeObject => ({
  apiVersion: "cdi.kubevirt.io/v1beta1",
  kind: "DataVolume",
  metadata: { name, namespace: "default", labels: { "managed-by": "vitistack-kubevirt-operator" } },
  spec: { source: { http: { url } }, storage: { resources: { requests: { storage: "5Gi" } } } }
})
const vm = (name: string, dv: string): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name, namespace: "default" },
  spec: {
    runStrategy: "Always",
    template: {
      spec: {
        domain: { devices: { disks: [{ name: "root", disk: { bus: "virtio" } }] } },
        volumes: [{ name: "root", dataVolume: { name: dv } }]
      }
    }
  }
})
const world = () => {
  const cluster = InMemoryCluster.make()
  cluster.seed([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "local", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      provisioner: "x"
    },
    {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "StorageProfile",
      metadata: { name: "local" },
      spec: {},
      status: { claimPropertySets: [{ accessModes: ["ReadWriteOnce"], volumeMode: "Block" }] }
    }
  ])
  return cluster
}
const get = (c: InMemoryCluster, kind: "DataVolume" | "PersistentVolumeClaim" | "VirtualMachine", name: string) =>
  Option.getOrUndefined(c.object(refOf(kind, name, "default"))) as Record<string, any> | undefined
const until = (done: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500 && !done(); i++) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.yieldNow
    }
    assert.isTrue(done(), "not reached in virtual time")
  })

describe("CDI stand-in", () => {
  it.effect(
    "an import shows progress, then Succeeded, with an owned PVC in the profile's modes; the VM waits for it",
    () => {
      const c = world()
      c.seed([dataVolume("web", "https://images.example/web.qcow2"), vm("web", "web")])
      return Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(c)))
        const progress: Array<string> = []
        yield* until(() => {
          const p = get(c, "DataVolume", "web")?.status?.progress
          if (p !== undefined && progress.at(-1) !== p) progress.push(p)
          assert.notStrictEqual(
            get(c, "VirtualMachine", "web")?.status?.printableStatus,
            "Running",
            "VM ran before import"
          )
          return get(c, "DataVolume", "web")?.status?.phase === "Succeeded"
        })
        assert.include(progress, "43.20%")
        const pvc = get(c, "PersistentVolumeClaim", "web")!
        assert.deepStrictEqual(
          [
            pvc.metadata.labels["managed-by"],
            pvc.metadata.ownerReferences[0].kind,
            pvc.spec.accessModes,
            pvc.spec.volumeMode
          ],
          ["vitistack-kubevirt-operator", "DataVolume", ["ReadWriteOnce"], "Block"]
        )
        yield* until(() => get(c, "VirtualMachine", "web")?.status?.printableStatus === "Running")
        yield* Fiber.interrupt(fiber)
      })
    }
  )

  it.effect("a URL marked bad fails with CDI's reason, and its VM shows DataVolumeError", () => {
    const c = world()
    c.seed([dataVolume("db", "https://images.example/bad.qcow2"), vm("db", "db")])
    return Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(c)))
      yield* until(() => get(c, "VirtualMachine", "db")?.status?.printableStatus === "DataVolumeError")
      const dv = get(c, "DataVolume", "db")!
      assert.strictEqual(dv.status.phase, "Failed")
      assert.strictEqual(dv.status.conditions[0].reason, "Error")
      yield* Fiber.interrupt(fiber)
    })
  })
})
