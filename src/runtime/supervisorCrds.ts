/**
 * Start-up needs nothing but the supervisor (reference F3 without its panic, W6): the CRDs the operator watches
 * (deploy/crds: Machine, KubevirtConfig, MachineClass) must be served there. Missing ones make `/readyz` fail with a
 * message naming them and the fix, and are logged; the process keeps running and becomes ready once they are
 * installed. Discovery needs no RBAC rule. Runtime layer.
 */
import { Clock, Effect, Option } from "effect"
import { missingResources, type RequiredResources } from "../domain/ApiDiscovery.ts"
import type { KubeApiService } from "../effects/KubeApi.ts"
import type { HealthCheck } from "./HealthServer.ts"

/** What the operator reads on the supervisor; the MachineProvider and Vitistack CRDs are optional (ADR 0012). */
export const SUPERVISOR_CRDS: RequiredResources = {
  group: "vitistack.io",
  version: "v1alpha1",
  resources: ["machines", "kubevirtconfigs", "machineclasses"]
}

/** A found set of CRDs is trusted this long before it is asked again (probes come every few seconds). */
const TRUST_MILLIS = 60_000

/** Fails with the reason when a required CRD is not served (or discovery does not answer). */
export const checkSupervisorCrds = (api: KubeApiService): Effect.Effect<void, string> =>
  api.discover(SUPERVISOR_CRDS.group).pipe(
    Effect.mapError((e) => `cannot check the supervisor's CRDs: ${e.message}`),
    Effect.flatMap((served) => {
      const missing = missingResources(SUPERVISOR_CRDS, Option.getOrUndefined(served))
      return missing.length === 0
        ? Effect.void
        : Effect.fail(
            `the supervisor does not serve ${missing.join(", ")}: install the CRDs (deploy/crds, or the Helm chart's crds/)`
          )
    })
  )

/** The `/readyz` check `supervisor-crds`: `checkSupervisorCrds`, with a success remembered for a minute. */
export const supervisorCrdsCheck = (api: KubeApiService): HealthCheck => {
  let trustedUntil = 0
  return {
    name: "supervisor-crds",
    check: Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (now < trustedUntil) return
      yield* checkSupervisorCrds(api)
      trustedUntil = now + TRUST_MILLIS
    })
  }
}
