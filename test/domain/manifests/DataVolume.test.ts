/**
 * DataVolume manifests use CDI's storage API; a live DataVolume projects back to phase, progress and failure, with no
 * image credential in what is observed (ADR 0018).
 */
import { assert, describe, it } from "@effect/vitest"
import { type DataVolumeSpec, IMAGE_SOURCE_ANNOTATION } from "../../../src/domain/DataVolumeSpec.ts"
import { dataVolumeManifest, isUsable, observeDataVolume } from "../../../src/domain/manifests/DataVolume.ts"

const spec = (source: DataVolumeSpec["source"]): DataVolumeSpec => ({
  name: "vm-a",
  namespace: "team-a",
  labels: { "managed-by": "vitistack-kubevirt-operator" },
  annotations: {},
  source,
  storage: "20Gi",
  purpose: "boot"
})

describe("DataVolume manifests", () => {
  it("http, registry and DataSource sources; storage API without access or volume modes", () => {
    const http = dataVolumeManifest(spec({ _tag: "Http", url: "https://x/y.qcow2" })) as any
    assert.deepStrictEqual(http.spec, {
      source: { http: { url: "https://x/y.qcow2" } },
      storage: { resources: { requests: { storage: "20Gi" } } }
    })
    const reg = dataVolumeManifest({
      ...spec({ _tag: "Registry", url: "docker://q/i:1" }),
      storageClassName: "fast"
    }) as any
    assert.deepStrictEqual(reg.spec.source, { registry: { url: "docker://q/i:1" } })
    assert.strictEqual(reg.spec.storage.storageClassName, "fast")
    const ds = dataVolumeManifest(spec({ _tag: "DataSource", namespace: "golden", name: "ubuntu" })) as any
    assert.deepStrictEqual(ds.spec.sourceRef, { kind: "DataSource", namespace: "golden", name: "ubuntu" })
    assert.isUndefined(ds.spec.source)
  })

  it("observes phase, progress and CDI's failure reason", () => {
    const o = observeDataVolume({
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      metadata: { name: "vm-a", namespace: "team-a", resourceVersion: "7", labels: { a: "b" } },
      status: {
        phase: "ImportInProgress",
        progress: "43.20%",
        conditions: [
          { type: "Running", status: "False", reason: "Error", message: "Unable to connect to http data source" }
        ]
      }
    })
    assert.deepStrictEqual(
      { phase: o.phase, progress: o.progress, failure: o.failure, rv: o.resourceVersion },
      {
        phase: "ImportInProgress",
        progress: "43.20%",
        failure: { reason: "Error", message: "Unable to connect to http data source" },
        rv: "7"
      }
    )
    const done = observeDataVolume({
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      metadata: { name: "vm-a" },
      status: { phase: "Succeeded", conditions: [{ type: "Running", status: "False", reason: "Completed" }] }
    })
    assert.isUndefined(done.failure)
    assert.isTrue(isUsable(done))
    assert.isFalse(isUsable(o))
  })

  it("observes an old image-source annotation and CDI's failure text with image URLs in display form", () => {
    const url = `https://robot:Zqpw${"x".repeat(600)}@images.example/noble.qcow2?sig=Zqsig123`
    const o = observeDataVolume({
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      metadata: { name: "vm-a", annotations: { [IMAGE_SOURCE_ANNOTATION]: url, other: "kept" } },
      status: {
        phase: "Failed",
        // Longer than what is kept (512): masked before the cut, so the cut leaves no half credential.
        conditions: [{ type: "Running", status: "False", reason: "Error", message: `Get "${url}": 403 Forbidden` }]
      }
    })
    assert.deepStrictEqual(o.annotations, {
      [IMAGE_SOURCE_ANNOTATION]: "https://[redacted]:[redacted]@images.example/noble.qcow2?sig=[redacted]",
      other: "kept"
    })
    assert.strictEqual(
      o.failure?.message,
      'Get "https://[redacted]:[redacted]@images.example/noble.qcow2?sig=[redacted]": 403 Forbidden'
    )
  })
})
