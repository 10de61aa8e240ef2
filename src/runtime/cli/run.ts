/**
 * `kubevirt-operator run`: the operator. Runtime layer.
 * `run --embedded [-f DIR]` runs the real loop against in-memory clusters seeded from example files, with the
 * KubeVirt stand-in (the `npm start` default). Live mode (`--kubeconfig` or in-cluster) is wired in `runLive.ts`.
 */
import { parseArgs } from "node:util"
import { Effect, Layer, Logger, References } from "effect"
import { sortDocuments } from "../../domain/documents.ts"
import { runEmbedded } from "../embedded.ts"
import { settingsFromEnv } from "../settingsFromEnv.ts"
import type { CliIo } from "./plan.ts"
import { readDocuments } from "./readDocuments.ts"

export const RUN_USAGE = `usage: kubevirt-operator run --embedded [-f FILE|DIR...] [--keep-running] [--timeout SECONDS]

  --embedded          run against in-memory supervisor and remote clusters seeded from -f (default examples/),
                      with a KubeVirt stand-in; prints the plans and a table of Machines; exits 0 once every
                      Machine is Running, 1 if that does not happen within --timeout (default 60).
  --keep-running      do not exit when every Machine is Running.
  LOG_LEVEL           Debug, Info, Warning, Error (default: Warning in embedded mode, Info otherwise).`

const parse = (args: ReadonlyArray<string>) =>
  parseArgs({
    args: [...args],
    options: {
      embedded: { type: "boolean" },
      file: { type: "string", short: "f", multiple: true },
      "keep-running": { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" }
    },
    strict: true,
    allowPositionals: false
  })

const LEVELS = { Debug: "Debug", Info: "Info", Warning: "Warn", Warn: "Warn", Error: "Error" } as const

export const runRun = async (args: ReadonlyArray<string>, io: CliIo): Promise<0 | 1> => {
  let values: ReturnType<typeof parse>["values"]
  try {
    values = parse(args).values
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n${RUN_USAGE}`)
    return 1
  }
  if (values.help === true) {
    io.out(RUN_USAGE)
    return 0
  }
  const settings = settingsFromEnv(io.env)
  if ("error" in settings) {
    io.err(`error: ${settings.error}`)
    return 1
  }
  if (values.embedded !== true) {
    io.err(
      `error: live mode is started with --kubeconfig (see README); for the embedded default use --embedded\n${RUN_USAGE}`
    )
    return 1
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
  const level = LEVELS[(io.env.LOG_LEVEL ?? "Warning") as keyof typeof LEVELS] ?? "Warn"
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
