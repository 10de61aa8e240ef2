/**
 * The operator as an attacker would try it, end to end on the real apiservers (issue "Hardening"): KubevirtConfig
 * Secrets that name local files or run code, pointed at a TLS capture server on 127.0.0.1 that would accept any
 * request. Nothing of the files reaches it (nothing reaches it at all), no plugin runs, and each Machine's status
 * names the KubevirtConfig and the field without echoing a path or a value.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { dump, load } from "js-yaml"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  startOperator,
  upsert
} from "./operatorEnv.ts"

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
