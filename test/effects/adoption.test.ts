/**
 * observe → plan → execute on the Go operator's objects in memory (ADR 0014): with adoption on, a Machine it made
 * converges with no create and no delete on the remote, its objects carry our labels, and its VM is patched like any
 * of ours; with adoption off, nothing of the Go operator's is written at all.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { GO_MANAGED_BY_DEFAULT } from "../../src/domain/adoption.ts"
import { isOwnedBy } from "../../src/domain/labels.ts"
import { observeVm } from "../../src/domain/manifests/VirtualMachine.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { type GoMachine, goIsoDataVolume, goMachine, goNamespace, goRemoteObjects } from "../fixtures/goOperator.ts"
import { onVirtualTime } from "../fixtures/virtualTime.ts"
import { namespaceObject, reconcileOnce, twoClusters } from "../fixtures/world.ts"

const adopting = Settings.make({ ...defaultSettings, adoptGoOperator: GO_MANAGED_BY_DEFAULT })
const machines: ReadonlyArray<GoMachine> = [
  {
    name: "web",
    namespace: "team-a",
    disks: [
      { name: "root", sizeGB: 20, boot: true },
      { name: "data", sizeGB: 50 }
    ]
  },
  { name: "talos-1", namespace: "team-a", iso: "https://cd.example/talos.iso" }
]

const goWorld = () => {
  const w = twoClusters()
  w.supervisor.seed([namespaceObject("team-a"), ...machines.map((m) => goMachine(m, "remote-a"))])
  w.remote.seed([goNamespace("team-a"), ...machines.flatMap((m) => goRemoteObjects(m))])
  for (const m of machines) {
    const vm = w.remote.objects({ kind: "VirtualMachine" }).find((o) => o.metadata.name === m.name)!
    const iso = goIsoDataVolume(m, vm.metadata.uid!)
    if (iso !== undefined) w.remote.seed([{ ...iso, status: { phase: "Succeeded", progress: "100.0%" } }])
  }
  w.remote.resetRequestCounts()
  return w
}

/** Reconciles every Machine until none has anything left to do; the tags planned, round by round. */
const converge = (settings: Settings) =>
  Effect.gen(function* () {
    const rounds: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < 6; i++) {
      const planned: Array<string> = []
      for (const m of machines) {
        const r = yield* reconcileOnce(m.name, m.namespace, settings)
        for (const a of r?.plan.actions ?? []) planned.push(a._tag)
      }
      if (planned.length === 0) break
      rounds.push(planned)
    }
    return rounds
  })

describe("adopting the Go operator's objects (in memory)", () => {
  it.effect("adopts, then patches like ours: no create, no delete on the remote; our labels on everything", () => {
    const w = goWorld()
    return Effect.gen(function* () {
      const rounds = yield* onVirtualTime(converge(adopting))
      assert.deepStrictEqual(rounds, [
        ["AdoptVirtualMachine", "AdoptPvc", "AdoptPvc", "AdoptVirtualMachine", "AdoptPvc", "AdoptDataVolume"],
        ["PatchVirtualMachine", "PatchVirtualMachine"]
      ])
      assert.strictEqual(w.remote.requestCount({ verb: "create" }), 0)
      assert.strictEqual(w.remote.requestCount({ verb: "delete" }), 0)
      for (const kind of ["VirtualMachine", "PersistentVolumeClaim", "DataVolume"])
        for (const o of w.remote.objects({ kind }))
          assert.isTrue(isOwnedBy(o.metadata.labels, o.metadata.labels?.["vitistack.io/source-machine"] ?? ""), kind)
      const talos = w.remote.objects({ kind: "VirtualMachine" }).find((o) => o.metadata.name === "talos-1")!
      // The patch: ht disabled (takes effect at the guest's next restart), the ISO template gone with the DataVolume
      // kept, the MAC the Go operator gave the interface left in place.
      assert.deepStrictEqual(observeVm(talos).spec.cpu.features, [{ name: "ht", policy: "disable" }])
      assert.isUndefined((talos.spec as { dataVolumeTemplates?: unknown }).dataVolumeTemplates)
      assert.strictEqual(w.remote.objects({ kind: "DataVolume" }).length, 1)
      const iface = (talos.spec as any).template.spec.domain.devices.interfaces[0]
      assert.strictEqual(iface.macAddress, "02:12:0a:0b:0c:0d")
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("without the setting, nothing of the Go operator's is written: a name clash on each Machine", () => {
    const w = goWorld()
    return Effect.gen(function* () {
      const before = JSON.stringify(w.remote.objects({}))
      for (const m of machines) {
        const r = yield* reconcileOnce(m.name, m.namespace, defaultSettings)
        assert.isTrue(r?.plan.diagnostics.some((d) => d.reason === "NameClash"))
      }
      assert.strictEqual(w.remote.writeCount(), 0)
      assert.strictEqual(JSON.stringify(w.remote.objects({})), before)
    }).pipe(Effect.provide(w.layer))
  })
})
