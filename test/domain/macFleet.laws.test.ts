/**
 * The fleet law of stable MACs (ADR 0013): in a generated fleet of Machines on one VLAN, reconciled in any order, two
 * at a time (both observe before either writes), with the watch cache lagging behind the writes, no two Machines ever
 * end up with one MAC, and every VM has the MAC its NetworkConfiguration records. Collisions are forced: the fleet is
 * drawn from Machine names whose SHA-256 derivations really collide (found by search, checked below), so the second
 * Machine of a pair must take the next derivation. The planner is the real one; the fleet's index is the operator's
 * own cache (`NetworkCacheStore`), whose claim is what the executors do before they write.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { absent, present } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import type { Machine } from "../../src/domain/Machine.ts"
import { deriveMac } from "../../src/domain/macAddress.ts"
import { networkConfigurationManifest } from "../../src/domain/manifests/NetworkConfiguration.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import { refKey } from "../../src/domain/ObjectRef.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { answerFromObjects, remoteStateFromObjects } from "../../src/domain/observedFromObjects.ts"
import type { Plan } from "../../src/domain/Plan.ts"
import { plan } from "../../src/domain/planner.ts"
import type { Query } from "../../src/domain/reads.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import {
  macOwnerReadsFor,
  vitistackFactsFrom,
  vitistackQueries,
  vitistackReads,
  withMacOwners
} from "../../src/domain/vitistackReads.ts"
import { NetworkCacheStore } from "../../src/effects/NetworkCache.ts"
import { aNetworkNamespace } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { RUNS } from "../fixtures/arbitraries.ts"

const NS = "team-a"
const CLUSTER = "remote-a"
const IFACE = "vlan2101"
const derive = (machine: string, counter: number) =>
  deriveMac({ cluster: CLUSTER, namespace: NS, machine, iface: IFACE }, counter, "12")

/** Names whose derivations collide: [a, counter of a, b, counter of b]. */
const COLLISIONS: ReadonlyArray<readonly [string, number, string, number]> = [
  ["m-5939", 0, "m-82191", 0],
  ["m-95367", 0, "m-137839", 0],
  ["m-20048", 0, "m-159605", 0],
  ["m-14536", 1, "m-39193", 0],
  ["m-13823", 0, "m-61315", 1],
  ["m-23276", 1, "m-99411", 0],
  ["m-27748", 1, "m-119063", 0],
  ["m-83609", 1, "m-138966", 0]
]
const NAMES = [...new Set(COLLISIONS.flatMap(([a, , b]) => [a, b]))]

const NN = aNetworkNamespace("net", NS, { vlanId: 2101 })
const remoteBase: ReadonlyArray<KubeObject> = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
  { apiVersion: "k8s.cni.cncf.io/v1", kind: "NetworkAttachmentDefinition", metadata: { name: IFACE, namespace: NS } }
]

const machineNamed = (name: string): Machine =>
  aMachine()
    .named(name)
    .inNamespace(NS)
    .withFinalizer()
    .placedOn(CLUSTER)
    .withSpec({ network: { networkNamespaceName: "net" } })
    .build()

/** The fleet: the apiserver's NetworkConfigurations and VMs, and the operator's cache, fed by a lagging watch. */
class Fleet {
  readonly cache = new NetworkCacheStore()
  readonly ncs = new Map<string, KubeObject>()
  readonly vms = new Map<string, KubeObject>()
  private pending: Array<KubeObject> = []
  constructor() {
    this.cache.upsert(NN)
    this.cache.synced("NetworkNamespace")
    this.cache.synced("NetworkConfiguration")
  }
  /** The watch catches up. */
  deliver() {
    for (const o of this.pending) this.cache.upsert(o)
    this.pending = []
  }
  /** What observe gathers for a Machine: the vitistack reads from the cache, the remote from the VMs. */
  observe(m: Machine): ObservedState {
    const answer = (q: Query) => this.cache.answer(q) ?? answerFromObjects([])(q)
    const reads = vitistackReads(m)!
    const first = vitistackFactsFrom(reads, vitistackQueries(reads).map(answer))
    const vm = this.vms.get(m.metadata.name)
    const remote = remoteStateFromObjects(
      m,
      CLUSTER,
      [...remoteBase, ...(vm === undefined ? [] : [vm])],
      defaultSettings,
      first
    )
    const owners = macOwnerReadsFor(m, first, CLUSTER, defaultSettings, remote)
    return ObservedState.make({
      kubevirtConfigs: present([CLUSTER]),
      machineClass: absent,
      vmSearch: [],
      remote: present(remote),
      vitistack: owners === undefined ? first : withMacOwners(first, owners.fact(owners.queries.map(answer)))
    })
  }
  /** Executes a plan as the executors do: a NetworkConfiguration write claims its MACs first; a failure stops it. */
  execute(p: Plan) {
    for (const a of p.actions) {
      if (a._tag === "CreateNetworkConfiguration" || a._tag === "PatchNetworkConfiguration") {
        const key = refKey(a.target)
        if (
          this.cache.claim(
            key,
            a.after.interfaces.map((i) => i.macAddress)
          ) !== undefined
        )
          return
        if (a._tag === "PatchNetworkConfiguration" || !this.ncs.has(key)) {
          const o = {
            ...networkConfigurationManifest(a.after),
            metadata: { ...networkConfigurationManifest(a.after).metadata, resourceVersion: "1" }
          }
          this.ncs.set(key, o)
          this.pending.push(o)
        }
      }
      if (a._tag === "CreateVirtualMachine" && !this.vms.has(a.target.name))
        this.vms.set(a.target.name, {
          ...vmManifest(a.after),
          metadata: { ...vmManifest(a.after).metadata, resourceVersion: "1" }
        })
    }
  }
}

const vmMac = (vm: KubeObject): string =>
  (vm.spec as any).template.spec.domain.devices.interfaces[0].macAddress as string
const ncMac = (nc: KubeObject): string => (nc.spec as any).networkInterfaces[0].macAddress as string

describe("stable MACs across a fleet", () => {
  it("the fleet's names really collide (SHA-256 derivations, found by search)", () => {
    for (const [a, ca, b, cb] of COLLISIONS) assert.strictEqual(derive(a, ca), derive(b, cb), `${a}#${ca} = ${b}#${cb}`)
  })

  it("never two Machines with one MAC: any order, two at a time, a lagging cache; every VM has its recorded MAC", () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(NAMES, { minLength: 2 }),
        fc.array(fc.record({ i: fc.nat(), j: fc.nat(), together: fc.boolean(), deliver: fc.boolean() }), {
          maxLength: 40
        }),
        (names, schedule) => {
          const fleet = new Fleet()
          const machines = names.map(machineNamed)
          for (const step of schedule) {
            const a = machines[step.i % machines.length]!
            const b = machines[step.j % machines.length]!
            if (step.together) {
              // Both observe before either writes: the claim decides who keeps a MAC both planned.
              const pa = plan({ machine: a, observed: fleet.observe(a), settings: defaultSettings })
              const pb = plan({ machine: b, observed: fleet.observe(b), settings: defaultSettings })
              fleet.execute(pa)
              fleet.execute(pb)
            } else fleet.execute(plan({ machine: a, observed: fleet.observe(a), settings: defaultSettings }))
            if (step.deliver) fleet.deliver()
          }
          // Then every Machine is reconciled until it has its VM.
          for (let pass = 0; pass < 4; pass++)
            for (const m of machines) {
              fleet.deliver()
              fleet.execute(plan({ machine: m, observed: fleet.observe(m), settings: defaultSettings }))
            }
          assert.strictEqual(fleet.vms.size, machines.length, "every Machine got its VM")
          const macs = [...fleet.vms.values()].map(vmMac)
          assert.strictEqual(new Set(macs).size, macs.length, `two VMs share a MAC: ${macs.join(" ")}`)
          const recorded = [...fleet.ncs.values()].map(ncMac)
          assert.strictEqual(new Set(recorded).size, recorded.length, "two NetworkConfigurations share a MAC")
          for (const m of machines)
            assert.strictEqual(
              vmMac(fleet.vms.get(m.metadata.name)!),
              ncMac(fleet.ncs.get(refKey(m.metadata))!),
              `${m.metadata.name}: the VM has the recorded MAC`
            )
        }
      ),
      // Each run is a whole fleet's life (about 150 plans): a tenth of the law runs, at least 50.
      { numRuns: Math.max(50, Math.floor(RUNS / 10)) }
    )
  }, 120_000)
})
