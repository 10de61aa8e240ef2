/**
 * Creates a remote object idempotently: AlreadyExists is success when the existing object is ours (a retry after
 * a lost response, or a concurrent reconcile), and a `NotOurs` failure otherwise. Effects layer.
 */
import { Effect, Option } from "effect"
import type { KubeObject } from "../../domain/KubeObject.ts"
import { MANAGED_BY_LABEL, SOURCE_MACHINE_LABEL } from "../../domain/labels.ts"
import { type ObjectRef, refKey } from "../../domain/ObjectRef.ts"
import { NotOurs } from "../ExecutionError.ts"
import type { KubeApiService } from "../KubeApi.ts"
import { apiRetry, retryApi } from "../retry.ts"

/** Ours: the existing object carries the same `managed-by` and `source-machine` labels as the one we create. */
const sameOwner = (existing: KubeObject, body: KubeObject) =>
  [MANAGED_BY_LABEL, SOURCE_MACHINE_LABEL].every(
    (k) => body.metadata.labels?.[k] !== undefined && existing.metadata.labels?.[k] === body.metadata.labels[k]
  )

export const createOwned = (api: KubeApiService, ref: ObjectRef, body: KubeObject) =>
  api.create(ref, body).pipe(
    retryApi(apiRetry),
    Effect.asVoid,
    Effect.catchReason("KubeApiError", "AlreadyExists", () =>
      api.get(ref).pipe(
        retryApi(apiRetry),
        Effect.flatMap((existing) =>
          Option.isSome(existing) && sameOwner(existing.value, body)
            ? Effect.void
            : Effect.fail(new NotOurs({ target: `${ref.kind} ${refKey(ref)}` }))
        )
      )
    )
  )
