/**
 * Changes people can review, hold and replay (issue 13, ADR 0015), end to end on the real apiservers with the
 * restricted operator identities, one operator for the file recording its decision traces to a file:
 * - approvals: a KubevirtConfig annotated `vitistack.io/require-approval: "true"`; the deleted Machine's VM goes, its
 *   PVC deletion waits under the hash its Planned condition shows (and `plan --kubeconfig` prints); a stale hash does
 *   not release it, the shown one does;
 * - pause: a Machine waiting for its NetworkAttachmentDefinition (its PVC made, its VM not) is paused; the NAD appears
 *   and nothing is created; removing the annotation finishes it; `vitistack.io/reconcile-at` is acknowledged;
 * - AbandonAfter: a running Machine whose KubevirtConfig's kubeconfig now points at a port nobody listens on (its
 *   cluster "stopped") is released after the deadline, with an Event listing what is left behind there;
 * - the recorded traces replay with `plan --replay` and zero differences.
 */
import { mkdtempSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { runPlan } from "../../src/runtime/cli/plan.ts"
import {
  eventually,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  machineOn,
  machineStatusReads,
  type RunningOperator,
  released,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const traces = join(mkdtempSync(join(tmpdir(), "gov-traces-")), "decisions.jsonl")
let supervisor: KubeApiService
let remote: KubeApiService
let op: RunningOperator
let standin: { stop: () => Promise<void> }

const machine = machineOn
const { statusOf, conditionOf, isRunning } = machineStatusReads(() => supervisor)
const annotate = (name: string, namespace: string, annotations: Record<string, string | null>) =>
  run(supervisor.patch(refOf("Machine", name, namespace), { metadata: { annotations } } as never))
const names = async (kind: "VirtualMachine" | "PersistentVolumeClaim", namespace: string) =>
  (
    await run(remote.list({ apiVersion: kind === "VirtualMachine" ? "kubevirt.io/v1" : "v1", kind }, { namespace }))
  ).items
    .map((o) => o.metadata.name)
    .sort()
const gone = (name: string, namespace: string) => released(supervisor, name, namespace)
const cli = async (args: Array<string>) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const code = await runPlan(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: {} })
  return { code, out: out.join("\n"), err: err.join("\n") }
}

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  standin = startStandIn(remote)
  op = startOperator(ctx.supervisor.operatorKubeconfig, {
    decisionTrace: { target: { _tag: "File", path: traces } }
  })
})
afterAll(async () => {
  await op?.stop()
  await standin?.stop()
})

describe("approvals", () => {
  it("a PVC deletion waits for approval under the shown hash; a stale hash does not release it, the shown one does", async () => {
    const config = `approve-${id}`
    const ns = `e2e-approve-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await run(
      supervisor.patch(refOf("KubevirtConfig", config), {
        metadata: { annotations: { "vitistack.io/require-approval": "true" } }
      })
    )
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await upsert(
      supervisor,
      machine("keep", ns, config, {
        disks: [
          { name: "root", sizeGB: 1, boot: true },
          { name: "data", sizeGB: 1 }
        ]
      })
    )
    await eventually("keep Running", () => isRunning("keep", ns))
    expect(await names("PersistentVolumeClaim", ns)).toEqual(["keep", "keep-data"])
    expect((await conditionOf("keep", ns, "Planned"))?.reason).toBe("UpToDate")

    await run(supervisor.delete(refOf("Machine", "keep", ns)))
    // The VM goes (no data is lost with it); the claims' deletion waits for a person.
    const waiting = await eventually("the PVC deletion awaits approval", async () => {
      const c = await conditionOf("keep", ns, "Planned")
      return c?.reason === "AwaitingApproval" ? c : undefined
    })
    expect(await names("VirtualMachine", ns)).toEqual([])
    const hash = /^plan ([0-9a-f]{16}): 0 to add, 0 to change, 2 to destroy \(2 held\); /.exec(waiting.message!)?.[1]
    expect(hash).toBeDefined()
    expect(waiting.message).toContain(`vitistack.io/approve-plan: "${hash}"`)
    expect((await statusOf("keep", ns))?.message).toContain(`KubevirtConfig '${config}'`)
    // `plan` prints the same hash, and the held steps.
    const preview = await cli(["--kubeconfig", ctx.supervisor.adminKubeconfig, `${ns}/keep`])
    expect(preview.code).toBe(2)
    expect(preview.out).toContain(`Machine ${ns}/keep -> ${config}  (plan ${hash})`)
    expect(preview.out).toContain("[held: awaiting approval]")

    await annotate("keep", ns, { "vitistack.io/approve-plan": "0123456789abcdef" })
    await eventually("the stale approval is named", async () =>
      String((await statusOf("keep", ns))?.message).includes("it holds '0123456789abcdef'") ? true : undefined
    )
    await new Promise((r) => setTimeout(r, 2000))
    expect(await names("PersistentVolumeClaim", ns)).toEqual(["keep", "keep-data"])

    await annotate("keep", ns, { "vitistack.io/approve-plan": hash! })
    await gone("keep", ns)
    await eventually("claims deleted", async () =>
      (await names("PersistentVolumeClaim", ns)).length === 0 ? true : undefined
    )
  })
})

describe("pause and reconcile-at", () => {
  it("pause stops a Machine mid-creation (its PVC made, its VM not); resuming finishes it", async () => {
    const config = `pause-${id}`
    const ns = `e2e-pause-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await upsert(
      supervisor,
      machine("held", ns, config, { network: { interfaces: [{ name: "lan", subnet: "vlan-pause" }] } })
    )
    // Mid-creation: the claim exists, the VM waits for its NetworkAttachmentDefinition.
    await eventually("waiting for the NAD", async () =>
      String((await statusOf("held", ns))?.message).includes(`${ns}/vlan-pause`) ? true : undefined
    )
    expect(await names("PersistentVolumeClaim", ns)).toEqual(["held"])
    await annotate("held", ns, { "vitistack.io/paused": "true" })
    await eventually("Paused", async () =>
      (await conditionOf("held", ns, "Planned"))?.reason === "Paused" ? true : undefined
    )
    // What it waited for arrives (and wakes it): nothing is created while paused.
    await upsert(remote, {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name: "vlan-pause", namespace: ns },
      spec: { config: '{"cniVersion":"1.0.0","name":"br0","plugins":[{"type":"bridge","bridge":"br0"}]}' }
    })
    const held = await eventually("CreateVirtualMachine held", async () => {
      const c = await conditionOf("held", ns, "Planned")
      return c?.reason === "Paused" && c.message?.includes("CreateVirtualMachine") ? c : undefined
    })
    expect(held.message).toMatch(/^plan [0-9a-f]{16}: 1 to add, 0 to change, 0 to destroy \(1 held\); /)
    await new Promise((r) => setTimeout(r, 2000))
    expect(await names("VirtualMachine", ns)).toEqual([])
    expect((await statusOf("held", ns))?.message).toMatch(/^paused by vitistack\.io\/paused: "true"/)

    // A person asks for a reconcile now: it is acknowledged (and still nothing is written while paused).
    await annotate("held", ns, { "vitistack.io/reconcile-at": "2026-12-01T10:00:00Z" })
    await eventually("reconcile-at handled", async () =>
      (await conditionOf("held", ns, "Planned"))?.message?.endsWith(
        "vitistack.io/reconcile-at 2026-12-01T10:00:00Z handled"
      )
        ? true
        : undefined
    )
    expect(await names("VirtualMachine", ns)).toEqual([])

    await annotate("held", ns, { "vitistack.io/paused": null })
    await eventually("held Running", () => isRunning("held", ns))
    await run(supervisor.delete(refOf("Machine", "held", ns)))
    await gone("held", ns)
  })
})

describe("AbandonAfter", () => {
  it("a Machine whose remote is stopped is released after the deadline, with an Event listing what is left there", async () => {
    const config = `abandon-${id}`
    const ns = `e2e-abandon-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
    await upsert(supervisor, machine("lost", ns, config, {}, { "vitistack.io/deletion-policy": "AbandonAfter=5s" }))
    await eventually("lost Running", () => isRunning("lost", ns))

    // The cluster stops: its kubeconfig now points at a port nobody listens on.
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    await installKubevirtConfig(
      supervisor,
      config,
      kubeconfigYaml({ ...ctx.remote, server: `https://127.0.0.1:${port}` }, ctx.remote.operatorTokens.primary)
    )
    await eventually(
      "RemoteReachable False",
      async () => ((await conditionOf("lost", ns, "RemoteReachable"))?.status === "False" ? true : undefined),
      90_000
    )
    const started = Date.now()
    await run(supervisor.delete(refOf("Machine", "lost", ns)))
    await gone("lost", ns)
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000)
    const events = await run(supervisor.list({ apiVersion: "v1", kind: "Event" }, { namespace: ns }))
    const abandoned = events.items.find((e) => (e as { reason?: string }).reason === "RemoteObjectsAbandoned") as
      | { type?: string; message?: string }
      | undefined
    expect(abandoned?.type).toBe("Warning")
    expect(abandoned?.message).toContain(`VirtualMachine ${ns}/lost, PersistentVolumeClaim ${ns}/lost`)
    expect(abandoned?.message).toContain("-l managed-by=vitistack-kubevirt-operator,source-machine=lost")
    // Left behind indeed: the remote still holds them. (Cleaned up here, as the cluster's owner would.)
    expect(await names("VirtualMachine", ns)).toEqual(["lost"])
    expect(await names("PersistentVolumeClaim", ns)).toEqual(["lost"])
    await run(remote.delete(refOf("VirtualMachine", "lost", ns)).pipe(Effect.ignore))
    await run(remote.delete(refOf("PersistentVolumeClaim", "lost", ns)).pipe(Effect.ignore))
    await run(supervisor.delete(refOf("KubevirtConfig", config)).pipe(Effect.ignore))
  })
})

describe("decision traces", () => {
  it("the traces this run recorded replay with zero differences", async () => {
    await op.stop()
    const r = await cli(["--replay", traces])
    process.stderr.write(`[replay] ${r.out.split("\n").at(-1)}\n`)
    expect(r.err).toBe("")
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Replay: \d+ decision\(s\), 0 differ\.$/)
    const decisions = Number(/Replay: (\d+) decision/.exec(r.out)?.[1])
    expect(decisions).toBeGreaterThan(10)
    for (const m of ["keep", "held", "lost"]) expect(r.out).toContain(`/${m}: `)
  })
})
