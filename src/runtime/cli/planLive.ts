/**
 * `kubevirt-operator plan --kubeconfig FILE (NAMESPACE/NAME | --all)`: the dry run against live clusters. Runtime
 * layer. The supervisor and every remote are wrapped read-only, so this path cannot write even by mistake; it runs
 * the same observe and plan as the operator loop. A fact it could not read (an unreachable remote, a forbidden list)
 * is a problem: the command exits 1 naming it rather than reporting "no changes" from what it did not see.
 */
import { Effect, Layer, Result, Schema } from "effect"
import { Machine } from "../../domain/Machine.ts"
import { Kinds, refKey, refOf } from "../../domain/ObjectRef.ts"
import type { Plan } from "../../domain/Plan.ts"
import type { Settings } from "../../domain/Settings.ts"
import { unknownFacts } from "../../domain/unknownFacts.ts"
import { Remotes, Supervisor } from "../../effects/Clusters.ts"
import { decide } from "../../effects/decide.ts"
import { makeLiveApiFromKubeconfigFile, readOnly } from "../../effects/kube/clients.ts"
import { observe } from "../../effects/observe.ts"

export interface LiveTarget {
  readonly kubeconfigPath: string
  /** `namespace/name`, or undefined for every Machine. */
  readonly machine: string | undefined
  readonly allowExecAuth: boolean
  /** Permit remote kubeconfigs with `http://` servers or `insecure-skip-tls-verify`. */
  readonly allowInsecureRemotes: boolean
}

export interface LivePlans {
  readonly plans: ReadonlyArray<Plan>
  readonly problems: ReadonlyArray<string>
}

const decodeMachine = Schema.decodeUnknownResult(Machine)

/** Observes and plans the selected Machines through read-only clients. */
export const planLive = (target: LiveTarget, settings: Settings): Effect.Effect<LivePlans, string> =>
  Effect.gen(function* () {
    // The supervisor kubeconfig is the user's own file: file references (certificates, token files) are allowed.
    const live = yield* makeLiveApiFromKubeconfigFile(target.kubeconfigPath, {
      allowExecAuth: target.allowExecAuth
    }).pipe(Effect.mapError((e) => `kubeconfig ${target.kubeconfigPath}: ${e.message}`))
    const supervisor = readOnly(live)
    let objects: ReadonlyArray<unknown>
    if (target.machine === undefined) {
      objects = (yield* supervisor.list(Kinds.Machine).pipe(Effect.mapError((e) => e.message))).items
    } else {
      const [namespace, name, ...rest] = target.machine.split("/")
      if (namespace === undefined || name === undefined || rest.length > 0 || namespace === "" || name === "")
        return yield* Effect.fail(`MACHINE must be namespace/name, got '${target.machine}'`)
      const found = yield* supervisor.get(refOf("Machine", name, namespace)).pipe(Effect.mapError((e) => e.message))
      if (found._tag === "None") return yield* Effect.fail(`Machine ${target.machine} not found`)
      objects = [found.value]
    }
    const problems: Array<string> = []
    const machines: Array<Machine> = []
    for (const o of objects) {
      const r = decodeMachine(o)
      if (Result.isSuccess(r)) machines.push(r.success)
      else
        problems.push(
          `Machine ${JSON.stringify((o as { metadata?: { name?: string } }).metadata?.name)}: ${r.failure.message}`
        )
    }
    const layer = Layer.provideMerge(
      Remotes.layerFromKubevirtConfigs({
        readOnly: true,
        allowExecAuth: target.allowExecAuth,
        allowInsecure: target.allowInsecureRemotes
      }),
      Supervisor.layer(supervisor)
    )
    const planned = yield* Effect.forEach(
      machines,
      (machine) =>
        Effect.gen(function* () {
          const now = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
          return yield* decide(machine, yield* observe(machine, settings), settings, now)
        }),
      { concurrency: 4 }
    ).pipe(Effect.provide(layer))
    // A plan made from facts that could not be read says nothing about what would change: exit 1 with the reasons.
    for (const { plan: p, observed } of planned)
      if (!p.diagnostics.some((d) => d.reason === "OutOfScope"))
        for (const u of unknownFacts(observed))
          problems.push(`Machine ${refKey(p.machine)}: cannot read ${u.path}: ${u.reason}`)
    return { plans: planned.map((x) => x.plan), problems }
  })
