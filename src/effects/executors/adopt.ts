/**
 * Adopting an object of the Go operator's (ADR 0014): a merge patch of our labels (and the long-name annotation)
 * into its metadata, nothing else, with the observed resourceVersion as precondition: an object changed since it was
 * observed (relabelled, claimed by someone, replaced) gives Conflict and a fresh plan, never an adoption on stale
 * facts. Effects layer; the three Adopt executors share it.
 */

import { Effect } from "effect"
import type { ActionOf } from "../../domain/Action.ts"
import { ownershipPatch } from "../../domain/adoption.ts"
import { Remotes } from "../Clusters.ts"
import { apiRetry, retryApi } from "../retry.ts"

export const adopt = (a: ActionOf<"AdoptVirtualMachine" | "AdoptPvc" | "AdoptDataVolume">) =>
  Effect.gen(function* () {
    const api = yield* (yield* Remotes).get(a.cluster)
    yield* retryApi(apiRetry)(
      api.patch(a.target, ownershipPatch(a.labels, a.annotations), { resourceVersion: a.resourceVersion })
    )
  })
