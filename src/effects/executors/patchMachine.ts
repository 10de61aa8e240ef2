/**
 * Read-modify-write of a Machine's metadata (finalizers, annotations) with a resourceVersion precondition.
 * Effects layer. `change` returns the merge patch to apply to the fresh object, or `undefined` when the change is
 * already there (idempotent). A Conflict re-reads and tries again (bounded); a Machine that is gone is done.
 */
import { Effect, Option } from "effect"
import type { KubeObject } from "../../domain/KubeObject.ts"
import type { ObjectRef } from "../../domain/ObjectRef.ts"
import { Supervisor } from "../Clusters.ts"
import type { MergePatch } from "../KubeApi.ts"
import { apiRetry, conflictRetry, retryApi } from "../retry.ts"

export const patchMachine = (ref: ObjectRef, change: (fresh: KubeObject) => MergePatch | undefined) =>
  Effect.gen(function* () {
    const supervisor = yield* Supervisor
    const attempt = Effect.gen(function* () {
      const fresh = yield* retryApi(apiRetry)(supervisor.get(ref))
      if (Option.isNone(fresh)) return
      const patch = change(fresh.value)
      if (patch === undefined) return
      // resourceVersion precondition: a concurrent writer makes this fail with Conflict instead of being overwritten.
      yield* supervisor.patch(ref, patch, { resourceVersion: fresh.value.metadata.resourceVersion })
    })
    yield* Effect.retry(attempt, { schedule: conflictRetry, while: (e) => e.reason._tag === "Conflict" })
  })

/**
 * Several metadata changes as one: each sees the fresh Machine, and their patches are merged (they touch different
 * fields: finalizers, annotations). Undefined when none has anything to change.
 */
export const combinedChange =
  (...changes: ReadonlyArray<(fresh: KubeObject) => MergePatch | undefined>) =>
  (fresh: KubeObject): MergePatch | undefined => {
    const patches = changes.flatMap((c) => {
      const p = c(fresh)
      return p === undefined ? [] : [p]
    })
    if (patches.length === 0) return undefined
    const metadata: Record<string, unknown> = {}
    for (const p of patches) Object.assign(metadata, (p as { readonly metadata?: object }).metadata ?? {})
    return { metadata }
  }
