/**
 * Helpers for end-to-end tests on the two real apiservers: admin clients, kubeconfigs with inline CA data (as they
 * must be inside a KubevirtConfig Secret), the operator process run in-process through `liveProgram`, and the
 * KubeVirt stand-in on the remote with admin rights.
 */
import { readFileSync } from "node:fs"
import { Effect, Fiber } from "effect"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import type { ProviderSettings } from "../../src/domain/MachineProvider.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { defaultSettings, type Settings } from "../../src/domain/Settings.ts"
import type { KubeApiService } from "../../src/effects/KubeApi.ts"
import { makeLiveApiFromKubeconfigFile } from "../../src/effects/kube/liveApi.ts"
import type { DecisionTraceOptions } from "../../src/runtime/decisionTraces.ts"
import { type LiveRunOptions, liveProgram } from "../../src/runtime/runLive.ts"
import { runKubevirtStandIn } from "../../src/runtime/standin/KubevirtStandIn.ts"
import type { ClusterContext } from "../harness/environment.ts"

/** A kubeconfig with the CA inlined and a bearer token: what a KubevirtConfig Secret holds. */
export const kubeconfigYaml = (c: ClusterContext, token: string): string => {
  const ca = Buffer.from(readFileSync(c.caFile)).toString("base64")
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${c.name}`,
    "  cluster:",
    `    server: ${c.server}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    "- name: operator",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    `- name: ${c.name}`,
    "  context:",
    `    cluster: ${c.name}`,
    "    user: operator",
    `current-context: ${c.name}`,
    ""
  ].join("\n")
}

export const liveClient = (kubeconfigPath: string): Promise<KubeApiService> =>
  Effect.runPromise(makeLiveApiFromKubeconfigFile(kubeconfigPath))

export const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)

/** Creates the object, or replaces the fields of an existing one with a merge patch. */
export const upsert = (api: KubeApiService, o: KubeObject) => {
  const ref = refOf(o.kind as never, o.metadata.name, o.metadata.namespace)
  const withKind = { ...ref, apiVersion: o.apiVersion, kind: o.kind }
  return run(
    api.create(withKind, o).pipe(
      Effect.catchIf(
        (e) => e.reason._tag === "AlreadyExists",
        () => api.patch(withKind, o as never)
      )
    )
  )
}

/** The KubevirtConfig `name` and its Secret in `vitistack`, holding `kubeconfig`. */
export const installKubevirtConfig = async (supervisor: KubeApiService, name: string, kubeconfig: string) => {
  await upsert(supervisor, { apiVersion: "v1", kind: "Namespace", metadata: { name: "vitistack" } })
  await upsert(supervisor, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "vitistack" },
    type: "Opaque",
    data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") }
  })
  await upsert(supervisor, {
    apiVersion: "vitistack.io/v1alpha1",
    kind: "KubevirtConfig",
    metadata: { name },
    spec: { name, secretNamespace: "vitistack", kubeconfigSecretRef: name }
  })
}

export interface RunningOperator {
  readonly port: Promise<number>
  readonly stop: () => Promise<void>
  /** The sum of kubevirt_operator_api_requests_total for these verbs (from /metrics). */
  readonly apiRequests: (verbs: ReadonlyArray<string>, cluster?: string) => Promise<number>
  readonly metrics: () => Promise<string>
}

/** Runs the operator in-process against the supervisor with the given kubeconfig (the restricted `operator`). */
export const startOperator = (
  supervisorKubeconfig: string,
  options: {
    readonly leaderElect?: boolean
    readonly leaseName?: string
    readonly settings?: Settings
    readonly resyncSeconds?: number
    /** Register and keep this MachineProvider (ADR 0012); omitted: none. */
    readonly provider?: ProviderSettings
    readonly healthIntervalSeconds?: number
    /** Passed to the operator loop (the benchmark's on-demand resync; a test's short cache bound). */
    readonly operator?: LiveRunOptions["operator"]
    /** Record decision traces (ADR 0015); omitted: none. */
    readonly decisionTrace?: DecisionTraceOptions
  } = {}
): RunningOperator => {
  let resolvePort: (p: number) => void = () => {}
  const port = new Promise<number>((r) => {
    resolvePort = r
  })
  const fiber = Effect.runFork(
    liveProgram({
      settings: options.settings ?? defaultSettings,
      kubeconfigPath: supervisorKubeconfig,
      allowExecAuth: false,
      allowInsecureRemotes: false,
      leaderElect: options.leaderElect ?? false,
      leaseNamespace: "default",
      leaseName: options.leaseName ?? "kubevirt-operator-leader",
      healthBindAddress: "127.0.0.1:0",
      workers: 4,
      resyncSeconds: options.resyncSeconds ?? 600,
      logLevel: (process.env.E2E_LOG_LEVEL as "Debug" | "Info" | "Warn" | "Error" | undefined) ?? "Error",
      logJson: true,
      provider: options.provider,
      healthIntervalSeconds: options.healthIntervalSeconds,
      operator: options.operator,
      decisionTrace: options.decisionTrace,
      onListening: resolvePort
    })
  )
  const metrics = async () => (await fetch(`http://127.0.0.1:${await port}/metrics`)).text()
  return {
    port,
    stop: () => run(Fiber.interrupt(fiber)).then(() => undefined),
    metrics,
    apiRequests: async (verbs, cluster) => {
      const text = await metrics()
      return text
        .split("\n")
        .filter((l) => l.startsWith("kubevirt_operator_api_requests_total{"))
        .filter(
          (l) =>
            verbs.some((v) => l.includes(`verb="${v}"`)) &&
            (cluster === undefined || l.includes(`cluster="${cluster}"`))
        )
        .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0)
    }
  }
}

/** Runs the KubeVirt stand-in on the remote (admin rights: it plays KubeVirt's controllers). */
export const startStandIn = (remoteAdmin: KubeApiService) => {
  const fiber = Effect.runFork(runKubevirtStandIn(remoteAdmin, { step: "300 millis" }))
  return { stop: () => run(Fiber.interrupt(fiber)).then(() => undefined) }
}

/**
 * Polls `check` until it returns a value (not undefined) or the time is up. `explain`, if given, says in the timeout's
 * message what the state was then (so a failure in CI shows where it stood).
 */
export const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined>,
  timeoutMs = 60_000,
  explain?: () => Promise<string>
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      const state = explain === undefined ? undefined : await explain().catch((e) => `(not readable: ${String(e)})`)
      throw new Error(
        `timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}${state === undefined ? "" : `; ${state}`}`
      )
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * Waits until the Machine is gone from the supervisor (the operator released it). On a timeout the message shows
 * the Machine's finalizers, its status (phase, message, conditions) and its Events: what the operator waited for.
 */
export const released = (supervisor: KubeApiService, name: string, namespace: string, timeoutMs = 60_000) =>
  eventually(
    `${namespace}/${name} released`,
    async () => ((await getObject(supervisor, "Machine", name, namespace)) === undefined ? true : undefined),
    timeoutMs,
    async () => {
      const m = await getObject(supervisor, "Machine", name, namespace)
      const events = await run(supervisor.list({ apiVersion: "v1", kind: "Event" }, { namespace }))
      const about = events.items
        .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name)
        .map((e) => {
          const x = e as { reason?: string; message?: string; count?: number }
          return `${x.reason} (${x.count ?? 1}): ${x.message}`
        })
      return JSON.stringify({
        finalizers: m?.metadata.finalizers,
        deletionTimestamp: m?.metadata.deletionTimestamp,
        status: m?.status,
        events: about
      })
    }
  )

export const getObject = async (
  api: KubeApiService,
  kind: Parameters<typeof refOf>[0],
  name: string,
  namespace?: string
) => {
  const o = await run(api.get(refOf(kind, name, namespace)))
  return o._tag === "Some" ? o.value : undefined
}

/** A Machine of ours on the supervisor, placed through the KubevirtConfig `config`. */
export const machineOn = (
  name: string,
  namespace: string,
  config: string,
  spec: Record<string, unknown> = {},
  annotations: Record<string, string> = {}
): KubeObject => ({
  apiVersion: "vitistack.io/v1alpha1",
  kind: "Machine",
  metadata: { name, namespace, annotations: { "vitistack.io/kubevirt-config": config, ...annotations } },
  spec: { provider: "kubevirt", ...spec }
})

/** Reads of a Machine's status on the supervisor: the status, one condition, and Running with an address. */
export const machineStatusReads = (supervisor: () => KubeApiService) => {
  const statusOf = async (name: string, namespace: string) =>
    (await getObject(supervisor(), "Machine", name, namespace))?.status as Record<string, any> | undefined
  const conditionOf = async (name: string, namespace: string, type: string) =>
    ((await statusOf(name, namespace))?.conditions as Array<Record<string, string>> | undefined)?.find(
      (c) => c.type === type
    )
  const isRunning = async (name: string, namespace: string) => {
    const s = await statusOf(name, namespace)
    return s?.phase === "Running" && (s.publicIPAddresses?.length ?? 0) > 0 ? true : undefined
  }
  return { statusOf, conditionOf, isRunning }
}
