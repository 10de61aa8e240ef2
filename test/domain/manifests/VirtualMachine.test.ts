/**
 * Manifest builders: the VM and PVC manifests have the shape of the Go operator, and projecting a built manifest
 * back gives the desired owned fields (so a converged object shows no drift).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { desiredFor } from "../../../src/domain/desired.ts"
import { absent } from "../../../src/domain/Fact.ts"
import { SOURCE_MACHINE_ANNOTATION, SOURCE_MACHINE_LABEL } from "../../../src/domain/labels.ts"
import { namespaceManifest } from "../../../src/domain/manifests/Namespace.ts"
import { observePvc, pvcManifest } from "../../../src/domain/manifests/Pvc.ts"
import { observeVm, vmManifest } from "../../../src/domain/manifests/VirtualMachine.ts"
import { defaultSettings } from "../../../src/domain/Settings.ts"
import { vmDrift } from "../../../src/domain/vmDrift.ts"
import { aMachine } from "../../fixtures/aMachine.ts"
import { RUNS, scenario } from "../../fixtures/arbitraries.ts"

const desiredOf = (m = aMachine().build()) => {
  const d = desiredFor(m, absent, defaultSettings)
  if (d._tag !== "Ok") throw new Error(`fixture invalid: ${JSON.stringify(d.diagnostics)}`)
  return d.desired
}

describe("VirtualMachine manifest", () => {
  it("has runStrategy Always, our labels on VM and template, PVC volumes, EFI without secure boot", () => {
    const vm = vmManifest(desiredOf().vm) as any
    assert.strictEqual(vm.apiVersion, "kubevirt.io/v1")
    assert.strictEqual(vm.spec.runStrategy, "Always")
    assert.deepStrictEqual(vm.metadata.labels, {
      "managed-by": "vitistack-kubevirt-operator",
      "source-machine": "vm-a"
    })
    assert.deepStrictEqual(vm.spec.template.metadata.labels, vm.metadata.labels)
    assert.deepStrictEqual(vm.spec.template.spec.volumes, [
      { name: "root", persistentVolumeClaim: { claimName: "vm-a" } }
    ])
    assert.deepStrictEqual(vm.spec.template.spec.domain.devices.disks, [
      { name: "root", disk: { bus: "virtio" }, bootOrder: 1 }
    ])
    assert.strictEqual(vm.spec.template.spec.domain.firmware.bootloader.efi.secureBoot, false)
    assert.deepStrictEqual(vm.spec.template.spec.networks, [{ name: "default", pod: {} }])
  })

  it("projects back to the desired owned fields for every valid Machine (no drift after create)", () => {
    fc.assert(
      fc.property(scenario, ({ machine, observed, settings }) => {
        const d = desiredFor(machine, observed.machineClass, settings)
        fc.pre(d._tag === "Ok")
        if (d._tag !== "Ok") return
        const projected = observeVm({
          ...vmManifest(d.desired.vm),
          metadata: { ...vmManifest(d.desired.vm).metadata, resourceVersion: "1" }
        })
        assert.deepStrictEqual(vmDrift(projected.spec, d.desired.vm), [])
        for (const p of d.desired.pvcs) {
          const o = observePvc(pvcManifest(p))
          assert.deepStrictEqual(
            [o.name, o.storage, o.volumeMode, o.accessModes],
            [p.name, p.storage, p.volumeMode, [...p.accessModes]]
          )
        }
      }),
      { numRuns: RUNS }
    )
  })

  it("long Machine names get a hashed 63-character label and the full name in an annotation", () => {
    const name = `${"x".repeat(70)}-worker`
    const vm = vmManifest(desiredOf(aMachine().named(name).build()).vm)
    const label = vm.metadata.labels?.[SOURCE_MACHINE_LABEL] ?? ""
    assert.isAtMost(label.length, 63)
    assert.match(label, /^x+-[0-9a-f]{8}$/)
    assert.strictEqual(vm.metadata.annotations?.[SOURCE_MACHINE_ANNOTATION], name)
  })

  it("a memory quantity written differently is not drift; a different quantity is", () => {
    const v = desiredOf().vm
    assert.deepStrictEqual(vmDrift({ ...v, memory: "2048Mi" }, v), [])
    assert.strictEqual(vmDrift({ ...v, memory: "1Gi" }, v)[0]?.field, "spec.template.spec.domain.memory.guest")
  })

  it("labels added by others on the VM are not drift", () => {
    const v = desiredOf().vm
    assert.deepStrictEqual(vmDrift({ ...v, labels: { ...v.labels, team: "x" } }, v), [])
  })
})

describe("Namespace and PVC manifests", () => {
  it("the namespace carries exactly the labels given", () =>
    assert.deepStrictEqual(namespaceManifest("my-app", { "managed-by": "vitistack-kubevirt-operator" }), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "my-app", labels: { "managed-by": "vitistack-kubevirt-operator" } }
    }))
  it("PVC: size, volume mode and access mode from settings, storage class only when set", () => {
    const pvc = pvcManifest(desiredOf().pvcs[0]!) as any
    assert.deepStrictEqual(pvc.spec, {
      accessModes: ["ReadWriteMany"],
      volumeMode: "Block",
      resources: { requests: { storage: "10Gi" } }
    })
  })
})
