/**
 * Cluster health and MachineProvider registration end to end on the real apiservers (ADR 0012). Two remotes: the
 * remote apiserver, where KubeVirt is deployed (the harness creates its KubeVirt resource and the stand-in plays its
 * controllers), and the supervisor apiserver acting as a second remote "without KubeVirt": it serves the KubeVirt and
 * CDI CRDs (every shared CRD is installed there) but holds no KubeVirt resource, which is exactly what a cluster with
 * the CRDs but no deployed KubeVirt looks like. The operator reaches it with a ServiceAccount bound to the shipped
 * remote ClusterRole, as it would any remote.
 */
import { execFileSync } from "node:child_process"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { rbacFiles } from "../harness/identities.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const kvReady = `kv-ready-${id}`
const kvNone = `kv-nokv-${id}`
const providerName = `kv-provider-${id}`
const stackName = `stack-${id}`
const ns = `e2e-health-${id}`
const account = `nokv-${id}`
let supervisor: KubeApiService
let remote: KubeApiService
let standin: { stop: () => Promise<void> }

const kubectl = (kubeconfig: string, ...args: Array<string>) =>
  execFileSync(ctx.kubectl, ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8" }).trim()

const machine = (name: string, cluster: string): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace: ns, annotations: { "vitistack.io/kubevirt-config": cluster } },
  spec: { provider: "kubevirt", disks: [{ name: "root", sizeGB: 3, boot: true }] }
})
const statusOf = async (kind: "Machine" | "KubevirtConfig" | "MachineProvider", name: string, namespace?: string) =>
  (await getObject(supervisor, kind, name, namespace))?.status as Record<string, any> | undefined

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  await installKubevirtConfig(supervisor, kvReady, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
  // The supervisor apiserver as a remote: the shipped remote ClusterRole, bound to a ServiceAccount there.
  const admin = ctx.supervisor.adminKubeconfig
  kubectl(admin, "apply", "--server-side", "--field-manager=e2e", "-f", rbacFiles("remote").clusterRole)
  kubectl(admin, "create", "serviceaccount", account, "-n", "default")
  kubectl(
    admin,
    "create",
    "clusterrolebinding",
    account,
    "--clusterrole=kubevirt-operator-remote",
    `--serviceaccount=default:${account}`
  )
  const token = kubectl(admin, "create", "token", account, "-n", "default", "--duration=1h")
  await installKubevirtConfig(supervisor, kvNone, kubeconfigYaml(ctx.supervisor, token))
  await upsert(supervisor, {
    apiVersion: "vitistack.io/v1alpha1",
    kind: "Vitistack",
    metadata: { name: stackName },
    spec: {
      displayName: "e2e",
      region: "e2e-region",
      zone: "e2e-zone",
      infrastructure: "test",
      machineProviders: [{ name: "some-other-provider" }]
    }
  })
  await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
  standin = startStandIn(remote)
})

afterAll(async () => {
  await standin?.stop()
  const admin = ctx.supervisor.adminKubeconfig
  for (const [kind, name, namespace] of [
    ["MachineProvider", providerName],
    ["Vitistack", stackName],
    ["KubevirtConfig", kvReady],
    ["KubevirtConfig", kvNone],
    ["Secret", kvReady, "vitistack"],
    ["Secret", kvNone, "vitistack"]
  ] as const)
    await run(supervisor.delete(refOf(kind, name, namespace)).pipe(Effect.ignore))
  kubectl(admin, "delete", "clusterrolebinding", account, "--ignore-not-found")
  kubectl(admin, "delete", "serviceaccount", account, "-n", "default", "--ignore-not-found")
})

describe("remote cluster health and the MachineProvider on real apiservers", () => {
  it("a remote without KubeVirt is NotReady and holds back only its Machines; the MachineProvider is registered and kept true by the leader only", async () => {
    const options = {
      provider: { name: providerName, vitistack: stackName },
      healthIntervalSeconds: 2,
      leaderElect: true,
      leaseName: `leader-${id}`
    }
    const first = startOperator(ctx.supervisor.operatorKubeconfig, options)
    await eventually("first operator leads", async () =>
      /^kubevirt_operator_leader 1/m.test(await first.metrics()) ? true : undefined
    )
    const standby = startOperator(ctx.supervisor.operatorKubeconfig, options)
    try {
      await upsert(supervisor, machine("runs", kvReady))
      await upsert(supervisor, machine("held", kvNone))

      // The cluster with KubeVirt: Ready, its served versions read from discovery; its Machine runs.
      const ready = await eventually("KubevirtConfig Ready", async () => {
        const s = await statusOf("KubevirtConfig", kvReady)
        return s?.phase === "Ready" ? s : undefined
      })
      expect(ready.status).toBe("KubevirtDeployed")
      expect(ready.message).toBe(
        "KubeVirt kubevirt/kubevirt Deployed (v1.8.2); VirtualMachine kubevirt.io v1, v1alpha3; DataVolume cdi.kubevirt.io v1beta1"
      )
      await eventually("runs Running", async () =>
        (await statusOf("Machine", "runs", ns))?.phase === "Running" ? true : undefined
      )

      // The cluster without KubeVirt: NotReady on its KubevirtConfig, its Machine waits with a reason, nothing created.
      const notReady = await eventually("KubevirtConfig NotReady", async () => {
        const s = await statusOf("KubevirtConfig", kvNone)
        return s?.phase === "NotReady" ? s : undefined
      })
      expect(notReady.status).toBe("KubevirtNotInstalled")
      expect(notReady.message).toMatch(/^KubeVirt is not installed: no KubeVirt resource in any namespace/)
      const held = await eventually("held waits for its cluster", async () => {
        const s = await statusOf("Machine", "held", ns)
        const c = s?.conditions?.find((x: any) => x.type === "Ready")
        return c?.reason === "ClusterNotReady" ? s : undefined
      })
      expect(held.phase).toBe("Creating")
      expect(held.message).toBe(`remote cluster '${kvNone}' is not ready: ${notReady.message}`)
      const onSupervisor = async (kind: "VirtualMachine" | "PersistentVolumeClaim") =>
        (
          await run(
            supervisor.list(
              { apiVersion: kind === "VirtualMachine" ? "kubevirt.io/v1" : "v1", kind },
              { namespace: ns }
            )
          )
        ).items.length
      expect([await onSupervisor("VirtualMachine"), await onSupervisor("PersistentVolumeClaim")]).toEqual([0, 0])

      // The MachineProvider: created with the Vitistack's region, its status filled.
      const provider = await eventually("MachineProvider status", async () => {
        const o = await getObject(supervisor, "MachineProvider", providerName)
        const s = o?.status as Record<string, any> | undefined
        return s?.health?.serviceAvailability?.[kvNone] === "NotReady" && s.activeMachines >= 1 ? o : undefined
      })
      expect(provider.spec).toEqual({
        displayName: providerName,
        providerType: "kubevirt",
        region: "e2e-region",
        authentication: { type: "credentials" }
      })
      const ps = provider.status as Record<string, any>
      expect(ps.phase).toBe("Degraded")
      expect(ps.health.serviceAvailability[kvReady]).toBe("Ready")
      expect(ps.quota.instanceUsed).toBeGreaterThanOrEqual(2)
      expect(ps.quota.storageUsedGB).toBeGreaterThanOrEqual(6)
      expect(ps.conditions[0]).toMatchObject({ type: "Ready", status: "False", reason: "SomeClustersNotReady" })

      // Only the leader checks and writes: its metrics have the health series, the standby's do not.
      const [a, b] = [await first.metrics(), await standby.metrics()]
      const [leader, other] = /^kubevirt_operator_leader 1/m.test(a) ? [a, b] : [b, a]
      expect(leader).toContain(`kubevirt_operator_remote_health{cluster="${kvNone}",phase="NotReady"} 1`)
      expect(leader).toMatch(/^kubevirt_operator_machine_provider_registered 1$/m)
      for (const [resource, version] of [
        ["virtualmachines", "v1"],
        ["virtualmachines", "v1alpha3"],
        ["datavolumes", "v1beta1"]
      ])
        expect(leader).toContain(
          `kubevirt_operator_remote_api_served{cluster="${kvReady}",resource="${resource}",version="${version}"} 1`
        )
      expect(other).not.toContain("kubevirt_operator_remote_health{")
      expect(other).toMatch(/^kubevirt_operator_machine_provider_registered 0$/m)

      // Steady state: several health probes and provider checks (every 2 s) later, none of these objects was written
      // (the Lease renewals of leader election are writes too, so the objects' resourceVersions are compared).
      const leaderOp = /^kubevirt_operator_leader 1/m.test(a) ? first : standby
      const versions = async () =>
        Promise.all(
          (
            [
              ["MachineProvider", providerName],
              ["KubevirtConfig", kvReady],
              ["KubevirtConfig", kvNone],
              ["Machine", "runs", ns],
              ["Machine", "held", ns]
            ] as const
          ).map(
            async ([kind, name, namespace]) =>
              (await getObject(supervisor, kind, name, namespace))?.metadata.resourceVersion
          )
        )
      await eventually("writes to settle", async () => {
        const v = await versions()
        await new Promise((r) => setTimeout(r, 3000))
        return JSON.stringify(await versions()) === JSON.stringify(v) ? true : undefined
      })
      const settled = await versions()
      const probes = await leaderOp.apiRequests(["discover"], kvNone)
      await new Promise((r) => setTimeout(r, 8000))
      expect(await versions()).toEqual(settled)
      expect(await leaderOp.apiRequests(["discover"], kvNone)).toBeGreaterThan(probes)

      // A NotReady cluster does not hold deletion back.
      for (const name of ["held", "runs"]) await run(supervisor.delete(refOf("Machine", name, ns)))
      for (const name of ["held", "runs"])
        await eventually(`${name} released`, async () =>
          (await getObject(supervisor, "Machine", name, ns)) === undefined ? true : undefined
        )
    } finally {
      await standby.stop()
      await first.stop()
    }
  })
})
