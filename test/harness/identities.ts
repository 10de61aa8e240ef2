// Applies the shipped RBAC manifests (deploy/rbac) so tests run with exactly what is deployed.
import { join } from "node:path"
import { repoRoot } from "./clusters.ts"
import { kubectl } from "./kubectl.ts"

export type ClusterRoleKind = "supervisor" | "remote"

/** The restricted user every test cluster issues tokens for and the bindings name. */
export const operatorUser = "operator"

export const rbacDir: string = join(repoRoot, "deploy", "rbac")

export function rbacFiles(kind: ClusterRoleKind): { readonly clusterRole: string; readonly binding: string } {
  return {
    clusterRole: join(rbacDir, `${kind}-clusterrole.yaml`),
    binding: join(rbacDir, `${kind}-clusterrolebinding.yaml`)
  }
}

/** A permission the role grants, used to wait until the RBAC authorizer's cache has it. */
const probe: Record<ClusterRoleKind, readonly string[]> = {
  supervisor: ["list", "machines.vitistack.io"],
  remote: ["create", "namespaces"]
}

/**
 * Applies deploy/rbac/<kind>-clusterrole.yaml and <kind>-clusterrolebinding.yaml as admin, then
 * waits until `userKubeconfig` (the operator's) is actually allowed (RBAC caches are informer-fed).
 */
export async function installIdentities(
  kind: ClusterRoleKind,
  adminKubeconfig: string,
  userKubeconfig: string,
  opts: { readonly timeoutMs?: number } = {}
): Promise<void> {
  const f = rbacFiles(kind)
  await kubectl(adminKubeconfig, [
    "apply",
    "--server-side",
    "--force-conflicts",
    "--field-manager=kcluster-harness",
    "-f",
    f.clusterRole,
    "-f",
    f.binding
  ])
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  for (;;) {
    const r = await kubectl(userKubeconfig, ["auth", "can-i", ...probe[kind]], { check: false })
    if (r.code === 0 && r.stdout.trim() === "yes") return
    if (Date.now() > deadline) {
      throw new Error(
        `RBAC for ${kind} not effective: kubectl auth can-i ${probe[kind].join(" ")} -> ${r.stdout}${r.stderr}`
      )
    }
    await new Promise((res) => setTimeout(res, 200))
  }
}
