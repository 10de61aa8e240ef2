/**
 * A remote cluster's health from what a probe saw (table), and what the planner does with it: a NotReady cluster
 * holds back the Machines placed on it (and only them), never their deletion; every other phase changes nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { ServedVersion } from "../../src/domain/ApiDiscovery.ts"
import { isRemote } from "../../src/domain/actionInfo.ts"
import {
  answered,
  blocksMachines,
  type ClusterHealth,
  type ClusterProbe,
  evaluateHealth,
  failed,
  type KubevirtResource,
  kubevirtConfigStatus,
  kubevirtResourceOf,
  uncheckedHealth
} from "../../src/domain/ClusterHealth.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { RUNS, scenario } from "../fixtures/arbitraries.ts"

const resources = (...names: Array<string>) => names.map((name) => ({ name, kind: name, namespaced: true }))
const KUBEVIRT_GROUP: ReadonlyArray<ServedVersion> = [
  { version: "v1", resources: resources("virtualmachines", "virtualmachineinstances", "kubevirts") },
  { version: "v1alpha3", resources: resources("virtualmachines", "virtualmachineinstances", "kubevirts") }
]
const CDI_GROUP: ReadonlyArray<ServedVersion> = [{ version: "v1beta1", resources: resources("datavolumes") }]
const deployed: KubevirtResource = {
  namespace: "kubevirt",
  name: "kubevirt",
  phase: "Deployed",
  version: "v1.8.2",
  available: { status: "True" },
  degraded: { status: "False" }
}
const probe = (patch: Partial<ClusterProbe> = {}): ClusterProbe => ({
  kubevirtGroup: answered(KUBEVIRT_GROUP),
  cdiGroup: answered(CDI_GROUP),
  kubevirts: answered([deployed]),
  ...patch
})

describe("evaluateHealth", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly probe: ClusterProbe
    readonly phase: ClusterHealth["phase"]
    readonly reason: ClusterHealth["reason"]
    readonly message: RegExp
  }> = [
    {
      name: "KubeVirtDeployedWithCdi",
      probe: probe(),
      phase: "Ready",
      reason: "KubevirtDeployed",
      message:
        /^KubeVirt kubevirt\/kubevirt Deployed \(v1\.8\.2\); VirtualMachine kubevirt\.io v1, v1alpha3; DataVolume cdi\.kubevirt\.io v1beta1$/
    },
    {
      name: "KubeVirtInAnotherNamespace",
      probe: probe({
        kubevirts: answered([{ ...deployed, namespace: "openshift-cnv", name: "kubevirt-hyperconverged" }])
      }),
      phase: "Ready",
      reason: "KubevirtDeployed",
      message: /^KubeVirt openshift-cnv\/kubevirt-hyperconverged Deployed/
    },
    {
      name: "DiscoveryFailsIsUnreachable",
      probe: probe({ kubevirtGroup: failed("cannot discover API group kubevirt.io: connect ECONNREFUSED") }),
      phase: "Error",
      reason: "Unreachable",
      message: /does not answer discovery: .*ECONNREFUSED/
    },
    {
      name: "NoKubevirtGroup",
      probe: probe({ kubevirtGroup: answered([]), kubevirts: undefined }),
      phase: "NotReady",
      reason: "KubevirtNotInstalled",
      message: /does not serve the kubevirt\.io API group/
    },
    {
      name: "VirtualMachineV1NotServed",
      probe: probe({ kubevirtGroup: answered([KUBEVIRT_GROUP[1]!]) }),
      phase: "NotReady",
      reason: "VirtualMachineNotServed",
      message: /kubevirt\.io\/v1 is not served \(served: v1alpha3\)/
    },
    {
      name: "NoKubeVirtCrd",
      probe: probe({
        kubevirtGroup: answered([{ version: "v1", resources: resources("virtualmachines") }]),
        kubevirts: undefined
      }),
      phase: "NotReady",
      reason: "KubevirtNotInstalled",
      message: /serves no KubeVirt resource/
    },
    {
      name: "NoKubeVirtResource",
      probe: probe({ kubevirts: answered([]) }),
      phase: "NotReady",
      reason: "KubevirtNotInstalled",
      message: /no KubeVirt resource in any namespace/
    },
    {
      name: "KubeVirtDeploying",
      probe: probe({ kubevirts: answered([{ ...deployed, phase: "Deploying" }]) }),
      phase: "NotReady",
      reason: "KubevirtNotReady",
      message: /^KubeVirt kubevirt\/kubevirt is Deploying/
    },
    {
      name: "KubeVirtWithoutPhase",
      probe: probe({ kubevirts: answered([{ namespace: "kubevirt", name: "kubevirt" }]) }),
      phase: "NotReady",
      reason: "KubevirtNotReady",
      message: /not deployed yet/
    },
    {
      name: "KubeVirtNotAvailable",
      probe: probe({
        kubevirts: answered([{ ...deployed, available: { status: "False", message: "virt-handler not ready" } }])
      }),
      phase: "NotReady",
      reason: "KubevirtNotReady",
      message: /Deployed but not Available: virt-handler not ready/
    },
    {
      name: "ADeployedResourceWinsOverAnotherDeploying",
      probe: probe({
        kubevirts: answered([
          { namespace: "a", name: "kubevirt", phase: "Deploying" },
          { ...deployed, namespace: "z" }
        ])
      }),
      phase: "Ready",
      reason: "KubevirtDeployed",
      message: /^KubeVirt z\/kubevirt Deployed/
    },
    {
      name: "KubeVirtDegraded",
      probe: probe({ kubevirts: answered([{ ...deployed, degraded: { status: "True", message: "1 of 3 nodes" } }]) }),
      phase: "Degraded",
      reason: "KubevirtDegraded",
      message: /is Degraded: 1 of 3 nodes/
    },
    {
      name: "KubeVirtListRefusedIsUnknownNotBlocking",
      probe: probe({ kubevirts: failed("cannot list KubeVirt in all namespaces: forbidden") }),
      phase: "Degraded",
      reason: "KubevirtUnknown",
      message: /grant list on kubevirts\.kubevirt\.io .*forbidden/
    },
    {
      name: "NoCdi",
      probe: probe({ cdiGroup: answered([]) }),
      phase: "Degraded",
      reason: "CdiNotInstalled",
      message: /Deployed \(v1\.8\.2\); VirtualMachine kubevirt\.io v1, v1alpha3; CDI is not installed/
    },
    {
      name: "CdiUnreadable",
      probe: probe({ cdiGroup: failed("timeout") }),
      phase: "Degraded",
      reason: "CdiUnknown",
      message: /cannot tell whether CDI is installed: timeout/
    },
    {
      name: "NotReadyMessageAlsoNamesMissingCdi",
      probe: probe({ kubevirts: answered([]), cdiGroup: answered([]) }),
      phase: "NotReady",
      reason: "KubevirtNotInstalled",
      message: /no KubeVirt resource in any namespace .*; CDI is not installed/
    }
  ]
  it.each(cases)("$name", (c) => {
    const h = evaluateHealth("remote-a", c.probe)
    assert.deepStrictEqual([h.phase, h.reason], [c.phase, c.reason])
    assert.match(h.message, c.message)
    assert.strictEqual(blocksMachines(h), c.phase === "NotReady")
    assert.notStrictEqual(h.phase, "Unknown")
  })

  it("served versions are reported; the same probe gives an equal health (no write for an unchanged cluster)", () => {
    const h = evaluateHealth("remote-a", probe())
    assert.deepStrictEqual([h.virtualMachineVersions, h.dataVolumeVersions], [["v1", "v1alpha3"], ["v1beta1"]])
    assert.deepStrictEqual(evaluateHealth("remote-a", probe()), h)
  })

  it("a KubeVirt object is read from virt-operator's status", () => {
    const read = kubevirtResourceOf({
      apiVersion: "kubevirt.io/v1",
      kind: "KubeVirt",
      metadata: { name: "kubevirt", namespace: "kubevirt" },
      status: {
        phase: "Deployed",
        observedKubeVirtVersion: "v1.8.2",
        conditions: [
          { type: "Available", status: "True", reason: "AllComponentsReady", message: "All components are ready." },
          { type: "Degraded", status: "False" }
        ]
      }
    })
    assert.deepStrictEqual(read, {
      namespace: "kubevirt",
      name: "kubevirt",
      phase: "Deployed",
      version: "v1.8.2",
      available: { status: "True", message: "All components are ready." },
      degraded: { status: "False", message: undefined }
    })
  })

  it("the KubevirtConfig status: phase, reason as status, message; other stored fields are kept", () => {
    const h = evaluateHealth("remote-a", probe({ kubevirts: answered([]) }))
    assert.deepStrictEqual(kubevirtConfigStatus({ created: "2026-01-01", phase: "Ready" }, h), {
      created: "2026-01-01",
      name: "remote-a",
      phase: "NotReady",
      status: "KubevirtNotInstalled",
      message: h.message
    })
  })
})

describe("a NotReady cluster holds back the Machines placed on it", () => {
  const notReady = evaluateHealth("remote-a", probe({ kubevirts: answered([]) }))
  const withHealth = (o: ObservedState, h: ClusterHealth | undefined) =>
    ObservedState.make({ ...o, ...(h === undefined ? {} : { clusterHealth: h }) })
  const m = aMachine().withFinalizer().placedOn("remote-a").build()
  const run = (machine: typeof m, h: ClusterHealth | undefined) =>
    plan({ machine, observed: withHealth(aCluster().build(machine), h), settings: defaultSettings })

  it("ClusterNotReadyWaitsWithoutRemoteWrites", () => {
    const p = run(m, notReady)
    assert.deepStrictEqual(p.actions, [])
    assert.deepStrictEqual(
      p.diagnostics.map((d) => [d.reason, d.effect]),
      [["ClusterNotReady", "Waits"]]
    )
    assert.include(p.diagnostics[0]!.message, "remote cluster 'remote-a' is not ready: KubeVirt is not installed")
  })

  it("NotCheckedYetWaitsToo: nothing is created on a cluster before its first check", () => {
    const p = run(m, uncheckedHealth("remote-a"))
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(
      p.diagnostics[0]?.message,
      "remote cluster 'remote-a' is not ready: its health has not been checked yet (the first check is under way)"
    )
  })

  it("SupervisorActionsStillHappen: the finalizer and the automatic placement are recorded", () => {
    const fresh = aMachine().build()
    assert.deepStrictEqual(
      run(fresh, notReady).actions.map((a) => a._tag),
      ["AddFinalizer", "PersistPlacement"]
    )
  })

  it.each([
    ["Ready", evaluateHealth("remote-a", probe())],
    ["Degraded", evaluateHealth("remote-a", probe({ cdiGroup: answered([]) }))],
    ["Error", evaluateHealth("remote-a", probe({ kubevirtGroup: failed("down") }))],
    ["NotReady, of another cluster", { ...notReady, cluster: "remote-b" }],
    ["none yet", undefined]
  ] as const)("%s: the plan is the one without health", (_name, h) => {
    assert.deepStrictEqual(run(m, h), run(m, undefined))
  })

  it("DeletionIsNotHeldBack", () => {
    const deleting = aMachine().withFinalizer().placedOn("remote-a").deleting().build()
    assert.deepStrictEqual(run(deleting, notReady), run(deleting, undefined))
  })

  it("law: with its cluster NotReady, a live Machine's plan has no remote action and waits (never blocks)", () => {
    fc.assert(
      fc.property(scenario, ({ machine, observed, settings }) => {
        const cluster = observed.remote._tag === "Present" ? observed.remote.value.cluster : "remote-a"
        const p = plan({
          machine,
          observed: withHealth(observed, { ...notReady, cluster }),
          settings
        })
        if (machine.metadata.deletionTimestamp === undefined) assert.isFalse(p.actions.some(isRemote))
        const without = plan({ machine, observed, settings })
        // The gate only removes remote work. PersistPlacement may stay where the remote steps would have found a
        // blocking error (a name clash): recording the placement writes nothing remote. PatchMachineAnnotation marks
        // remote work done (the ISO removed), so it comes from a remote step and goes with it. The Machine's
        // NetworkConfiguration records the MACs of the VM about to be written; it is written with that VM.
        const withRemoteWork = new Set([
          "PersistPlacement",
          "PatchMachineAnnotation",
          "CreateNetworkConfiguration",
          "PatchNetworkConfiguration"
        ])
        const supervisorSide = (q: typeof p) =>
          q.actions.filter((a) => !isRemote(a) && !withRemoteWork.has(a._tag)).map((a) => a._tag)
        assert.deepStrictEqual(supervisorSide(p), supervisorSide(without))
      }),
      { numRuns: RUNS }
    )
  })
})
