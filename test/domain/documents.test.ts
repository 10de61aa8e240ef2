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

  it("a document without a kind is a problem", () => {
    assert.deepStrictEqual(sortDocuments([doc({ metadata: { name: "x" } }, 4)]).problems, ["m.yaml#4: kind: missing"])
  })
})
