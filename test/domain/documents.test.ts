/**
 * Sorting input documents (`documents.ts`): each kind decoded through its schema, Lists expanded, the Machine's
 * namespace defaulted, everything else kept as a remote object, and each problem naming document, object and field.
 */
import { assert, describe, it } from "@effect/vitest"
import { type SourceDocument, sortDocuments } from "../../src/domain/documents.ts"

const doc = (value: unknown, index = 0): SourceDocument => ({ source: "m.yaml", index, value })

const machine = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, ...extra },
  spec: { provider: "kubevirt" }
})

describe("sortDocuments", () => {
  it("sorts Machines, MachineClasses, KubevirtConfigs and other objects", () => {
    const d = sortDocuments([
      doc(machine("web", { namespace: "team-a" }), 0),
      doc(
        {
          apiVersion: "vitistack.io/v1alpha1",
          kind: "MachineClass",
          metadata: { name: "small" },
          spec: { enabled: true, cpu: { cores: 2 }, memory: { quantity: "4Gi" } }
        },
        1
      ),
      doc(
        {
          apiVersion: "vitistack.io/v1alpha1",
          kind: "KubevirtConfig",
          metadata: { name: "remote-a" },
          spec: { name: "remote-a", secretNamespace: "vitistack", kubeconfigSecretRef: "remote-a" }
        },
        2
      ),
      doc({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }, 3)
    ])
    assert.deepStrictEqual(d.problems, [])
    assert.deepStrictEqual(
      [d.machines, d.machineClasses, d.kubevirtConfigs, d.objects].map((xs) => xs.map((x) => x.metadata.name)),
      [["web"], ["small"], ["remote-a"], ["team-a"]]
    )
  })

  it("a Machine without a namespace is in `default`, as kubectl would put it", () => {
    assert.strictEqual(sortDocuments([doc(machine("web"))]).machines[0]?.metadata.namespace, "default")
  })

  it("expands kind: List (kubectl's output) and skips empty documents", () => {
    const d = sortDocuments([
      doc(null, 0),
      doc({ apiVersion: "v1", kind: "List", items: [machine("a"), machine("b")] }, 1)
    ])
    assert.deepStrictEqual(
      d.machines.map((m) => m.metadata.name),
      ["a", "b"]
    )
  })

  it("names the file, document, object and field of a value that does not decode", () => {
    const d = sortDocuments([doc({ ...machine("web"), spec: { cpu: { cores: "many" } } }, 2)])
    assert.deepStrictEqual(d.machines, [])
    assert.strictEqual(d.problems.length, 1)
    assert.match(d.problems[0]!, /^m\.yaml#2 \(Machine web\): spec\.cpu\.cores: /)
  })

  it("a Machine, MachineClass or KubevirtConfig of another apiVersion is refused, naming the document", () => {
    const d = sortDocuments([
      doc({ ...machine("capi"), apiVersion: "cluster.x-k8s.io/v1beta1" }, 0),
      doc({ ...machine("bare"), apiVersion: undefined }, 1),
      doc({ apiVersion: "example.com/v1", kind: "MachineClass", metadata: { name: "small" } }, 2),
      doc(machine("ours"), 3)
    ])
    assert.deepStrictEqual(
      d.machines.map((m) => m.metadata.name),
      ["ours"]
    )
    assert.deepStrictEqual(d.problems, [
      "m.yaml#0 (Machine capi): apiVersion: 'cluster.x-k8s.io/v1beta1'; a Machine of this tool is vitistack.io/v1alpha1",
      "m.yaml#1 (Machine bare): apiVersion: missing; a Machine of this tool is vitistack.io/v1alpha1",
      "m.yaml#2 (MachineClass small): apiVersion: 'example.com/v1'; a MachineClass of this tool is vitistack.io/v1alpha1"
    ])
  })

  it("the same object twice is an error naming both documents (a Machine without a namespace is in default)", () => {
    const d = sortDocuments([
      doc(machine("web"), 0),
      doc(machine("web"), 1),
      doc(machine("web", { namespace: "default" }), 2),
      doc(machine("web", { namespace: "other" }), 3),
      doc({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } }, 4),
      doc({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } }, 5)
    ])
    assert.deepStrictEqual(
      d.machines.map((m) => `${m.metadata.namespace}/${m.metadata.name}`),
      ["default/web", "other/web"]
    )
    assert.deepStrictEqual(d.problems, [
      "m.yaml#1 (Machine web): duplicate of m.yaml#0; each object may be given once",
      "m.yaml#2 (Machine default/web): duplicate of m.yaml#0; each object may be given once",
      "m.yaml#5 (Namespace a): duplicate of m.yaml#4; each object may be given once"
    ])
  })

  it("a document without a kind is a problem", () => {
    assert.deepStrictEqual(sortDocuments([doc({ metadata: { name: "x" } }, 4)]).problems, ["m.yaml#4: kind: missing"])
  })
})
