// Runs the kubectl built from the same Kubernetes module set as the test clusters.
import { execFile } from "node:child_process"
import { ensureBinaries } from "./clusters.ts"

export interface KubectlResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface KubectlOptions {
  /** Reject when kubectl exits non-zero. Default true. */
  readonly check?: boolean
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string
  readonly timeoutMs?: number
}

/** `kubectl --kubeconfig <kubeconfig> ...args`, building/locating kubectl via ensureBinaries(). */
export async function kubectl(
  kubeconfig: string,
  args: readonly string[],
  opts: KubectlOptions = {}
): Promise<KubectlResult> {
  const { kubectl: bin } = await ensureBinaries()
  return runKubectl(bin, kubeconfig, args, opts)
}

/** Same as kubectl() with an explicit binary (e.g. inject('clusters').kubectl inside tests). */
export async function runKubectl(
  bin: string,
  kubeconfig: string,
  args: readonly string[],
  opts: KubectlOptions = {}
): Promise<KubectlResult> {
  const fullArgs = ["--kubeconfig", kubeconfig, ...args]
  const result = await new Promise<KubectlResult>((resolve, reject) => {
    const child = execFile(
      bin,
      fullArgs,
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000, env: { ...process.env, KUBECONFIG: "" } },
      (err, stdout, stderr) => {
        if (err !== null && typeof (err as { code?: unknown }).code !== "number") {
          reject(err)
          return
        }
        resolve({ code: err === null ? 0 : Number((err as { code: number }).code), stdout, stderr })
      }
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    else child.stdin?.end()
  })
  if ((opts.check ?? true) && result.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim()}`)
  }
  return result
}
