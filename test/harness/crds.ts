// Installs the shared upstream CRDs (<repo>/../shared/crds/*.yaml) server-side and waits for Established.
import { readdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { repoRoot } from "./clusters.ts"
import { kubectl } from "./kubectl.ts"

/** <repo>/../shared/crds; override with KCLUSTER_CRD_DIR. */
export const defaultCrdDir: string = process.env.KCLUSTER_CRD_DIR ?? resolve(repoRoot, "..", "shared", "crds")

export function crdFiles(crdDir: string = defaultCrdDir): string[] {
  return readdirSync(crdDir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort()
    .map((f) => join(crdDir, f))
}

/**
 * Applies every CRD file with `kubectl apply --server-side` (server-side: the KubeVirt CRDs are
 * larger than the client-side last-applied annotation allows) and waits until every CRD is
 * Established. Returns the CRD names, e.g. `machines.vitistack.io`.
 */
export async function installCrds(
  adminKubeconfig: string,
  opts: { readonly crdDir?: string; readonly timeoutSeconds?: number } = {}
): Promise<string[]> {
  const files = crdFiles(opts.crdDir)
  if (files.length === 0) throw new Error(`no CRD files in ${opts.crdDir ?? defaultCrdDir}`)
  const applied = await kubectl(adminKubeconfig, [
    "apply",
    "--server-side",
    "--force-conflicts",
    "--field-manager=kcluster-harness",
    "-o",
    "name",
    ...files.flatMap((f) => ["-f", f])
  ])
  const names = applied.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
  const timeout = opts.timeoutSeconds ?? 120
  await kubectl(adminKubeconfig, ["wait", "--for=condition=Established", `--timeout=${timeout}s`, ...names], {
    timeoutMs: (timeout + 30) * 1000
  })
  return names.map((n) => n.replace(/^customresourcedefinition\.apiextensions\.k8s\.io\//, ""))
}
