/**
 * What the watch caches keep of each object is invisible to the domain's observers (ADR 0017): for every kind the
 * operator caches, the observer of the slim object equals the observer of the full one, whatever else the object
 * carries (managedFields, kubectl's last-applied copy, status fields nobody reads, random extra fields). And the slim
 * objects are smaller.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { desiredFor } from "../../../src/domain/desired.ts"
import { absent } from "../../../src/domain/Fact.ts"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { ownerAnnotations, ownerLabels } from "../../../src/domain/labels.ts"
import type { Machine } from "../../../src/domain/Machine.ts"
import { observeDataVolume } from "../../../src/domain/manifests/DataVolume.ts"
import { observePvc, pvcManifest } from "../../../src/domain/manifests/Pvc.ts"
import { observeVm, observeVmi, vmManifest } from "../../../src/domain/manifests/VirtualMachine.ts"
import { namespaceReads } from "../../../src/domain/namespace.ts"
import { Kinds } from "../../../src/domain/ObjectRef.ts"
import type { KindOf } from "../../../src/domain/reads.ts"
import { defaultSettings } from "../../../src/domain/Settings.ts"
import { LAST_APPLIED_ANNOTATION, slimFor } from "../../../src/effects/cache/slim.ts"
import { scenario } from "../../fixtures/arbitraries.ts"

const anyMachine: fc.Arbitrary<Machine> = scenario.map((s) => s.machine)
const desiredObjects = (m: Machine) => {
  const d = desiredFor(m, absent, defaultSettings)
  return d._tag === "Ok" ? d.desired : undefined
}

const json = fc.jsonValue({ maxDepth: 3 })

/** `o` with what a real apiserver and other writers add: managedFields, a last-applied copy, extra fields. */
const noisy = (o: KubeObject) =>
  fc
    .record({
      managedFields: fc.array(json, { maxLength: 3 }),
      lastApplied: fc.boolean(),
      extraStatus: fc.dictionary(fc.constantFrom("conditions", "foo", "volumeSnapshotStatuses"), json),
      extraTop: fc.dictionary(fc.constantFrom("extra", "zzz"), json)
    })
    .map(
      ({ managedFields, lastApplied, extraStatus, extraTop }): KubeObject => ({
        ...o,
        ...extraTop,
        metadata: {
          ...o.metadata,
          managedFields,
          annotations: {
            ...o.metadata.annotations,
            ...(lastApplied ? { [LAST_APPLIED_ANNOTATION]: JSON.stringify(o) } : {})
          }
        } as KubeObject["metadata"],
        status: { ...(o.status as object | undefined), ...extraStatus }
      })
    )

const vmi = (name: string): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name, namespace: "team-a", labels: ownerLabels(name) },
  spec: { domain: { devices: { disks: [{ name: "root" }] } } },
  status: {
    phase: "Running",
    interfaces: [{ name: "default", mac: "02:00:00:00:00:01", ipAddress: "10.0.0.2", ipAddresses: ["10.0.0.2"] }],
    volumeStatus: [{ name: "root", target: "vda", persistentVolumeClaimInfo: { claimName: name } }],
    guestOSInfo: { name: "Fedora" }
  }
})

const dataVolume = (name: string): KubeObject => ({
  apiVersion: "cdi.kubevirt.io/v1beta1",
  kind: "DataVolume",
  metadata: { name, namespace: "team-a", labels: ownerLabels(name), annotations: ownerAnnotations(name) },
  spec: { source: { http: { url: "https://example.com/disk.qcow2" } }, storage: {} },
  status: { phase: "ImportInProgress", progress: "43%", conditions: [{ type: "Running", status: "True" }] }
})

const namespace = (name: string, deleting: boolean): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: { team: "a" }, ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: { finalizers: ["kubernetes"] },
  status: { phase: deleting ? "Terminating" : "Active" }
})

const same = <A>(kind: KindOf, observe: (o: KubeObject) => A, objects: fc.Arbitrary<KubeObject>) =>
  fc.assert(
    fc.property(objects.chain(noisy), (o) => {
      const slim = slimFor(kind)(o)
      assert.deepStrictEqual(observe(slim), observe(o))
      assert.isAtMost(JSON.stringify(slim).length, JSON.stringify(o).length)
    }),
    { numRuns: 200 }
  )

const vms = anyMachine.chain((m) => {
  const d = desiredObjects(m)
  return fc.constant(d === undefined ? undefined : vmManifest(d.vm))
})

describe("slim cached objects", () => {
  it("VirtualMachine: observeVm sees the same", () =>
    same(
      Kinds.VirtualMachine,
      observeVm,
      vms
        .filter((o): o is KubeObject => o !== undefined)
        .map((o) => ({ ...o, status: { printableStatus: "Running", ready: true } }))
    ))

  it("VirtualMachineInstance: observeVmi sees the same", () =>
    same(Kinds.VirtualMachineInstance, observeVmi, fc.constantFrom("web", "db").map(vmi)))

  it("PersistentVolumeClaim: observePvc sees the same", () =>
    same(
      Kinds.PersistentVolumeClaim,
      observePvc,
      anyMachine
        .chain((m) => {
          const pvcs = desiredObjects(m)?.pvcs ?? []
          return pvcs.length === 0 ? fc.constant(undefined) : fc.constantFrom(...pvcs.map(pvcManifest))
        })
        .filter((o): o is KubeObject => o !== undefined)
    ))

  it("DataVolume: observeDataVolume sees the same", () =>
    same(Kinds.DataVolume, observeDataVolume, fc.constantFrom("web", "db").map(dataVolume)))

  it("Namespace: the namespace fact is the same", () =>
    fc.assert(
      fc.property(
        anyMachine.chain((m) =>
          fc
            .tuple(fc.constant(m), fc.boolean())
            .chain(([mm, deleting]) => noisy(namespace(mm.metadata.namespace, deleting)).map((o) => [mm, o] as const))
        ),
        ([m, o]) => {
          const reads = namespaceReads(m)
          const fact = (x: KubeObject) => reads.fact([{ _tag: "Found", objects: [x] }])
          assert.deepStrictEqual(fact(slimFor(Kinds.Namespace)(o)), fact(o))
        }
      ),
      { numRuns: 100 }
    ))

  it("NetworkAttachmentDefinition: its existence is kept", () => {
    const nad: KubeObject = {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name: "vlan100", namespace: "team-a" },
      spec: { config: JSON.stringify({ cniVersion: "0.3.1", type: "bridge" }) }
    }
    const slim = slimFor(Kinds.NetworkAttachmentDefinition)(nad)
    assert.deepStrictEqual(slim.metadata, nad.metadata)
    assert.isUndefined(slim.spec)
  })

  it("Machine: everything but managedFields and the last-applied copy", () => {
    const machine: KubeObject = {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Machine",
      metadata: {
        name: "web",
        namespace: "team-a",
        annotations: { a: "1", [LAST_APPLIED_ANNOTATION]: "{}" },
        managedFields: [{ manager: "kubectl" }]
      } as KubeObject["metadata"],
      spec: { provider: "kubevirt" },
      status: { phase: "Running" }
    }
    assert.deepStrictEqual(slimFor(Kinds.Machine)(machine), {
      apiVersion: "vitistack.io/v1alpha1",
      kind: "Machine",
      metadata: { name: "web", namespace: "team-a", annotations: { a: "1" } },
      spec: { provider: "kubevirt" },
      status: { phase: "Running" }
    })
  })
})
