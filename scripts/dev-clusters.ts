// Starts the two local test clusters (`supervisor` and `remote`: real kube-apiserver + etcd +
// kube-controller-manager, every shared CRD, RBAC from deploy/rbac) for a person, prints how to
// use them, and stops them on Ctrl-C.
//
//   npm run dev:clusters            (node scripts/dev-clusters.ts)
//
// The clusters' coordinates are also written to a JSON file; running the integration tests with
// KCLUSTER_ATTACH=<that file> reuses these clusters instead of starting new ones.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startEnvironment } from "../test/harness/environment.ts"

const baseDir = mkdtempSync(join(tmpdir(), `kcluster-${process.pid}-`))
process.stderr.write("Starting supervisor and remote clusters (the first run builds kcluster: several minutes)...\n")
const t0 = Date.now()
const env = await startEnvironment({ baseDir })
const { supervisor, remote, kubectl, crds } = env.context
const contextFile = join(baseDir, "clusters.json")
writeFileSync(contextFile, `${JSON.stringify(env.context, null, 2)}\n`)

const rows = (c: typeof supervisor): string =>
  [
    `  server:                 ${c.server}`,
    `  admin kubeconfig:       ${c.adminKubeconfig}`,
    `  operator kubeconfig:    ${c.operatorKubeconfig}`,
    `  operator (rotated tok): ${c.operatorRotatedKubeconfig}`,
    `  log:                    ${c.logPath}`
  ].join("\n")

process.stdout.write(`
Clusters ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${crds.length} CRDs on each).

supervisor
${rows(supervisor)}

remote
${rows(remote)}

kubectl (same version as the apiservers): ${kubectl}

  export KUBECONFIG=${supervisor.adminKubeconfig}
  ${kubectl} get crds
  ${kubectl} --kubeconfig ${remote.operatorKubeconfig} auth can-i --list

Point the operator at them:
  supervisor: KUBECONFIG=${supervisor.operatorKubeconfig}
  remote:     store ${remote.operatorKubeconfig} in a Secret on the supervisor, e.g.
    ${kubectl} --kubeconfig ${supervisor.adminKubeconfig} -n default create secret generic remote-kubeconfig \\
      --from-file=kubeconfig=${remote.operatorKubeconfig}
    and reference it from a KubevirtConfig (spec.secretNamespace: default, spec.kubeconfigSecretRef: remote-kubeconfig)

Run the integration tests against these clusters:
  KCLUSTER_ATTACH=${contextFile} npx vitest run test/integration

Press Ctrl-C to stop.
`)

let stopping = false
const stop = async (signal: string): Promise<void> => {
  if (stopping) return
  stopping = true
  process.stderr.write(`\n${signal}: stopping clusters...\n`)
  await env.stop()
  rmSync(baseDir, { recursive: true, force: true })
  process.exit(0)
}
process.on("SIGINT", () => void stop("SIGINT"))
process.on("SIGTERM", () => void stop("SIGTERM"))
