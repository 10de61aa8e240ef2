/**
 * The Adopt executors on the in-memory remote (ADR 0014): our labels are merged into the Go operator's object and
 * nothing else changes; an object changed since it was observed is not adopted (Conflict), so a stale plan never
 * takes over what someone relabelled or replaced in between.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ActionOf } from "../../../src/domain/Action.ts"
import { ownerLabels } from "../../../src/domain/labels.ts"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { executeAdoptDataVolume } from "../../../src/effects/executors/AdoptDataVolume.ts"
import { executeAdoptPvc } from "../../../src/effects/executors/AdoptPvc.ts"
import { executeAdoptVirtualMachine } from "../../../src/effects/executors/AdoptVirtualMachine.ts"
import { goIsoDataVolume, goNamespace, goRemoteObjects } from "../../fixtures/goOperator.ts"
import { onVirtualTime } from "../../fixtures/virtualTime.ts"
import { twoClusters } from "../../fixtures/world.ts"

const machine = { name: "talos-1", namespace: "team-a", iso: "https://cd.example/talos.iso" }

const seeded = () => {
  const w = twoClusters()
  w.remote.seed([goNamespace("team-a"), ...goRemoteObjects(machine)])
  const vm = w.remote.objects({ kind: "VirtualMachine" })[0]!
  w.remote.seed([goIsoDataVolume(machine, vm.metadata.uid!)!])
  const rv = (kind: string) => w.remote.objects({ kind })[0]!.metadata.resourceVersion!
  return { w, rv }
}

const adoption = <T extends "AdoptVirtualMachine" | "AdoptPvc" | "AdoptDataVolume">(
  tag: T,
  kind: "VirtualMachine" | "PersistentVolumeClaim" | "DataVolume",
  name: string,
  resourceVersion: string
) =>
  ({
    _tag: tag,
    cluster: "remote-a",
    target: refOf(kind, name, "team-a"),
    labels: ownerLabels("talos-1"),
    annotations: {},
    resourceVersion,
    reason: "test"
  }) as ActionOf<T>

/** An object without its metadata's bookkeeping and our labels: what adopting must leave as it was. */
const untouched = (o: unknown) => {
  const { metadata, ...rest } = o as { metadata: Record<string, unknown> }
  const { resourceVersion: _rv, managedFields: _mf, labels, ...meta } = metadata
  const { "managed-by": _m, "source-machine": _s, ...others } = labels as Record<string, string>
  return JSON.stringify({ ...rest, metadata: { ...meta, labels: others } })
}

describe("the Adopt executors", () => {
  it.effect("add our labels to the VM, its claim and its ISO DataVolume; nothing else changes", () => {
    const { w, rv } = seeded()
    const before = ["VirtualMachine", "PersistentVolumeClaim", "DataVolume"].map((kind) =>
      untouched(w.remote.objects({ kind })[0])
    )
    return Effect.gen(function* () {
      yield* executeAdoptVirtualMachine(
        adoption("AdoptVirtualMachine", "VirtualMachine", "talos-1", rv("VirtualMachine"))
      )
      yield* executeAdoptPvc(adoption("AdoptPvc", "PersistentVolumeClaim", "talos-1", rv("PersistentVolumeClaim")))
      yield* executeAdoptDataVolume(adoption("AdoptDataVolume", "DataVolume", "talos-1-iso", rv("DataVolume")))
      for (const [i, kind] of ["VirtualMachine", "PersistentVolumeClaim", "DataVolume"].entries()) {
        const o = w.remote.objects({ kind })[0]!
        assert.deepStrictEqual(o.metadata.labels, {
          ...o.metadata.labels,
          "vitistack.io/managed-by": "kubevirt-operator",
          "vitistack.io/source-machine": "talos-1",
          "managed-by": "vitistack-kubevirt-operator",
          "source-machine": "talos-1"
        })
        assert.strictEqual(untouched(o), before[i], `${kind}: only labels added`)
      }
      assert.strictEqual(w.remote.requestCount({ verb: "create" }) + w.remote.requestCount({ verb: "delete" }), 0)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("an object changed since it was observed is not adopted: Conflict, and it stays as it is", () => {
    const { w, rv } = seeded()
    const observed = rv("VirtualMachine")
    const snapshot = () => JSON.stringify(w.remote.objects({ kind: "VirtualMachine" }))
    return Effect.gen(function* () {
      // Someone relabels the VM between observe and execute.
      yield* Effect.sync(() => {
        const vm = w.remote.objects({ kind: "VirtualMachine" })[0]!
        w.remote.seed([{ ...vm, metadata: { ...vm.metadata, labels: { app: "theirs" } } }])
      })
      const after = snapshot()
      const error = yield* Effect.flip(
        onVirtualTime(
          executeAdoptVirtualMachine(adoption("AdoptVirtualMachine", "VirtualMachine", "talos-1", observed))
        )
      )
      assert.strictEqual(error._tag === "KubeApiError" && error.reason._tag, "Conflict")
      assert.strictEqual(snapshot(), after)
    }).pipe(Effect.provide(w.layer))
  })
})
