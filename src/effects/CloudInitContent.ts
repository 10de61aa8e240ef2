/**
 * The cloud-init contents a reconcile rendered, by digest (ADR 0010): plans carry digests only, and the executors of
 * CreateSecret / PatchSecret take the content from here. Effects layer. A reference with an empty default: where no
 * reconcile provided one (a plan decoded from JSON, a test), a Secret write finds nothing and writes nothing.
 */
import { Context, Effect } from "effect"
import { type CloudInitPayload, cloudInitPayload } from "../domain/cloudInitPayload.ts"
import type { Machine } from "../domain/Machine.ts"
import { generatedNetworkData } from "../domain/networkConfiguration.ts"
import type { ObservedState } from "../domain/ObservedState.ts"
import { ContentUnavailable } from "./ExecutionError.ts"

export const CloudInitContent = Context.Reference<ReadonlyMap<string, CloudInitPayload>>(
  "kubevirt-operator/effects/CloudInitContent",
  { defaultValue: () => new Map() }
)

/** The payload with exactly this digest, or ContentUnavailable. */
export const contentFor = Effect.fnUntraced(function* (digest: string) {
  const payload = (yield* CloudInitContent).get(digest)
  if (payload === undefined) return yield* new ContentUnavailable({ digest })
  return payload
})

/**
 * Runs `effect` (a plan's execution) with the content the planner saw: the payload rendered again, purely, from the
 * same Machine and observed sources (and a static address's network-config, ADR 0013), so it has exactly the digests
 * the plan carries.
 */
export const withCloudInitContent =
  (machine: Machine, observed: ObservedState) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const rendered = cloudInitPayload(
      machine,
      observed.cloudInitSources ?? {},
      generatedNetworkData(machine, observed.vitistack)
    )
    const contents: ReadonlyMap<string, CloudInitPayload> =
      rendered._tag === "Ready" ? new Map([[rendered.payload.digest, rendered.payload]]) : new Map()
    return Effect.provideService(effect, CloudInitContent, contents)
  }
