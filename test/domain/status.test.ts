/**
 * Status derivation (design 3.5): phases, the namespace failure message, runtime fields, conditions whose
 * lastTransitionTime moves only on a transition, and no write when nothing changed.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ExecutionOutcome } from "../../src/domain/ExecutionOutcome.ts"
import { present } from "../../src/domain/Fact.ts"
import { ownerLabels } from "../../src/domain/labels.ts"
import { Machine } from "../../src/domain/Machine.ts"
import type { ObservedState } from "../../src/domain/ObservedState.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { deriveStatus, sameStatus } from "../../src/domain/status.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const NOW = "2026-11-28T12:00:00Z"
const machine = aMachine().withFinalizer().placedOn("remote-a").build()

const withVm = (printableStatus: string | undefined, vmiPhase?: string) =>
  aCluster().mapRemote((r) => ({
    ...r,
    vm: present({
      name: "vm-a",
      labels: ownerLabels("vm-a"),
      resourceVersion: "1",
      spec: {
        name: "vm-a",
        namespace: "default",
        labels: ownerLabels("vm-a"),
        annotations: {},
        runStrategy: "Always",
        cpu: { cores: 2, sockets: 1, threads: 1, model: "host-model" },
        memory: "2Gi",
        disks: [],
        networks: [{ name: "default" }]
      },
      ...(printableStatus === undefined ? {} : { printableStatus }),
      deleting: false
    }),
    vmi:
      vmiPhase === undefined
        ? r.vmi
        : present({
            phase: vmiPhase,
            interfaces: [
              { name: "default", mac: "02:12:00:00:00:01", ipAddresses: ["10.0.0.5", "fd00::5"] },
              { mac: "02:12:00:00:00:02", ipAddresses: ["192.168.1.9"] }
            ],
            volumes: [{ name: "root", target: "vda", pvcName: "vm-a", volumeMode: "Block", capacity: 10737418240 }]
          })
  }))

const derive = (m: Machine, observed: ObservedState, outcome?: ExecutionOutcome, now = NOW) =>
  deriveStatus({ machine: m, observed, plan: plan({ machine: m, observed, settings: defaultSettings }), outcome, now })

describe("deriveStatus", () => {
  const phases = [
    { name: "NothingYet", observed: aCluster(), phase: "Creating" },
    { name: "VmProvisioning", observed: withVm("Provisioning"), phase: "Creating" },
    { name: "VmiRunning", observed: withVm("Running", "Running"), phase: "Running" },
    { name: "Unschedulable", observed: withVm("ErrorUnschedulable"), phase: "Failed" },
    { name: "CrashLoop", observed: withVm("CrashLoopBackOff"), phase: "Failed" },
    { name: "Stopped", observed: withVm("Stopped"), phase: "Stopped" },
    { name: "RemoteDown", observed: aCluster().remoteUnreachable("dial tcp: connection refused"), phase: "Pending" }
  ]
  it.each(phases)("phase $name → $phase", ({ observed, phase }) =>
    assert.strictEqual(derive(machine, observed.build(machine)).phase, phase)
  )

  it("a failed namespace create says `failed to create namespace on remote cluster: <cause>` and stays Creating", () => {
    const s = derive(machine, aCluster().build(machine), {
      executed: 0,
      failed: {
        action: "EnsureNamespace",
        target: "team-a",
        reason: "Forbidden",
        message: 'namespaces is forbidden: User "operator" cannot create',
        retryable: false
      }
    })
    assert.strictEqual(s.phase, "Creating")
    assert.strictEqual(
      s.failureMessage,
      'failed to create namespace on remote cluster: namespaces is forbidden: User "operator" cannot create'
    )
    assert.strictEqual(s.failureReason, "NamespaceCreateFailed")
    assert.strictEqual(s.conditions?.find((c) => c.type === "Ready")?.reason, "NamespaceCreateFailed")
  })

  it("Running fills IPs (named interfaces are public), disks with device and pvcName, and Ready=True", () => {
    const s = derive(machine, withVm("Running", "Running").build(machine))
    assert.deepStrictEqual(s.publicIPAddresses, ["10.0.0.5", "fd00::5"])
    assert.deepStrictEqual(s.privateIPAddresses, ["192.168.1.9"])
    assert.deepStrictEqual(s.ipAddresses, ["10.0.0.5", "192.168.1.9"])
    assert.deepStrictEqual(s.ipv6Addresses, ["fd00::5"])
    assert.deepStrictEqual(s.disks, [
      { name: "root", device: "/dev/vda", pvcName: "vm-a", volumeMode: "Block", size: 10737418240 }
    ])
    assert.strictEqual(s.conditions?.find((c) => c.type === "Ready")?.status, "True")
    assert.isUndefined(s.failureMessage)
  })

  it("conditions keep lastTransitionTime when their status does not change, and the status is then the same (no write)", () => {
    const observed = withVm("Running", "Running").build(machine)
    const first = derive(machine, observed, undefined, "2026-11-28T12:00:00Z")
    const stored = Machine.make({ ...machine, status: first })
    const second = derive(stored, observed, undefined, "2026-11-28T13:00:00Z")
    assert.isTrue(sameStatus(stored.status, second))
    const down = derive(
      stored,
      aCluster().remoteUnreachable("timeout").build(stored),
      undefined,
      "2026-11-28T14:00:00Z"
    )
    assert.strictEqual(
      down.conditions?.find((c) => c.type === "RemoteReachable")?.lastTransitionTime,
      "2026-11-28T14:00:00Z"
    )
    assert.strictEqual(down.conditions?.find((c) => c.type === "Placed")?.lastTransitionTime, "2026-11-28T12:00:00Z")
  })

  it("failure fields are cleared on recovery", () => {
    const failed = Machine.make({ ...machine, status: derive(machine, withVm("CrashLoopBackOff").build(machine)) })
    assert.strictEqual(failed.status?.failureReason, "CrashLoopBackOff")
    const recovered = derive(failed, withVm("Running", "Running").build(failed))
    assert.isUndefined(recovered.failureReason)
    assert.isUndefined(recovered.failureMessage)
  })

  it("bad input is Failed with a message naming the field", () => {
    const bad = aMachine().withFinalizer().placedOn("remote-a").withSpec({ machineClass: "nope" }).build()
    const s = derive(bad, aCluster().build(bad))
    assert.strictEqual(s.phase, "Failed")
    assert.strictEqual(s.failureMessage, "spec.machineClass: MachineClass 'nope' does not exist")
  })
})

describe("RemoteReachable", () => {
  it("is False when the client exists but its reads fail (e.g. a rotated-out token)", () => {
    const observed = aCluster()
      .mapRemote((r) => ({
        ...r,
        vm: { _tag: "Unknown" as const, reason: "cannot get VirtualMachine default/vm-a: Unauthorized" }
      }))
      .build(machine)
    const c = derive(machine, observed).conditions?.find((x) => x.type === "RemoteReachable")
    assert.deepStrictEqual([c?.status, c?.reason], ["False", "RemoteUnreadable"])
    assert.include(c?.message, "Unauthorized")
  })
})
