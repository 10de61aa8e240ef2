/**
 * What each remote cluster last looked like (it answers, or why not), reported on its KubevirtConfig's status and
 * written only when it changes. Runtime layer. The operator loop reports it from the remote watch that declares
 * `reportsHealth` and from failures to build the cluster's client. It is not a plan action (ADR 0008 §4): it records
 * what a watch saw, not a decision from a Machine's observed state.
 */
import { Effect, Option } from "effect"
import { refOf } from "../domain/ObjectRef.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"

export interface ClusterHealth {
  readonly report: (cluster: string, reachable: boolean, message: string) => Effect.Effect<void>
}

/** A reporter writing through `supervisor`; a failed write is logged and retried on the next change. */
export const makeClusterHealth = (supervisor: KubeApiService): ClusterHealth => {
  const last = new Map<string, string>()
  const report = (cluster: string, reachable: boolean, message: string) =>
    Effect.gen(function* () {
      const status = {
        phase: reachable ? "Ready" : "Error",
        status: reachable ? "Reachable" : "Unreachable",
        message
      }
      if (last.get(cluster) === JSON.stringify(status)) return
      const ref = refOf("KubevirtConfig", cluster)
      const current = yield* supervisor.get(ref)
      if (Option.isNone(current)) return
      yield* supervisor.updateStatus(
        ref,
        { ...(current.value.status as object | undefined), name: cluster, ...status },
        { resourceVersion: current.value.metadata.resourceVersion ?? "" }
      )
      last.set(cluster, JSON.stringify(status))
    }).pipe(Effect.catch((e) => Effect.logWarning(`cannot report health on KubevirtConfig ${cluster}: ${e.message}`)))
  return { report }
}
