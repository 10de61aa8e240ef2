/**
 * Runs the KubeApi contract against real kube-apiservers (test/harness, ADR 0002) through the live layer, as
 * cluster admin; each test works in its own `ct-*` namespace. Integration tier only.
 */
import { readFileSync } from "node:fs"
import { inject } from "vitest"
import { layerLive } from "../../../src/effects/kube/clients.ts"
import { kubeApiContract, liveEventually } from "./contract.ts"

const clusters = inject("clusters")

for (const cluster of [clusters.remote, clusters.supervisor]) {
  const kubeconfig = readFileSync(cluster.adminKubeconfig, "utf8")
  kubeApiContract(`KubeApi contract: real kube-apiserver (${cluster.name})`, () => layerLive(kubeconfig), {
    runner: "live",
    eventually: liveEventually,
    timeout: 120_000
  })
}
