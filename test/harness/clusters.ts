// Starts real throw-away Kubernetes control planes (embedded etcd + kube-apiserver with RBAC +
// kube-controller-manager) for integration tests and the dev script. One `kcluster` process
// per cluster; see test/cluster/main.go and docs/adr/0002-real-apiservers.md.
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** Repository root (this file lives in <repo>/test/harness). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** Default restricted users issued on every cluster. */
export const defaultUsers: readonly string[] = ["operator"]

export interface Binaries {
  readonly binDir: string
  readonly kcluster: string
  readonly kubectl: string
}

/** Two valid bearer tokens per restricted user, both authenticating as the same username. */
export interface UserTokens {
  readonly primary: string
  readonly rotated: string
}

/** JSON-serialisable description of a running cluster. */
export interface ClusterInfo {
  readonly name: string
  /** https://127.0.0.1:PORT */
  readonly server: string
  /** PEM file of the cluster CA (the apiserver's serving cert chains to it). */
  readonly caFile: string
  readonly dataDir: string
  /** Kubeconfig of a system:masters user. */
  readonly adminKubeconfigPath: string
  readonly adminToken: string
  /** user name -> kubeconfig with the user's primary token. */
  readonly userKubeconfigPaths: Readonly<Record<string, string>>
  /** user name -> kubeconfig with the user's second ("rotated") token, same username. */
  readonly rotatedUserKubeconfigPaths: Readonly<Record<string, string>>
  readonly tokens: Readonly<Record<string, UserTokens>>
  /** stderr of kcluster (apiserver, etcd, controller-manager logs). */
  readonly logPath: string
  readonly pid: number
  readonly controllerManager: boolean
}

export interface RunningCluster extends ClusterInfo {
  /** SIGTERM, wait up to 20 s, then SIGKILL; removes the data dir. Idempotent. */
  stop(): Promise<void>
  /** Last lines of the cluster log, for failure messages. */
  logTail(lines?: number): string
}

export interface StartClusterOptions {
  /** Restricted users to issue tokens/kubeconfigs for. Default: ['operator']. */
  readonly users?: readonly string[]
  /** Directory under which data dirs and logs go. Default: a fresh mkdtemp under os.tmpdir(). */
  readonly baseDir?: string
  /** Start kube-controller-manager (namespace + GC controllers). Default true. */
  readonly controllerManager?: boolean
  /** Time to wait for the ready line, per attempt. Default 240 s. */
  readonly readyTimeoutMs?: number
  /** Start attempts (port races are retried). Default 3. */
  readonly attempts?: number
  /** klog verbosity of apiserver and KCM. Default 0. */
  readonly verbosity?: number
  /** Keep the data dir after stop (for debugging). */
  readonly keep?: boolean
  /** Use these binaries instead of building. */
  readonly binaries?: Binaries
}

interface ReadyLine {
  ready: true
  name: string
  server: string
  caFile: string
  dataDir: string
  adminKubeconfig: string
  adminToken: string
  users: Record<string, string>
  rotatedUsers: Record<string, string>
  tokens: Record<string, [string, string]>
  controllerManager: boolean
  pid: number
}

let binariesPromise: Promise<Binaries> | undefined

/**
 * Builds (or reuses from the content-hash cache) kcluster and kubectl via test/cluster/build.sh.
 * KCLUSTER_BIN_DIR=<dir> skips the build and uses <dir>/kcluster and <dir>/kubectl.
 */
export function ensureBinaries(): Promise<Binaries> {
  binariesPromise ??= buildBinaries()
  return binariesPromise
}

async function buildBinaries(): Promise<Binaries> {
  const fromEnv = process.env.KCLUSTER_BIN_DIR
  const binDir = fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : await runBuildScript()
  const bins: Binaries = { binDir, kcluster: join(binDir, "kcluster"), kubectl: join(binDir, "kubectl") }
  for (const p of [bins.kcluster, bins.kubectl]) {
    if (!existsSync(p)) throw new Error(`kcluster binaries missing: ${p}`)
  }
  return bins
}

function runBuildScript(): Promise<string> {
  const script = join(repoRoot, "test", "cluster", "build.sh")
  return new Promise((resolvePath, reject) => {
    // stderr is inherited: a cold build takes minutes and people want to see it progress.
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (d: string) => {
      out += d
    })
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      if (code !== 0) {
        reject(new Error(`test/cluster/build.sh failed (code ${code}, signal ${signal})`))
        return
      }
      const last = out.trim().split("\n").pop() ?? ""
      if (last === "") reject(new Error("test/cluster/build.sh printed no bin dir"))
      else resolvePath(last.trim())
    })
  })
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort when the runner exits without teardown: the clusters also watch their stdin
  // and have PR_SET_PDEATHSIG, so this only makes shutdown faster.
  process.on("exit", () => {
    for (const c of live) {
      try {
        c.kill("SIGTERM")
      } catch {
        // already gone
      }
    }
  })
}

/** Removes kcluster temp dirs left behind by runners that were SIGKILLed. */
function sweepStaleDirs(): void {
  const root = tmpdir()
  let entries: string[]
  try {
    entries = readdirSync(root)
  } catch {
    return
  }
  for (const e of entries) {
    const m = /^kcluster-(\d+)-/.exec(e)
    if (m === null) continue
    const pid = Number(m[1])
    if (pid === process.pid || isAlive(pid)) continue
    rmSync(join(root, e), { recursive: true, force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

let defaultBaseDir: string | undefined
function getDefaultBaseDir(): string {
  if (defaultBaseDir === undefined) {
    sweepStaleDirs()
    defaultBaseDir = mkdtempSync(join(tmpdir(), `kcluster-${process.pid}-`))
  }
  return defaultBaseDir
}

function tailFile(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n")
  } catch {
    return ""
  }
}

class StartError extends Error {
  readonly retryable: boolean
  constructor(message: string, retryable: boolean) {
    super(message)
    this.retryable = retryable
  }
}

/** Starts one cluster named `name` and resolves once its apiserver is ready. */
export async function startCluster(name: string, opts: StartClusterOptions = {}): Promise<RunningCluster> {
  const bins = opts.binaries ?? (await ensureBinaries())
  const baseDir = opts.baseDir ?? getDefaultBaseDir()
  mkdirSync(baseDir, { recursive: true })
  const attempts = opts.attempts ?? 3
  let lastErr: unknown
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await startOnce(name, bins, baseDir, attempt, opts)
    } catch (e) {
      lastErr = e
      if (!(e instanceof StartError) || !e.retryable) throw e
    }
  }
  throw lastErr
}

function startOnce(
  name: string,
  bins: Binaries,
  baseDir: string,
  attempt: number,
  opts: StartClusterOptions
): Promise<RunningCluster> {
  const dataDir = join(baseDir, `${name}-data`)
  rmSync(dataDir, { recursive: true, force: true })
  const logPath = join(baseDir, attempt === 1 ? `${name}.log` : `${name}.attempt${attempt}.log`)
  const users = opts.users ?? defaultUsers
  const args = ["run", "--name", name, "--data-dir", dataDir, "--watch-stdin"]
  for (const u of users) args.push("--user", u)
  if (opts.controllerManager === false) args.push("--no-kcm")
  if (opts.keep === true) args.push("--keep")
  if (opts.verbosity !== undefined) args.push("--v", String(opts.verbosity))
  const readyTimeoutMs = opts.readyTimeoutMs ?? 240_000
  args.push("--ready-timeout", `${Math.ceil(readyTimeoutMs / 1000)}s`)

  const logFd = openSync(logPath, "a")
  // stdin stays an open pipe: kcluster shuts down when it reaches EOF (we died).
  // detached: its own process group, so a terminal Ctrl-C reaches only the Node process, which
  // then stops the cluster with exactly one SIGTERM (a second signal makes the apiserver exit hard).
  const child = spawn(bins.kcluster, args, { stdio: ["pipe", "pipe", logFd], detached: true })
  closeSync(logFd)
  live.add(child)
  installExitHook()

  let exited = false
  const exitPromise = new Promise<void>((res) => {
    child.once("exit", () => {
      exited = true
      live.delete(child)
      res()
    })
  })

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill("SIGTERM")
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL")
      }, 20_000)
      await exitPromise
      clearTimeout(timer)
    }
    child.stdin?.destroy()
    if (opts.keep !== true) rmSync(dataDir, { recursive: true, force: true })
  }

  return new Promise<RunningCluster>((resolveCluster, reject) => {
    let settled = false
    const settle = (f: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      f()
    }
    const timer = setTimeout(() => {
      settle(() => {
        void stop()
        reject(
          new StartError(
            `cluster ${name}: no ready line after ${readyTimeoutMs} ms; log ${logPath}:\n${tailFile(logPath, 40)}`,
            false
          )
        )
      })
    }, readyTimeoutMs + 15_000)

    const rl = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> })
    rl.on("line", (line) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        return
      }
      if (typeof parsed !== "object" || parsed === null || (parsed as { ready?: unknown }).ready !== true) return
      const r = parsed as ReadyLine
      const tokens: Record<string, UserTokens> = {}
      for (const [u, [primary, rotated]] of Object.entries(r.tokens)) tokens[u] = { primary, rotated }
      const cluster: RunningCluster = {
        name: r.name,
        server: r.server,
        caFile: r.caFile,
        dataDir: r.dataDir,
        adminKubeconfigPath: r.adminKubeconfig,
        adminToken: r.adminToken,
        userKubeconfigPaths: r.users,
        rotatedUserKubeconfigPaths: r.rotatedUsers,
        tokens,
        logPath,
        pid: r.pid,
        controllerManager: r.controllerManager,
        stop,
        logTail: (lines = 60) => tailFile(logPath, lines)
      }
      settle(() => resolveCluster(cluster))
    })
    child.once("error", (err) => settle(() => reject(err)))
    child.once("exit", (code, signal) => {
      settle(() =>
        reject(
          new StartError(
            `cluster ${name} exited before ready (code ${code}, signal ${signal}); log ${logPath}:\n${tailFile(logPath, 40)}`,
            signal === null && code !== 0 && code !== 2
          )
        )
      )
    })
  })
}

export interface Clusters {
  readonly supervisor: RunningCluster
  readonly remote: RunningCluster
  /** Stops both clusters (in parallel). */
  stop(): Promise<void>
}

/** Starts the `supervisor` and `remote` clusters in parallel. */
export async function startClusters(opts: StartClusterOptions = {}): Promise<Clusters> {
  const bins = opts.binaries ?? (await ensureBinaries())
  const o: StartClusterOptions = { ...opts, binaries: bins }
  const results = await Promise.allSettled([startCluster("supervisor", o), startCluster("remote", o)])
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected")
  if (failed !== undefined) {
    await Promise.all(started.map((c) => c.stop()))
    throw failed.reason
  }
  const [supervisor, remote] = started as [RunningCluster, RunningCluster]
  return {
    supervisor,
    remote,
    stop: async () => {
      await Promise.all([supervisor.stop(), remote.stop()])
    }
  }
}
