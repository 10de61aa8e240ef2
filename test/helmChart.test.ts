/**
 * The Helm chart, checked statically (no helm needed; CI runs `helm lint` and `helm template`, and the integration
 * tier installs the rendered chart): its CRDs are deploy/crds byte for byte, both RBAC sides have exactly the rules of
 * deploy/rbac, every environment variable `run` reads has a value in the Deployment, the dashboard queries only
 * metrics the operator registers, and the memory figures of the chart and deploy/ agree and cover the measured peak.
 */
import { readdirSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { load, loadAll } from "js-yaml"
import { RUN_USAGE } from "../src/runtime/cli/run.ts"
import { makeOperatorMetrics } from "../src/runtime/Metrics.ts"
import { chartDir as chart, dashboardMetricNames } from "./fixtures/helmChart.ts"

const yaml = (path: string) => load(readFileSync(path, "utf8")) as Record<string, any>
const docs = (path: string) => loadAll(readFileSync(path, "utf8")) as Array<Record<string, any>>

/** `1Gi`, `768Mi` in MiB. */
const mebibytes = (q: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q)
  if (m === null) throw new Error(`unexpected quantity ${q}`)
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1)
}

describe("deploy/helm/kubevirt-operator", () => {
  it("crds/ holds exactly the files of deploy/crds, byte for byte", () => {
    const files = readdirSync("deploy/crds").sort()
    assert.deepStrictEqual(readdirSync(`${chart}/crds`).sort(), files)
    for (const f of files)
      assert.strictEqual(readFileSync(`${chart}/crds/${f}`, "utf8"), readFileSync(`deploy/crds/${f}`, "utf8"), f)
  })

  it.each(["supervisor", "remote"])("the %s ClusterRole's rules are those of deploy/rbac", (side) => {
    const shipped = docs(`deploy/rbac/${side}-clusterrole.yaml`)[0]!
    assert.deepStrictEqual(yaml(`${chart}/files/rbac/${side}-rules.yaml`).rules, shipped.rules)
    const template = readFileSync(`${chart}/templates/${side}-rbac.yaml`, "utf8")
    assert.include(template, `{{ .Files.Get "files/rbac/${side}-rules.yaml" }}`)
  })

  it("the remote NetworkAttachmentDefinition ClusterRole (remote.manageNetworkAttachments) is that of deploy/rbac", () => {
    const shipped = docs("deploy/rbac/remote-networkattachments-clusterrole.yaml")[0]!
    assert.deepStrictEqual(yaml(`${chart}/files/rbac/remote-networkattachments-rules.yaml`).rules, shipped.rules)
    const template = readFileSync(`${chart}/templates/remote-rbac.yaml`, "utf8")
    assert.include(template, '{{ .Files.Get "files/rbac/remote-networkattachments-rules.yaml" }}')
    assert.include(template, "{{- if .Values.remote.manageNetworkAttachments }}")
    assert.isFalse(yaml(`${chart}/values.yaml`).remote.manageNetworkAttachments)
    assert.isFalse(yaml(`${chart}/values.yaml`).createNetworkAttachments)
  })

  it("every environment variable `run` reads is set by the chart's Deployment", () => {
    const names = [
      ...new Set([...RUN_USAGE.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\bKUBECONFIG\b/g)].map((m) => m[0]))
    ]
    assert.includeMembers(names, [
      "KUBECONFIG",
      "LEADER_ELECT",
      "LOG_LEVEL",
      "CPU_MODEL",
      "MAC_SET",
      "IP_SOURCE",
      "CREATE_NETWORK_ATTACHMENTS",
      "NETWORK_ATTACHMENT_DEFINITION_CNI_VERSION"
    ])
    const template = readFileSync(`${chart}/templates/deployment.yaml`, "utf8")
    for (const n of names) assert.include(template, `- name: ${n}\n`, `${n} has no value in the chart`)
  })

  it("the dashboard queries only metrics the operator exports, and covers the panels the issue asks for", () => {
    const families = new Map(
      [
        ...makeOperatorMetrics()
          .registry.exposeUnsafe()
          .matchAll(/^# TYPE (\S+) (\S+)$/gm)
      ].map((m) => [m[1]!, m[2]!])
    )
    const used = dashboardMetricNames()
    for (const name of used) {
      const family = name.replace(/_bucket$/, "")
      assert.isTrue(families.has(family), `${name} is not a metric of the operator`)
      if (name !== family) assert.strictEqual(families.get(family), "histogram", name)
    }
    assert.includeMembers(
      [...used],
      [
        "kubevirt_operator_reconcile_total",
        "kubevirt_operator_reconcile_errors_total",
        "kubevirt_operator_workqueue_depth",
        "kubevirt_operator_workqueue_latency_seconds_bucket",
        "kubevirt_operator_api_requests_total",
        "kubevirt_operator_machines",
        "kubevirt_operator_remote_reachable"
      ]
    )
    const template = readFileSync(`${chart}/templates/dashboard.yaml`, "utf8")
    assert.include(template, '{{ .Files.Get "files/dashboard.json"')
    assert.deepStrictEqual(yaml(`${chart}/values.yaml`).dashboard.labels, { grafana_dashboard: "1" })
  })

  it("no HorizontalPodAutoscaler; leader election on by default", () => {
    for (const f of readdirSync(`${chart}/templates`))
      assert.notInclude(readFileSync(`${chart}/templates/${f}`, "utf8"), "HorizontalPodAutoscaler", f)
    assert.isTrue(yaml(`${chart}/values.yaml`).leaderElection.enabled)
  })

  it("memory: the chart and deploy/ agree; the limit is above the measured peak (541 MiB at 10,000 Machines)", () => {
    const values = yaml(`${chart}/values.yaml`).resources
    const deployment = docs("deploy/deployment.yaml").find((d) => d.kind === "Deployment")!
    const deployed = deployment.spec.template.spec.containers[0].resources
    assert.deepStrictEqual(deployed, values)
    assert.isAtLeast(mebibytes(values.limits.memory), 541 * 1.2)
    assert.isAtLeast(mebibytes(values.requests.memory), 362)
  })
})
