/**
 * `kubevirt-operator plan`: observe → plan → render, never execute. Runtime layer.
 * Offline form: `plan -f FILE... [--observed SNAPSHOT] [--output text|json]`.
 * Exit codes: 0 no changes, 2 changes pending, 1 error (unreadable input, a Machine the planner cannot satisfy, or a
 * live fact that could not be read).
 */
import { parseArgs } from "node:util"
import { Effect, Result } from "effect"
import { sortDocuments } from "../../domain/documents.ts"
import { allActions, encodePlanSetJson, hasErrors, type Plan } from "../../domain/Plan.ts"
import { planDocuments } from "../../domain/planDocuments.ts"
import { redactPlan } from "../../domain/redactPlan.ts"
import { renderPlans } from "../../domain/render.ts"
import { settingsFromEnv } from "../settingsFromEnv.ts"
import { parseFlags } from "./CliError.ts"
import { planLive } from "./planLive.ts"
import { readDocuments } from "./readDocuments.ts"
import { runReplay } from "./replay.ts"

export const PLAN_USAGE = `usage: kubevirt-operator plan -f FILE|DIR... [--observed SNAPSHOT] [--output text|json]
       kubevirt-operator plan --kubeconfig FILE (NAMESPACE/NAME | --all) [--output text|json]
       kubevirt-operator plan --replay TRACES... [--output text|json]

  -f, --file FILE     Machine documents (YAML or JSON, many per file), plus MachineClass and KubevirtConfig
                      documents and the supervisor's objects Machines read (cloud-init Secrets and ConfigMaps,
                      NetworkNamespaces, NetworkConfigurations); a directory means every .yaml/.yml/.json file in it.
                      Repeatable.
  --observed FILE     remote objects (Namespaces, VirtualMachines, VMIs, PVCs) the cluster holds; default: a
                      fresh cluster (only default, kube-system, kube-public, kube-node-lease).
  --kubeconfig FILE   plan Machines of the live supervisor cluster (read-only; remotes are reached through the
                      Machines' KubevirtConfigs, read-only too). Select one Machine as NAMESPACE/NAME, or --all.
  --allow-exec-auth   accept kubeconfigs whose users run exec or auth-provider plugins (off by default).
  --allow-insecure-remotes   accept remote kubeconfigs with http:// servers or insecure-skip-tls-verify.
  --replay FILE       re-run the planner on the inputs recorded in decision traces (run --decision-trace: a JSON-lines
                      file, or the operator's JSON log) and list every decision that differs, per Machine.
                      Repeatable (FILE.1 then FILE). Exit 0: every decision the same; 2: some differ.
  --adopt-go-operator plan as the operator with adoption of the Go operator's objects on (env ADOPT_GO_OPERATOR=true,
                      GO_OPERATOR_MANAGED_BY; ADR 0014): with --kubeconfig --all, the migration preview.
  -o, --output FMT    text (default) or json (decodes back to the same plan, image URLs shown with credentials
                      masked).

exit codes: 0 no changes, 2 changes pending, 1 error (bad input; live: a fact that could not be read)`

export interface CliIo {
  readonly out: (s: string) => void
  readonly err: (s: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Exit code of a set of plans: 1 on any error, 2 when something would change, else 0. */
export const exitCodeOf = (plans: ReadonlyArray<Plan>): 0 | 1 | 2 =>
  plans.some(hasErrors) ? 1 : plans.some((p) => allActions(p).length > 0) ? 2 : 0

export const runPlan = async (args: ReadonlyArray<string>, io: CliIo): Promise<0 | 1 | 2> => {
  const flags = parseFlags(() => parse(args))
  if (Result.isFailure(flags)) {
    io.err(`error: ${flags.failure.message}\n${PLAN_USAGE}`)
    return 1
  }
  const parsed = flags.success
  const { values } = parsed
  if (values.help === true) {
    io.out(PLAN_USAGE)
    return 0
  }
  const files = values.file ?? []
  const output = values.output ?? "text"
  const live = values.kubeconfig !== undefined
  if (values.replay !== undefined) {
    if (output !== "text" && output !== "json") {
      io.err(`error: --output ${output}: use text or json\n${PLAN_USAGE}`)
      return 1
    }
    if (live || files.length > 0 || parsed.positionals.length > 0) {
      io.err(`error: --replay takes only trace files\n${PLAN_USAGE}`)
      return 1
    }
    return runReplay(values.replay, output, io)
  }
  const usageError =
    output !== "text" && output !== "json"
      ? `--output ${output}: use text or json`
      : live && files.length > 0
        ? "use either -f or --kubeconfig"
        : live && (parsed.positionals.length === 1) === (values.all === true)
          ? "with --kubeconfig give one NAMESPACE/NAME or --all"
          : !live && files.length === 0
            ? "no -f FILE given"
            : !live && parsed.positionals.length > 0
              ? `unexpected argument '${parsed.positionals[0]}'`
              : undefined
  if (usageError !== undefined) {
    io.err(`error: ${usageError}\n${PLAN_USAGE}`)
    return 1
  }
  const read = settingsFromEnv(values["adopt-go-operator"] === true ? { ...io.env, ADOPT_GO_OPERATOR: "true" } : io.env)
  if (Result.isFailure(read)) {
    io.err(`error: ${read.failure.message}`)
    return 1
  }
  const settings = read.success
  // Image URLs in display form in both (ADR 0018): the text shows them so, the JSON is of the redacted plans.
  const print = (plans: ReadonlyArray<Plan>) =>
    io.out(
      output === "json"
        ? JSON.stringify(encodePlanSetJson({ plans: plans.map(redactPlan) }), null, 2)
        : renderPlans(plans)
    )
  if (live) {
    const result = await Effect.runPromise(
      Effect.result(
        planLive(
          {
            kubeconfigPath: values.kubeconfig!,
            machine: parsed.positionals[0],
            allowExecAuth: values["allow-exec-auth"] === true,
            allowInsecureRemotes: values["allow-insecure-remotes"] === true
          },
          settings
        )
      )
    )
    if (Result.isFailure(result)) {
      io.err(`error: ${result.failure}`)
      return 1
    }
    for (const p of result.success.problems) io.err(`error: ${p}`)
    print(result.success.plans)
    return result.success.problems.length > 0 ? 1 : exitCodeOf(result.success.plans)
  }
  const input = readDocuments(files)
  const docs = sortDocuments(input.documents)
  const snapshotRead =
    values.observed === undefined ? { documents: [], problems: [] } : readDocuments([values.observed])
  const snapshot = sortDocuments(snapshotRead.documents)
  const problems = [...input.problems, ...docs.problems, ...snapshotRead.problems, ...snapshot.problems]
  if (problems.length > 0) {
    for (const p of problems) io.err(`error: ${p}`)
    return 1
  }
  if (docs.machines.length === 0) {
    io.err(`error: no Machine document in ${files.join(", ")}`)
    return 1
  }
  const plans = planDocuments(docs, values.observed === undefined ? undefined : snapshot.objects, settings)
  print(plans)
  return exitCodeOf(plans)
}

const parse = (args: ReadonlyArray<string>) =>
  parseArgs({
    args: [...args],
    options: {
      file: { type: "string", short: "f", multiple: true },
      observed: { type: "string" },
      output: { type: "string", short: "o" },
      kubeconfig: { type: "string" },
      all: { type: "boolean" },
      "allow-exec-auth": { type: "boolean" },
      "allow-insecure-remotes": { type: "boolean" },
      replay: { type: "string", multiple: true },
      "adopt-go-operator": { type: "boolean" },
      help: { type: "boolean", short: "h" }
    },
    strict: true,
    allowPositionals: true
  })
