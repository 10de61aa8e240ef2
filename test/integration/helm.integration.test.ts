/**
 * The Helm chart on the real apiservers: `helm template` (helm built from its Go module, test/tools/helm) renders the
 * supervisor side, which is applied to the supervisor (CRDs, ServiceAccount, ClusterRole and binding, Deployment,
 * Service, dashboard ConfigMap), and the remote side (`target=remote`), which is applied to the remote. There is no
 * kubelet, so the Deployment's pod is played by hand, faithfully: the operator process is started with exactly the
 * rendered container's arguments and environment (downward-API fields resolved as the kubelet would), the image's
 * entrypoint (`node main.js`, the operator bundled as in the Dockerfile: scripts/image/bundle.ts) and a kubeconfig holding a token of the rendered
 * ServiceAccount; its remote kubeconfig holds a token of the remote side's ServiceAccount. It must take the Lease and
 * reconcile a Machine to Running with those identities alone, and its /metrics must carry every metric the chart's
 * Grafana dashboard queries.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { loadAll } from "js-yaml"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { bundle, IMAGE_MAIN } from "../../scripts/image/bundle.ts"
import { IMAGE_NODE_ARGS } from "../../scripts/image/nodeFlags.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { chartDir, dashboardMetricNames } from "../fixtures/helmChart.ts"
import { repoRoot } from "../harness/clusters.ts"
import { runKubectl } from "../harness/kubectl.ts"
import {
  eventually,
  getObject,
  installKubevirtConfig,
  kubeconfigYaml,
  liveClient,
  run,
  startStandIn,
  upsert
} from "./operatorEnv.ts"

const ctx = inject("clusters")
const id = Math.random().toString(36).slice(2, 7)
const release = `kvo-${id}`
const namespace = `kvo-${id}`
const work = mkdtempSync(join(tmpdir(), "helm-it-"))

/** helm from the content-hash cache (built by test/tools/helm/build.sh; CI builds it before the tests). */
const buildHelm = () =>
  new Promise<string>((resolve, reject) =>
    execFile("bash", [join(repoRoot, "test/tools/helm/build.sh")], { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err === null ? resolve(join(stdout.trim().split("\n").at(-1)!, "helm")) : reject(new Error(`${err}\n${stderr}`))
    )
  )

const helm = (bin: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      bin,
      [...args],
      {
        cwd: repoRoot,
        maxBuffer: 64 << 20,
        // helm's own config, cache and data stay in this test's directory.
        env: {
          ...process.env,
          HELM_CONFIG_HOME: join(work, "helm/config"),
          HELM_CACHE_HOME: join(work, "helm/cache"),
          HELM_DATA_HOME: join(work, "helm/data")
        }
      },
      (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`helm ${args.join(" ")}: ${stderr}`)))
    )
  )

const kubectl = (kubeconfig: string, args: ReadonlyArray<string>, input?: string) =>
  runKubectl(ctx.kubectl, kubeconfig, args, input === undefined ? {} : { input }).then((r) => r.stdout.trim())

const apply = (kubeconfig: string, manifests: string) =>
  kubectl(
    kubeconfig,
    ["apply", "--server-side", "--force-conflicts", "--field-manager=helm-test", "-f", "-"],
    manifests
  )

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      s.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** Waits until the identity in `kubeconfig` may do `verb resource` (RBAC is informer-fed: it takes a moment). */
const authorized = (kubeconfig: string, verb: string, resource: string) =>
  eventually(`${kubeconfig}: may ${verb} ${resource}`, async () => {
    const r = await runKubectl(ctx.kubectl, kubeconfig, ["auth", "can-i", verb, resource], { check: false })
    return r.stdout.trim() === "yes" ? true : undefined
  })

let helmBin: string
let supervisor: KubeApiService
let remote: KubeApiService
let standin: { stop: () => Promise<void> } | undefined

beforeAll(async () => {
  helmBin = await buildHelm()
  supervisor = await liveClient(ctx.supervisor.adminKubeconfig)
  remote = await liveClient(ctx.remote.adminKubeconfig)
  standin = startStandIn(remote)
}, 900_000)
afterAll(async () => {
  await standin?.stop()
})

describe("the Helm chart on real apiservers", () => {
  it("helm lint passes for both sides", async () => {
    await helm(helmBin, ["lint", chartDir, "--strict"])
    await helm(helmBin, ["lint", chartDir, "--strict", "--set", "target=remote"])
  })

  it("installs on the apiservers; the operator run from the rendered Deployment reconciles a Machine and exports every metric the dashboard queries", async () => {
    const port = await freePort()
    // The supervisor side, as `helm install` would create it (CRDs included), with the dashboard.
    const rendered = await helm(helmBin, [
      "template",
      release,
      chartDir,
      "--namespace",
      namespace,
      "--include-crds",
      "--set",
      `health.port=${port}`,
      "--set",
      "dashboard.enabled=true"
    ])
    const objects = (loadAll(rendered) as Array<Record<string, any> | null>).filter(
      (o): o is Record<string, any> => o !== null
    )
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "ConfigMap",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "Deployment",
      "Service",
      "ServiceAccount"
    ])
    await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } })
    await apply(ctx.supervisor.adminKubeconfig, rendered)
    // The ClusterRole applied is exactly the shipped one.
    const shippedRules = (
      loadAll(readFileSync(join(repoRoot, "deploy/rbac/supervisor-clusterrole.yaml"), "utf8"))[0] as Record<string, any>
    ).rules
    expect(objects.find((o) => o.kind === "ClusterRole")!.rules).toEqual(shippedRules)

    // The remote side on the remote cluster, and a token of its ServiceAccount in the KubevirtConfig Secret.
    const remoteRendered = await helm(helmBin, [
      "template",
      `${release}-remote`,
      chartDir,
      "-n",
      namespace,
      "--set",
      "target=remote"
    ])
    await upsert(remote, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } })
    await apply(ctx.remote.adminKubeconfig, remoteRendered)
    const remoteSa = (loadAll(remoteRendered) as Array<Record<string, any> | null>).find(
      (o) => o?.kind === "ServiceAccount"
    )!.metadata.name
    const remoteToken = await kubectl(ctx.remote.adminKubeconfig, ["create", "token", remoteSa, "-n", namespace])
    const remoteKubeconfig = join(work, "remote.kubeconfig")
    writeFileSync(remoteKubeconfig, kubeconfigYaml(ctx.remote, remoteToken))
    await authorized(remoteKubeconfig, "create", "namespaces")
    await authorized(remoteKubeconfig, "create", "virtualmachines.kubevirt.io")
    const config = `helm-${id}`
    await installKubevirtConfig(supervisor, config, kubeconfigYaml(ctx.remote, remoteToken))

    // The pod, played by hand: the rendered container's args and env, the ServiceAccount's token.
    const deployment = objects.find((o) => o.kind === "Deployment")!
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    const podName = `${deployment.metadata.name}-0`
    const sa = pod.serviceAccountName as string
    const token = await kubectl(ctx.supervisor.adminKubeconfig, ["create", "token", sa, "-n", namespace])
    const kubeconfig = join(work, "supervisor.kubeconfig")
    writeFileSync(kubeconfig, kubeconfigYaml(ctx.supervisor, token))
    await authorized(kubeconfig, "list", "machines.vitistack.io")
    await authorized(kubeconfig, "create", "leases.coordination.k8s.io")
    const env: Record<string, string> = {}
    for (const e of container.env as ReadonlyArray<Record<string, any>>) {
      const field = e.valueFrom?.fieldRef?.fieldPath
      if (e.value !== undefined) env[e.name] = e.value
      else if (field === "metadata.namespace") env[e.name] = namespace
      else if (field === "metadata.name") env[e.name] = podName
      else throw new Error(`env ${e.name}: no value this test can resolve`)
    }
    expect(env.LEADER_ELECT).toBe("true")
    expect(env.HEALTH_BIND_ADDRESS).toBe(`:${port}`)
    // The image's entrypoint (Dockerfile and scripts/image/build.ts) and environment; the supervisor from the token.
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8")
    expect(dockerfile).toContain(
      `ENTRYPOINT ["node", ${IMAGE_NODE_ARGS.map((a) => `"${a}", `).join("")}"${IMAGE_MAIN}"]`
    )
    // The operator as the image ships it: one bundle (scripts/image/bundle.ts), beside node_modules.
    const app = mkdtempSync(join(tmpdir(), "kvo-app-"))
    await bundle(join(repoRoot, "src", "runtime", "main.ts"), join(app, IMAGE_MAIN))
    symlinkSync(join(repoRoot, "node_modules"), join(app, "node_modules"))
    symlinkSync(join(repoRoot, "package.json"), join(app, "package.json"))
    const operator: ChildProcess = spawn(process.execPath, [...IMAGE_NODE_ARGS, IMAGE_MAIN, ...container.args], {
      cwd: app,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production", ...env, KUBECONFIG: kubeconfig },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    operator.stdout?.on("data", (d) => {
      output += d
    })
    operator.stderr?.on("data", (d) => {
      output += d
    })
    const exited = new Promise<number | null>((resolve) => operator.once("exit", (code) => resolve(code)))
    const base = `http://127.0.0.1:${port}`
    const machineNs = `helm-${id}`
    try {
      await eventually("readyz", async () =>
        (await fetch(`${base}/readyz`).catch(() => undefined))?.ok ? true : undefined
      )
      await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: machineNs } })
      await upsert(supervisor, {
        apiVersion: "vitistack.io/v1alpha1",
        kind: "Machine",
        metadata: { name: "chart-vm", namespace: machineNs, annotations: { "vitistack.io/kubevirt-config": config } },
        spec: { provider: "kubevirt" }
      })
      await eventually("chart-vm Running", async () => {
        const s = (await getObject(supervisor, "Machine", "chart-vm", machineNs))?.status as
          | Record<string, any>
          | undefined
        return s?.phase === "Running" ? s : undefined
      })
      const lease = await getObject(supervisor, "Lease", "kubevirt-operator-leader", namespace)
      // This process leads (its identity is the hostname, which in a pod is the pod's name, and a random suffix).
      expect((lease?.spec as Record<string, any> | undefined)?.holderIdentity).toMatch(new RegExp(`^${hostname()}_`))

      // Every metric the dashboard queries is in the scrape; each with samples, except the errors counter, which has
      // series only after a failed reconcile. Labels the panels group by are on those samples.
      const metrics = await eventually("metrics after the reconcile", async () => {
        const text = await (await fetch(`${base}/metrics`)).text()
        return text.includes('kubevirt_operator_machines{phase="Running"} 1') ? text : undefined
      })
      const samples = (name: string) =>
        metrics.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      for (const name of dashboardMetricNames()) {
        const family = name.replace(/_bucket$/, "")
        expect(metrics, name).toContain(`# TYPE ${family} `)
        if (family !== "kubevirt_operator_reconcile_errors_total") expect(samples(name), name).not.toEqual([])
      }
      const dashboard = JSON.parse(readFileSync(join(repoRoot, chartDir, "files/dashboard.json"), "utf8"))
      for (const panel of dashboard.panels)
        for (const t of panel.targets ?? []) {
          const name = /kubevirt_operator_[a-z0-9_]+/.exec(t.expr)?.[0]
          const by =
            /by \(([^)]*)\)/
              .exec(t.expr)?.[1]
              ?.split(",")
              .map((l: string) => l.trim()) ?? []
          // namespace and pod come from the scrape target, le from the histogram.
          for (const label of by.filter((l: string) => !["le", "namespace", "pod"].includes(l)))
            if (name !== undefined && samples(name).length > 0)
              expect(
                samples(name).some((l) => l.includes(`${label}="`)),
                `${name} by ${label}`
              ).toBe(true)
        }
      expect(metrics).toContain("kubevirt_operator_leader 1")
      expect(metrics).toContain(`kubevirt_operator_remote_reachable{cluster="${config}"} 1`)

      // Deletion through the same identities, then SIGTERM: a clean stop.
      await run(supervisor.delete(refOf("Machine", "chart-vm", machineNs)).pipe(Effect.ignore))
      await eventually("chart-vm released", async () =>
        (await getObject(supervisor, "Machine", "chart-vm", machineNs)) === undefined ? true : undefined
      )
      operator.kill("SIGTERM")
      expect(await exited).toBe(0)
    } catch (e) {
      throw new Error(`${(e as Error).message}\noperator output:\n${output.slice(-4000)}`)
    } finally {
      if (operator.exitCode === null) operator.kill("SIGKILL")
      // The clusters are shared with the other files: this file's KubevirtConfig goes (cluster roles may stay).
      await run(supervisor.delete(refOf("KubevirtConfig", config)).pipe(Effect.ignore))
      await run(supervisor.delete(refOf("Secret", config, "vitistack")).pipe(Effect.ignore))
    }
  })
})
