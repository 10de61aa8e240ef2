/**
 * Observes whether a Machine's destructive steps need approval (domain/governance.ts, ADR 0015): the
 * `vitistack.io/require-approval` annotation of the KubevirtConfig it is placed on (from the operator's watch cache
 * when there is one) and of its namespace on the supervisor. Effects layer. Read only when a plan has a destructive
 * step (`planMachine`), so a steady-state reconcile reads nothing more. A failed read is Unknown: the planner then
 * holds the destructive steps (nothing is destroyed on a guess).
 */
import { Effect, Option, Schema } from "effect"
import type { ApprovalPolicy } from "../domain/ApprovalPolicy.ts"
import { type Fact, present, unknown } from "../domain/Fact.ts"
import { approvalPolicyFrom } from "../domain/governance.ts"
import { KubevirtConfig } from "../domain/KubevirtConfig.ts"
import type { Machine } from "../domain/Machine.ts"
import { refOf } from "../domain/ObjectRef.ts"
import { Supervisor } from "./Clusters.ts"
import { SupervisorCache } from "./observeTenancy.ts"
import { apiRetry, retryApi } from "./retry.ts"

const decodeConfig = Schema.decodeUnknownOption(KubevirtConfig)

export const observeApproval = Effect.fn("observe.approval")(
  function* (machine: Machine, cluster: string | undefined) {
    const supervisor = yield* Supervisor
    const cache = yield* SupervisorCache
    const cached = cluster === undefined ? Option.none() : cache.kubevirtConfig(cluster)
    const config =
      cluster === undefined
        ? Option.none<KubevirtConfig>()
        : cached !== undefined
          ? cached
          : yield* retryApi(apiRetry)(supervisor.get(refOf("KubevirtConfig", cluster))).pipe(
              Effect.map((o) => Option.flatMap(o, decodeConfig))
            )
    const namespace = machine.metadata.namespace
    const ns = yield* retryApi(apiRetry)(supervisor.get(refOf("Namespace", namespace)))
    return present(
      approvalPolicyFrom(
        cluster,
        Option.getOrUndefined(config)?.metadata.annotations,
        namespace,
        Option.getOrUndefined(ns)?.metadata.annotations
      )
    ) as Fact<ApprovalPolicy>
  },
  Effect.catch((e) => Effect.succeed(unknown(e.message) as Fact<ApprovalPolicy>))
)
