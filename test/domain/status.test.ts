/**
 * Status derivation (design 3.5): phases, the namespace failure message, runtime fields, conditions whose
 * lastTransitionTime moves only on a transition, and no write when nothing changed.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ExecutionOutcome } from "../../src/domain/ExecutionOutcome.ts"
import { present, unknown } from "../../src/domain/Fact.ts"
import { ownerLabels } from "../../src/domain/labels.ts"
import { Machine } from "../../src/domain/Machine.ts"
import type { ObservedState } from "../../src/domain/ObservedState.ts"
import { plan } from "../../src/domain/planner.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { deriveStatus, sameStatus } from "../../src/domain/status.ts"
import { aCluster, aPvc } from "../fixtures/aCluster.ts"
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

describe("a remote that cannot be read (issue 'Hardening', items 2 and 7)", () => {
  const unauthorized = aCluster().mapRemote((r) => ({
    ...r,
    namespace: unknown("cannot get Namespace default: Unauthorized"),
    vm: unknown("cannot get VirtualMachine default/vm-a: Unauthorized"),
    vmi: unknown("cannot get VirtualMachineInstance default/vm-a: Unauthorized"),
    pvcs: unknown("cannot list PersistentVolumeClaims in default: Unauthorized")
  }))
  const running = Machine.make({
    ...machine,
    status: derive(machine, withVm("Running", "Running").build(machine), undefined, "2026-11-28T12:00:00Z")
  })

  it("a Running Machine keeps its phase, state, addresses and disks; Ready is Unknown; RemoteReachable says why", () => {
    const s = derive(running, unauthorized.build(running), undefined, "2026-11-28T13:00:00Z")
    assert.strictEqual(s.phase, "Running")
    assert.strictEqual(s.state, "Running")
    assert.deepStrictEqual(s.publicIPAddresses, running.status?.publicIPAddresses)
    assert.deepStrictEqual(s.disks, running.status?.disks)
    const c = (t: string) => s.conditions?.find((x) => x.type === t)
    assert.deepStrictEqual([c("Ready")?.status, c("Ready")?.reason], ["Unknown", "RemoteUnreadable"])
    assert.deepStrictEqual([c("RemoteReachable")?.status, c("RemoteReachable")?.reason], ["False", "RemoteUnreadable"])
    assert.include(c("RemoteReachable")?.message, "Unauthorized")
    assert.strictEqual(c("Placed")?.lastTransitionTime, "2026-11-28T12:00:00Z")
    assert.include(s.message, "phase Running is the last known")
    // Once readable again, the Machine is Running and Ready from what is seen.
    const back = derive(Machine.make({ ...running, status: s }), withVm("Running", "Running").build(running))
    assert.strictEqual(back.conditions?.find((x) => x.type === "Ready")?.status, "True")
  })

  it("the same while nothing changes: a second reconcile writes nothing", () => {
    const first = derive(running, unauthorized.build(running), undefined, "2026-11-28T13:00:00Z")
    const stored = Machine.make({ ...running, status: first })
    assert.isTrue(sameStatus(first, derive(stored, unauthorized.build(stored), undefined, "2026-11-28T14:00:00Z")))
  })

  it("a new Machine on a cluster that never answered is Pending with Ready Unknown, not Failed", () => {
    const s = derive(machine, aCluster().remoteUnreachable("cannot get Namespace default: timeout").build(machine))
    assert.strictEqual(s.phase, "Pending")
    assert.isUndefined(s.failureReason)
    const c = (t: string) => s.conditions?.find((x) => x.type === t)
    assert.deepStrictEqual([c("Ready")?.status, c("RemoteReachable")?.status], ["Unknown", "False"])
  })

  it("a deleting Machine is Terminating and says that deletion waits, whatever it was", () => {
    const deleting = Machine.make({ ...running, metadata: { ...running.metadata, deletionTimestamp: NOW } })
    const s = derive(deleting, aCluster().remoteUnreachable("timeout").build(deleting))
    assert.strictEqual(s.phase, "Terminating")
    assert.include(s.message, "deletion waits")
  })
})

describe("SpecApplied (design 3.7: a refused shrink is visible in status)", () => {
  const resized = aMachine().withFinalizer().placedOn("remote-a").withDisks({ name: "root", sizeGB: 10, boot: true })
  const bigger = aCluster().withObjects(aPvc("vm-a", "default", "20Gi", "vm-a"))

  it("absent while every part of the spec is applied", () => {
    const s = derive(machine, aCluster().build(machine))
    assert.isUndefined(s.conditions?.find((c) => c.type === "SpecApplied"))
  })

  it("False with PvcShrinkRefused naming the disk; then True (kept) once the spec no longer asks to shrink", () => {
    const m = resized.build()
    const refused = derive(m, bigger.build(m), undefined, "2026-11-28T12:00:00Z")
    const c = refused.conditions?.find((x) => x.type === "SpecApplied")
    assert.deepStrictEqual([c?.status, c?.reason], ["False", "PvcShrinkRefused"])
    assert.include(c?.message, "spec.disks: PVC default/vm-a is 20Gi; shrinking to 10Gi is not possible")
    const fixed = aMachine()
      .withFinalizer()
      .placedOn("remote-a")
      .withDisks({ name: "root", sizeGB: 20, boot: true })
      .build()
    const stored = Machine.make({ ...fixed, status: refused })
    const after = derive(stored, bigger.build(stored), undefined, "2026-11-28T13:00:00Z")
    const c2 = after.conditions?.find((x) => x.type === "SpecApplied")
    assert.deepStrictEqual(
      [c2?.status, c2?.reason, c2?.lastTransitionTime],
      ["True", "Applied", "2026-11-28T13:00:00Z"]
    )
  })

  it("False with ProviderChanged when spec.provider names another provider after placement", () => {
    const m = aMachine().withFinalizer().placedOn("remote-a").withSpec({ provider: "proxmox" }).build()
    const c = derive(m, withVm("Running", "Running").build(m)).conditions?.find((x) => x.type === "SpecApplied")
    assert.deepStrictEqual([c?.status, c?.reason], ["False", "ProviderChanged"])
  })
})

describe("failure messages say what happens next", () => {
  it("a Forbidden namespace create is retried with backoff (design 3.3), so the message says retrying", () => {
    const s = derive(machine, aCluster().build(machine), {
      executed: 0,
      failed: {
        action: "EnsureNamespace",
        target: "team-a",
        reason: "Forbidden",
        message: "forbidden",
        retryable: false
      }
    })
    assert.match(s.message ?? "", /; retrying$/)
  })
  it("an Invalid create waits for a change", () => {
    const s = derive(machine, aCluster().build(machine), {
      executed: 0,
      failed: { action: "CreatePvc", target: "default/vm-a", reason: "Invalid", message: "bad", retryable: false }
    })
    assert.match(s.message ?? "", /; waiting for a change$/)
  })
})
