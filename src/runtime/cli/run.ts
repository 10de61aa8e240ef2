/**
 * `kubevirt-operator run`: the operator. Runtime layer.
 * `run --embedded [-f DIR]` runs the real loop against in-memory clusters seeded from example files, with the
 * KubeVirt stand-in (the `npm start` default). Live mode (`--kubeconfig` or in-cluster) is wired in `runLive.ts`.
 */
import { parseArgs } from "node:util"
import { Effect, Layer, Logger, References, Result } from "effect"
import { isDnsSubdomain } from "../../domain/dnsNames.ts"
import { sortDocuments } from "../../domain/documents.ts"
import { DEFAULT_PROVIDER_NAME } from "../../domain/MachineProvider.ts"
import { Settings } from "../../domain/Settings.ts"
import { DEFAULT_TRACE_BUFFER, parseTraceTarget } from "../decisionTraces.ts"
import { runEmbedded } from "../embedded.ts"
import { REMOTE_RATE, runLiveProcess } from "../runLive.ts"
import { settingsFromEnv } from "../settingsFromEnv.ts"
import { parseFlags } from "./CliError.ts"
import type { CliIo } from "./plan.ts"
import { readDocuments } from "./readDocuments.ts"

export const RUN_USAGE = `usage: kubevirt-operator run [--kubeconfig FILE] [--leader-elect] [--health-bind-address ADDR] [--workers N]
       kubevirt-operator run --embedded [-f FILE|DIR...] [--keep-running] [--timeout SECONDS]

  --kubeconfig FILE   the supervisor cluster (env KUBECONFIG); default: the pod's service account (in-cluster).
  --leader-elect      only the holder of the Lease reconciles (env LEADER_ELECT=true); standbys serve health.
  --lease-namespace   namespace of the Lease (env POD_NAMESPACE; default kubevirt-operator).
  --health-bind-address ADDR   /healthz, /readyz, /metrics (env HEALTH_BIND_ADDRESS; default :8080).
  --workers N         concurrent reconciles, never two on one Machine (env MAX_CONCURRENT_RECONCILES; default 4).
  --resync SECONDS    every Machine is reconciled at least this often (env RESYNC_SECONDS; default 600).
  --remote-qps N, --remote-burst N   requests per second to each remote cluster and the burst above it (env
                      REMOTE_QPS, REMOTE_BURST; default 200 and 400): a client-side token bucket; requests wait.
  --allow-exec-auth   accept kubeconfigs with exec/auth-provider users (env ALLOW_EXEC_AUTH=true); off by default,
                      since whoever can write a KubevirtConfig Secret could otherwise run code in the operator.
  --allow-insecure-remotes   accept remote kubeconfigs with http:// servers or insecure-skip-tls-verify (env
                      ALLOW_INSECURE_REMOTES=true); off by default: their credentials would travel in clear or to
                      whoever answers. Remote kubeconfigs never may name local files.
  LOG_LEVEL (Debug, Info, Warning, Error; default Info, Warning when embedded), LOG_JSON (default true).
  --iso-size-probe    size installer ISOs by an HTTP HEAD of their URL from the operator (env ISO_SIZE_PROBE=true);
                      off by default: the operator then fetches no URL a Machine names (8Gi or vitistack.io/iso-size).
  --adopt-go-operator adopt the VMs, disk claims and ISO DataVolumes the Go kubevirt-operator made for a Machine
                      (env ADOPT_GO_OPERATOR=true): our labels are added, nothing else, then they are reconciled as
                      ours; off by default (ADR 0014). GO_OPERATOR_MANAGED_BY: the value of its vitistack.io/managed-by
                      label (default kubevirt-operator). Preview with plan --kubeconfig --all --adopt-go-operator.
  DEFAULT_KUBEVIRT_CONFIG, PVC_VOLUME_MODE, PVC_ACCESS_MODE, STORAGE_CLASS_NAME, CPU_MODEL, DISABLE_CPU_HT_FEATURE
  (default true): as in the Go operator.
  REQUIRE_APPROVAL    every Machine's destructive steps (deleting a PVC or DataVolume, a VM change that needs a
                      restart) wait for the annotation vitistack.io/approve-plan: <hash> (default false: only where a
                      KubevirtConfig or supervisor Namespace is annotated vitistack.io/require-approval: "true").
  --decision-trace TARGET   record every reconcile's decision (inputs, plan, result, timings; secrets redacted) for
                      plan --replay: off (default), log, or a JSON-lines file (rotated to FILE.1 at 64 MiB) (env
                      DECISION_TRACE); DECISION_TRACE_BUFFER traces wait for the writer at most (default 1024; the
                      oldest is dropped when it falls behind).
  OTEL_EXPORTER_OTLP_ENDPOINT   export the operator's spans (reconcile, observe, decide, execute, each executor) over
                      OTLP/HTTP to this collector (…/v1/traces); unset: no export. The standard OpenTelemetry
                      variables for headers, timeouts, batching and resource attributes apply.
  NAME_MACHINE_PROVIDER (default kubevirt-provider), VITISTACK_NAME, MACHINE_PROVIDER_REGION: the MachineProvider the
                      leader registers when none exists and the Vitistack does not list it (region: this, else the
                      Vitistack's), and whose status it keeps; never fatal (ADR 0012).
  Vitistack networking (a Machine's NetworkNamespace, its NetworkConfiguration; ADR 0013): MAC_SET (default 12, the
  second octet of derived MACs), IP_SOURCE (vmi or networkconfiguration), NETWORK_ATTACHMENT_DEFINITION_CNI_VERSION
  (default 1.0.0) as in the Go operator;
  --create-network-attachments   create a NetworkNamespace's missing VLAN NetworkAttachmentDefinition on the remote
                      and delete the ones the operator created once no VM uses them (env CREATE_NETWORK_ATTACHMENTS=true;
                      needs deploy/rbac/remote-networkattachments-clusterrole.yaml there); off by default: NADs are
                      the cluster owner's, looked up and waited for.

  --embedded          run against in-memory supervisor and remote clusters seeded from -f (default examples/),
                      with a KubeVirt stand-in; prints the plans and a table of Machines; exits 0 once every
                      Machine is Running, 1 if that does not happen within --timeout (default 60).
  --keep-running      do not exit when every Machine is Running.
`

const parse = (args: ReadonlyArray<string>) =>
  parseArgs({
    args: [...args],
    options: {
      embedded: { type: "boolean" },
      kubeconfig: { type: "string" },
      "leader-elect": { type: "boolean" },
      "lease-namespace": { type: "string" },
      "health-bind-address": { type: "string" },
      workers: { type: "string" },
      resync: { type: "string" },
      "remote-qps": { type: "string" },
      "remote-burst": { type: "string" },
      "allow-exec-auth": { type: "boolean" },
      "allow-insecure-remotes": { type: "boolean" },
      "iso-size-probe": { type: "boolean" },
      "adopt-go-operator": { type: "boolean" },
      "create-network-attachments": { type: "boolean" },
      "decision-trace": { type: "string" },
      file: { type: "string", short: "f", multiple: true },
      "keep-running": { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" }
    },
    strict: true,
    allowPositionals: false
  })

const LEVELS = {
  Debug: "Debug",
  Info: "Info",
  Warning: "Warn",
  Warn: "Warn",
  Error: "Error",
  debug: "Debug",
  info: "Info",
  warning: "Warn",
  warn: "Warn",
  error: "Error"
} as const

export const runRun = async (args: ReadonlyArray<string>, io: CliIo): Promise<0 | 1> => {
  const parsed = parseFlags(() => parse(args))
  if (Result.isFailure(parsed)) {
    io.err(`error: ${parsed.failure.message}\n${RUN_USAGE}`)
    return 1
  }
  const { values } = parsed.success
  if (values.help === true) {
    io.out(RUN_USAGE)
    return 0
  }
  const read = settingsFromEnv(values["adopt-go-operator"] === true ? { ...io.env, ADOPT_GO_OPERATOR: "true" } : io.env)
  if (Result.isFailure(read)) {
    io.err(`error: ${read.failure.message}`)
    return 1
  }
  const settings =
    values["create-network-attachments"] === true
      ? Settings.make({ ...read.success, createNetworkAttachments: true })
      : read.success
  const env = io.env
  const level =
    LEVELS[(env.LOG_LEVEL ?? (values.embedded === true ? "Warning" : "Info")) as keyof typeof LEVELS] ?? "Info"
  if (values.embedded !== true) {
    const int = (flag: string | undefined, name: string, fallback: number) => {
      const raw = flag ?? env[name]
      const n = raw === undefined || raw === "" ? fallback : Number(raw)
      return Number.isInteger(n) && n > 0 ? n : undefined
    }
    const workers = int(values.workers, "MAX_CONCURRENT_RECONCILES", 4)
    const resync = int(values.resync, "RESYNC_SECONDS", 600)
    if (workers === undefined || resync === undefined) {
      io.err(`error: ${workers === undefined ? "--workers" : "--resync"} must be a positive integer`)
      return 1
    }
    const positive = (flag: string | undefined, name: string, fallback: number) => {
      const raw = flag ?? env[name]
      const n = raw === undefined || raw === "" ? fallback : Number(raw)
      return Number.isFinite(n) && n > 0 ? n : undefined
    }
    const qps = positive(values["remote-qps"], "REMOTE_QPS", REMOTE_RATE.qps)
    const burst = int(values["remote-burst"], "REMOTE_BURST", REMOTE_RATE.burst)
    if (qps === undefined || burst === undefined) {
      io.err(
        `error: ${qps === undefined ? "--remote-qps must be a positive number" : "--remote-burst must be a positive integer"}`
      )
      return 1
    }
    const traceBuffer = int(undefined, "DECISION_TRACE_BUFFER", DEFAULT_TRACE_BUFFER)
    if (traceBuffer === undefined) {
      io.err("error: DECISION_TRACE_BUFFER must be a positive integer")
      return 1
    }
    const traceTarget = parseTraceTarget(values["decision-trace"] ?? env.DECISION_TRACE)
    const set = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name])
    const providerName = set("NAME_MACHINE_PROVIDER") ?? DEFAULT_PROVIDER_NAME
    if (!isDnsSubdomain(providerName)) {
      io.err(`error: NAME_MACHINE_PROVIDER=${providerName} is not a DNS-1123 subdomain (a MachineProvider name)`)
      return 1
    }
    return (await runLiveProcess({
      settings,
      kubeconfigPath: values.kubeconfig ?? (env.KUBECONFIG === "" ? undefined : env.KUBECONFIG),
      allowExecAuth: values["allow-exec-auth"] === true || env.ALLOW_EXEC_AUTH === "true",
      allowInsecureRemotes: values["allow-insecure-remotes"] === true || env.ALLOW_INSECURE_REMOTES === "true",
      isoSizeProbe: values["iso-size-probe"] === true || env.ISO_SIZE_PROBE === "true",
      leaderElect: values["leader-elect"] === true || env.LEADER_ELECT === "true",
      leaseNamespace: values["lease-namespace"] ?? env.POD_NAMESPACE ?? "kubevirt-operator",
      leaseName: "kubevirt-operator-leader",
      healthBindAddress: values["health-bind-address"] ?? env.HEALTH_BIND_ADDRESS ?? ":8080",
      workers,
      resyncSeconds: resync,
      remoteRate: { qps, burst },
      logLevel: level,
      logJson: env.LOG_JSON !== "false",
      provider: { name: providerName, vitistack: set("VITISTACK_NAME"), region: set("MACHINE_PROVIDER_REGION") },
      decisionTrace: traceTarget === undefined ? undefined : { target: traceTarget, capacity: traceBuffer },
      otelEnv: env
    })) as 0 | 1
  }
  const input = readDocuments(values.file ?? ["examples/"])
  const docs = sortDocuments(input.documents)
  const problems = [...input.problems, ...docs.problems]
  if (problems.length > 0 || docs.machines.length === 0) {
    for (const p of problems) io.err(`error: ${p}`)
    if (docs.machines.length === 0) io.err("error: no Machine documents")
    return 1
  }
  if (docs.kubevirtConfigs.length === 0) {
    io.err("error: the embedded run needs at least one KubevirtConfig document (the remote cluster to create)")
    return 1
  }
  const timeout = Number(values.timeout ?? "60")
  const ok = await Effect.runPromise(
    runEmbedded({
      documents: docs,
      settings,
      keepRunning: values["keep-running"] === true,
      timeout: `${timeout} seconds`,
      out: io.out
    }).pipe(
      Effect.provide(
        Layer.mergeAll(Layer.succeed(References.MinimumLogLevel, level), Logger.layer([Logger.consolePretty()]))
      )
    )
  )
  return ok ? 0 : 1
}
