// The two-cluster test environment: `supervisor` and `remote`, each with every shared CRD and
// the shipped RBAC for the restricted user `operator`, and KubeVirt deployed on the remote (its KubeVirt resource).
// Used by globalSetup.ts and scripts/dev-clusters.ts.
import { readFileSync } from "node:fs"
import {
  type Clusters,
  ensureBinaries,
  type RunningCluster,
  type StartClusterOptions,
  startClusters
} from "./clusters.ts"
import { installCrds } from "./crds.ts"
import { type ClusterRoleKind, installIdentities, operatorUser } from "./identities.ts"
import { installKubevirt } from "./kubevirt.ts"

/** JSON-serialisable view of one cluster, as handed to tests through vitest's provide/inject. */
export interface ClusterContext {
  readonly name: string
  /** https://127.0.0.1:PORT */
  readonly server: string
  readonly caFile: string
  readonly adminKubeconfig: string
  /** Kubeconfig of user `operator` (bound to deploy/rbac/<name>-clusterrole.yaml). */
  readonly operatorKubeconfig: string
  /** Same user `operator`, authenticated by a second valid token (credential rotation tests). */
  readonly operatorRotatedKubeconfig: string
  readonly operatorTokens: { readonly primary: string; readonly rotated: string }
  readonly logPath: string
}

export interface ClustersContext {
  readonly supervisor: ClusterContext
  readonly remote: ClusterContext
  /** Names of the CRDs installed (and Established) on both clusters. */
  readonly crds: readonly string[]
  /** Directory holding the kcluster and kubectl binaries. */
  readonly binDir: string
  readonly kubectl: string
}

export interface Environment {
  readonly context: ClustersContext
  readonly clusters: Clusters
  stop(): Promise<void>
}

export function toContext(c: RunningCluster): ClusterContext {
  const kc = c.userKubeconfigPaths[operatorUser]
  const rkc = c.rotatedUserKubeconfigPaths[operatorUser]
  const tok = c.tokens[operatorUser]
  if (kc === undefined || rkc === undefined || tok === undefined) {
    throw new Error(`cluster ${c.name} has no user ${operatorUser}`)
  }
  return {
    name: c.name,
    server: c.server,
    caFile: c.caFile,
    adminKubeconfig: c.adminKubeconfigPath,
    operatorKubeconfig: kc,
    operatorRotatedKubeconfig: rkc,
    operatorTokens: tok,
    logPath: c.logPath
  }
}

async function prepare(c: RunningCluster, kind: ClusterRoleKind): Promise<string[]> {
  const kc = c.userKubeconfigPaths[operatorUser]
  if (kc === undefined) throw new Error(`cluster ${c.name} has no user ${operatorUser}`)
  const crds = await installCrds(c.adminKubeconfigPath)
  await installIdentities(kind, c.adminKubeconfigPath, kc)
  // KubeVirt is deployed on the remote (its KubeVirt resource; the stand-in plays its controllers).
  if (kind === "remote") await installKubevirt(c.adminKubeconfigPath)
  return crds
}

/** Starts both clusters in parallel, installs CRDs and RBAC on each. */
export async function startEnvironment(opts: StartClusterOptions = {}): Promise<Environment> {
  const bins = await ensureBinaries()
  const users = [...new Set([operatorUser, ...(opts.users ?? [])])]
  const clusters = await startClusters({ ...opts, users, binaries: bins })
  try {
    const [crds] = await Promise.all([prepare(clusters.supervisor, "supervisor"), prepare(clusters.remote, "remote")])
    const context: ClustersContext = {
      supervisor: toContext(clusters.supervisor),
      remote: toContext(clusters.remote),
      crds,
      binDir: bins.binDir,
      kubectl: bins.kubectl
    }
    return { context, clusters, stop: () => clusters.stop() }
  } catch (e) {
    await clusters.stop()
    throw e
  }
}

/** Reads a ClustersContext written by `scripts/dev-clusters.ts` (KCLUSTER_ATTACH=<file>). */
export function readContextFile(path: string): ClustersContext {
  return JSON.parse(readFileSync(path, "utf8")) as ClustersContext
}
