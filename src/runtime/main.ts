/**
 * The `kubevirt-operator` command line: dispatches to subcommands. Runtime layer.
 * `plan` prints what the operator would do; it never writes to a cluster.
 */
import { PLAN_USAGE, runPlan } from "./cli/plan.ts"
import { RUN_USAGE, runRun } from "./cli/run.ts"

const USAGE = `usage: kubevirt-operator <command> [flags]

commands:
  plan    print the actions the operator would take for Machines (dry run; see 'plan --help')
  run     run the operator (see 'run --help'; 'run --embedded' is the npm start default)

${PLAN_USAGE}

${RUN_USAGE}`

export const main = async (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Promise<number> => {
  const [command, ...rest] = argv
  const io = {
    out: (s: string) => process.stdout.write(`${s}\n`),
    err: (s: string) => process.stderr.write(`${s}\n`),
    env
  }
  switch (command) {
    case "plan":
      return runPlan(rest, io)
    case "run":
      return runRun(rest, io)
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.out(USAGE)
      return command === undefined ? 1 : 0
    default:
      io.err(`error: unknown command '${command}'\n${USAGE}`)
      return 1
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2), process.env)
