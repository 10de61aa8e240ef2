/**
 * The operator as an attacker or an unlucky operator would try it, end to end on the real apiservers (issue
 * "Hardening"):
 * - KubevirtConfig Secrets that name local files or run code, pointed at a TLS capture server on 127.0.0.1 that would
 *   accept any request. Nothing of the files reaches it (nothing reaches it at all), no plugin runs, and each
 *   Machine's status names the KubevirtConfig and the field without echoing a path or a value (item 1).
 * - A remote behind a TCP proxy that accepts connections and never answers, with 8 Machines on it: a Machine on the
 *   healthy remote runs in its normal time, and the hung cluster's Machines say it is unreachable (item 2).
 * - A Machine whose spec.provider changes after placement: its VM is left alone, a condition says so, and deleting
 *   it removes the VM and PVCs and releases it (item 6).
 * - Tenancy: a namespace a KubevirtConfig does not allow gets a condition and nothing on the remote; allowing it by a
 *   selector on its (supervisor) labels lets it run, with the shipped supervisor ClusterRole (item 10).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Effect } from "effect"
import { dump, load } from "js-yaml"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  machineOn,
  machineStatusReads,
  released,
  run,
  startOperator,
  startStandIn,
  upsert
} from "./operatorEnv.ts"
import { startTcpProxy, type TcpProxy } from "./tcpProxy.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const ns = `e2e-hostile-${id}`
let supervisor: KubeApiService

interface Captured {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: string
  readonly body: string
}
const captured: Array<Captured> = []
let capture: Server
let captureUrl: string

const dir = mkdtempSync(join(tmpdir(), "hostile-"))
const canary = `canary-${Math.random().toString(36).slice(2)}`
const canaryFile = join(dir, "token")
writeFileSync(canaryFile, canary)
const marker = join(dir, "plugin-ran")

beforeAll(async () => {
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  // The remote apiserver's own serving certificate (for 127.0.0.1, signed by the CA the kubeconfigs trust): the
  // capture server is a server the operator would happily talk to.
  const pki = dirname(ctx.remote.caFile)
  capture = createServer(
    { cert: readFileSync(join(pki, "apiserver.crt")), key: readFileSync(join(pki, "apiserver.key")) },
    (req, res) => {
      let body = ""
      req.on("data", (c) => {
        body += String(c)
      })
      req.on("end", () => {
        captured.push({ method: req.method, url: req.url, headers: JSON.stringify(req.headers), body })
        res.writeHead(200, { "content-type": "application/json" })
        res.end('{"kind":"Status","status":"Success"}')
      })
    }
  )
  await new Promise<void>((r) => capture.listen(0, "127.0.0.1", r))
  captureUrl = `https://127.0.0.1:${(capture.address() as AddressInfo).port}`
  await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
})
afterAll(async () => {
  await new Promise((r) => capture?.close(r))
})

/** The remote's kubeconfig, aimed at the capture server, with `user` / `cluster` fields replaced. */
const hostile = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}) => {
  const doc = load(kubeconfigYaml(ctx.remote, "placeholder")) as any
  doc.clusters[0].cluster = { ...doc.clusters[0].cluster, server: captureUrl, ...cluster }
  doc.users[0].user = user
  return dump(doc)
}

const cases = [
  { name: "token-file", kubeconfig: () => hostile({ "token-file": canaryFile }), field: "user.token-file" },
  { name: "tokenfile-camel", kubeconfig: () => hostile({ tokenFile: canaryFile }), field: "user.tokenFile" },
  {
    name: "client-key",
    kubeconfig: () => hostile({ "client-certificate": canaryFile, "client-key": canaryFile }),
    field: "user.client-"
  },
  {
    name: "ca-file",
    kubeconfig: () => hostile({ token: "t" }, { "certificate-authority": canaryFile }),
    field: "cluster.certificate-authority"
  },
  {
    name: "exec",
    kubeconfig: () =>
      hostile({
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", `echo x > ${marker}`] }
      }),
    field: "user.exec"
  },
  {
    name: "auth-provider",
    kubeconfig: () => hostile({ "auth-provider": { name: "gcp", config: { "cmd-path": `/usr/bin/touch ${marker}` } } }),
    field: "user.auth-provider"
  },
  { name: "missing-file", kubeconfig: () => hostile({ "token-file": "/nonexistent/token" }), field: "user.token-file" }
] as const

const machine = (name: string, config: string): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace: ns, annotations: { "vitistack.io/kubevirt-config": config } },
  spec: { provider: "kubevirt" }
})

describe("hostile KubevirtConfig Secrets on real apiservers", () => {
  it("no file is read or sent, no plugin runs, each Machine names the KubevirtConfig and the field", async () => {
    for (const c of cases) await installKubevirtConfig(supervisor, `hostile-${c.name}-${id}`, c.kubeconfig())
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      for (const c of cases) await upsert(supervisor, machine(c.name, `hostile-${c.name}-${id}`))
      for (const c of cases) {
        const message = await eventually(`${c.name}: a refusal on the Machine`, async () => {
          const m = await getObject(supervisor, "Machine", c.name, ns)
          const text = JSON.stringify(m?.status ?? {})
          return text.includes(`KubevirtConfig hostile-${c.name}-${id}`) ? text : undefined
        })
        expect(message).toContain(c.field)
        for (const secret of [canary, canaryFile, "/nonexistent", marker, "/bin/sh", "ENOENT"])
          expect(message).not.toContain(secret)
      }
      expect(captured).toEqual([])
      expect(existsSync(marker)).toBe(false)
    } finally {
      await op.stop()
    }
  })
})

// Items 2, 6 and 10 share the real remote (with the KubeVirt stand-in) and one helper set.
const placedMachine = (name: string, namespace: string, config: string, spec: Record<string, unknown> = {}) =>
  machineOn(name, namespace, config, spec)
const { statusOf, conditionOf, isRunning } = machineStatusReads(() => supervisor)
/** Deletes Machines (orphaning their remote objects when asked) and waits until the operator released them. */
const release = async (machines: ReadonlyArray<readonly [string, string]>, orphan = false) => {
  for (const [n, where] of machines) {
    if (orphan)
      await run(
        supervisor
          .patch(refOf("Machine", n, where), {
            metadata: { annotations: { "vitistack.io/deletion-policy": "Orphan" } }
          })
          .pipe(Effect.ignore)
      )
    await run(supervisor.delete(refOf("Machine", n, where)).pipe(Effect.ignore))
  }
  for (const [n, where] of machines) await released(supervisor, n, where)
}
const removeConfigs = async (names: ReadonlyArray<string>) => {
  for (const n of names) await run(supervisor.delete(refOf("KubevirtConfig", n)).pipe(Effect.ignore))
}
const remoteNames = async (
  remote: KubeApiService,
  kind: "VirtualMachine" | "PersistentVolumeClaim",
  namespace: string
) =>
  (
    await run(remote.list({ apiVersion: kind === "VirtualMachine" ? "kubevirt.io/v1" : "v1", kind }, { namespace }))
  ).items
    .map((o) => o.metadata.name)
    .sort()

describe("a hung remote does not stall the healthy one (item 2)", () => {
  // Accepts every connection and never sends a byte: TLS handshakes and requests hang until the client gives up.
  let blackHole: TcpProxy

  beforeAll(async () => {
    blackHole = await startTcpProxy("blackHole")
  })
  afterAll(async () => {
    await blackHole?.close()
  })

  it("8 Machines on a cluster that never answers: a Machine on the healthy cluster runs in its normal time; theirs say unreachable, not Failed", async () => {
    const remote = await liveClient(ctx.remote.adminKubeconfig)
    const healthy = `healthy-${id}`
    const hung = `hung-${id}`
    const hungUrl = blackHole.url
    await installKubevirtConfig(supervisor, healthy, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await installKubevirtConfig(
      supervisor,
      hung,
      kubeconfigYaml({ ...ctx.remote, server: hungUrl }, ctx.remote.operatorTokens.primary)
    )
    const okNs = `e2e-healthy-${id}`
    const hungNs = `e2e-hung-${id}`
    for (const n of [okNs, hungNs])
      await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: n } })
    const standin = startStandIn(remote)
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    const hungMachines = Array.from({ length: 8 }, (_, i) => [`stuck-${i}`, hungNs] as const)
    const late = ["late-0", "late-1", "late-2"]
    try {
      // The normal time, measured now on this machine: one Machine on the healthy cluster, nothing hung.
      let t = Date.now()
      await upsert(supervisor, placedMachine("baseline", okNs, healthy))
      await eventually("baseline Running", () => isRunning("baseline", okNs))
      const alone = Date.now() - t

      for (const [n, where] of hungMachines) await upsert(supervisor, placedMachine(n, where, hung))
      // The hung cluster's reconciles are under way (their requests sit in the black hole) when the others arrive.
      await eventually("requests in the black hole", async () => (blackHole.accepted() >= 2 ? true : undefined), 20_000)
      t = Date.now()
      for (const n of late) await upsert(supervisor, placedMachine(n, okNs, healthy))
      for (const n of late) await eventually(`${n} Running`, () => isRunning(n, okNs), 60_000)
      const beside = Date.now() - t
      process.stderr.write(`[hung remote] healthy Machine alone ${alone} ms; 3 beside 8 hung ones ${beside} ms\n`)
      expect(beside).toBeLessThan(alone + 5000)
      expect(blackHole.open()).toBeGreaterThan(0)

      // The hung cluster's Machines: Pending (nothing known yet), the cluster unreachable, Ready Unknown; not Failed.
      for (const [n, where] of hungMachines) {
        const reachable = await eventually(
          `${n} RemoteReachable False`,
          async () => {
            const c = await conditionOf(n, where, "RemoteReachable")
            return c?.status === "False" ? c : undefined
          },
          90_000
        )
        expect(reachable.message).toMatch(/timed out|not answering|Timeout|timeout/i)
        const s = await statusOf(n, where)
        expect(s?.phase).toBe("Pending")
        expect(s?.failureReason).toBeUndefined()
        expect((await conditionOf(n, where, "Ready"))?.status).toBe("Unknown")
      }
      expect(await remoteNames(remote, "VirtualMachine", hungNs)).toEqual([])
      await release([["baseline", okNs], ...late.map((n) => [n, okNs] as const)])
      await release(hungMachines, true)
    } finally {
      await op.stop()
      await standin.stop()
      await removeConfigs([healthy, hung])
    }
  })
})

describe("spec.provider changed after placement (item 6)", () => {
  it("the VM is left as it is and SpecApplied says why; deleting the Machine removes its VM and PVCs and releases it", async () => {
    const remote = await liveClient(ctx.remote.adminKubeconfig)
    const config = `moved-${id}`
    const where = `e2e-moved-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: where } })
    const standin = startStandIn(remote)
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(
        supervisor,
        placedMachine("moved", where, config, {
          disks: [
            { name: "root", sizeGB: 1, boot: true },
            { name: "data", sizeGB: 1 }
          ]
        })
      )
      await eventually("moved Running", () => isRunning("moved", where))
      expect(await remoteNames(remote, "PersistentVolumeClaim", where)).toEqual(["moved", "moved-data"])
      // Another provider takes the Machine over (and asks for more cores): nothing remote changes.
      await run(
        supervisor.patch(refOf("Machine", "moved", where), { spec: { provider: "proxmox", cpu: { cores: 8 } } })
      )
      const c = await eventually("SpecApplied False", async () => {
        const x = await conditionOf("moved", where, "SpecApplied")
        return x?.status === "False" ? x : undefined
      })
      expect(c.reason).toBe("ProviderChanged")
      expect(c.message).toContain("spec.provider")
      await new Promise((r) => setTimeout(r, 3000))
      const vm = await getObject(remote, "VirtualMachine", "moved", where)
      expect((vm?.spec as any)?.template?.spec?.domain?.cpu?.cores).toBe(2)
      const m = await getObject(supervisor, "Machine", "moved", where)
      expect(m?.metadata.finalizers).toContain("machine.vitistack.io/finalizer")

      // Deleted: cleaned up as any Machine of ours, then released (it was stranded with its finalizer before).
      await run(supervisor.delete(refOf("Machine", "moved", where)))
      await eventually("moved released", async () =>
        (await getObject(supervisor, "Machine", "moved", where)) === undefined ? true : undefined
      )
      await eventually("VM and PVCs gone", async () =>
        (await remoteNames(remote, "VirtualMachine", where)).length === 0 &&
        (await remoteNames(remote, "PersistentVolumeClaim", where)).length === 0
          ? true
          : undefined
      )
    } finally {
      await op.stop()
      await standin.stop()
      await removeConfigs([config])
    }
  })
})

describe("tenancy (item 10)", () => {
  it("a namespace the KubevirtConfig does not allow gets a condition and nothing remote; a selector on its labels lets it in", async () => {
    const remote = await liveClient(ctx.remote.adminKubeconfig)
    const config = `tenancy-${id}`
    const allowed = `e2e-ten-a-${id}`
    const outside = `e2e-ten-b-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, ctx.remote.operatorTokens.primary))
    await run(
      supervisor.patch(refOf("KubevirtConfig", config), {
        metadata: { annotations: { "vitistack.io/allowed-namespaces": allowed } }
      })
    )
    for (const n of [allowed, outside])
      await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: n } })
    const standin = startStandIn(remote)
    const op = startOperator(ctx.supervisor.operatorKubeconfig)
    try {
      await upsert(supervisor, placedMachine("in", allowed, config))
      await upsert(supervisor, placedMachine("out", outside, config))
      await eventually("in Running", () => isRunning("in", allowed))
      const s = await eventually("out refused", async () => {
        const x = await statusOf("out", outside)
        return x?.failureReason === "NamespaceNotAllowed" ? x : undefined
      })
      expect(s.phase).toBe("Failed")
      expect(s.failureMessage).toContain(`namespace '${outside}' may not use KubevirtConfig '${config}'`)
      expect((await conditionOf("out", outside, "Placed"))?.status).toBe("False")
      expect(await getObject(remote, "Namespace", outside)).toBeUndefined()

      // The cluster's owner allows namespaces with a label; the namespace gets it: the Machine runs.
      await run(
        supervisor.patch(refOf("KubevirtConfig", config), {
          metadata: { annotations: { "vitistack.io/allowed-namespace-selector": `tenant-${id}=blue` } }
        })
      )
      await new Promise((r) => setTimeout(r, 2000))
      expect(await getObject(remote, "Namespace", outside)).toBeUndefined()
      await run(supervisor.patch(refOf("Namespace", outside), { metadata: { labels: { [`tenant-${id}`]: "blue" } } }))
      await eventually("out Running", () => isRunning("out", outside))
      await release([
        ["in", allowed],
        ["out", outside]
      ])
    } finally {
      await op.stop()
      await standin.stop()
      await removeConfigs([config])
    }
  })
})
