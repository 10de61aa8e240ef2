/**
 * VM drift (`vmDrift.ts`, design 3.7): only owned fields are compared, quantities by value and our label keys only;
 * each change says whether the guest sees it only after a restart.
 */
import { assert, describe, it } from "@effect/vitest"
import type { VmSpec } from "../../src/domain/VmSpec.ts"
import { NETWORKS_FIELD, vmDrift } from "../../src/domain/vmDrift.ts"

const desired: VmSpec = {
  name: "web",
  namespace: "team-a",
  labels: { "managed-by": "vitistack-kubevirt-operator", "source-machine": "web" },
  annotations: {},
  runStrategy: "Always",
  cpu: { cores: 2, sockets: 1, threads: 1, model: "host-model" },
  memory: "2Gi",
  disks: [{ name: "root", bus: "virtio", bootOrder: 1, claimName: "web" }],
  networks: [{ name: "default" }]
}

const fields = (observed: VmSpec): ReadonlyArray<readonly [string, boolean]> =>
  vmDrift(observed, desired).map((c) => [c.field, c.restart] as const)

describe("vmDrift", () => {
  const cases: ReadonlyArray<{ name: string; observed: VmSpec; want: ReadonlyArray<readonly [string, boolean]> }> = [
    { name: "Identical", observed: desired, want: [] },
    { name: "MemoryByValue", observed: { ...desired, memory: "2048Mi" }, want: [] },
    {
      name: "OtherLabelsAndAnnotationsAreNotOurs",
      observed: { ...desired, labels: { ...desired.labels, team: "blue" }, annotations: { note: "x" } },
      want: []
    },
    {
      name: "OurLabelMissing",
      observed: { ...desired, labels: { "managed-by": "vitistack-kubevirt-operator" } },
      want: [["metadata.labels.source-machine", false]]
    },
    {
      name: "RunStrategyNeedsNoRestart",
      observed: { ...desired, runStrategy: "Halted" },
      want: [["spec.runStrategy", false]]
    },
    {
      name: "CpuAndMemoryNeedARestart",
      observed: { ...desired, cpu: { ...desired.cpu, cores: 4 }, memory: "4Gi" },
      want: [
        ["spec.template.spec.domain.cpu.cores", true],
        ["spec.template.spec.domain.memory.guest", true]
      ]
    },
    {
      name: "MemoryThatIsNotAQuantityIsDrift",
      observed: { ...desired, memory: "" },
      want: [["spec.template.spec.domain.memory.guest", true]]
    },
    {
      name: "Disks",
      observed: { ...desired, disks: [{ name: "root", bus: "sata", bootOrder: 1, claimName: "web" }] },
      want: [["spec.template.spec.domain.devices.disks", true]]
    },
    {
      name: "Networks",
      observed: { ...desired, networks: [{ name: "default" }, { name: "lan", nad: "vlan100" }] },
      want: [[NETWORKS_FIELD, true]]
    }
  ]
  it.each(cases)("$name", ({ observed, want }) => assert.deepStrictEqual(fields(observed), want))

  it("a change shows before and after in the plan's terms", () => {
    const [change] = vmDrift({ ...desired, cpu: { ...desired.cpu, cores: 4 } }, desired)
    assert.deepStrictEqual(change, {
      field: "spec.template.spec.domain.cpu.cores",
      before: "4",
      after: "2",
      restart: true
    })
  })
})
