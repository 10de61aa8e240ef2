/**
 * The dry-run decorator: reads go to the wrapped KubeApi, every write fails with reason DryRun before any
 * request is sent. Effects layer (cluster service). The `plan` command runs observe + plan through it, so a dry run
 * can never change a cluster.
 */
import { Effect, Layer } from "effect"
import { KubeApi, type KubeApiService } from "../KubeApi.ts"
import { DryRun, describeObject, type KubeVerb, kubeApiError } from "../KubeApiError.ts"

const refuse = (verb: KubeVerb, ref: { readonly kind: string; readonly namespace?: string; readonly name: string }) =>
  Effect.fail(
    kubeApiError(
      verb,
      describeObject(ref),
      new DryRun({ message: "dry-run: the read-only cluster service refuses writes" })
    )
  )

/** `api` with create/patch/apply/delete/updateStatus refused. */
export const readOnly = (api: KubeApiService): KubeApiService => ({
  get: api.get,
  list: api.list,
  watch: api.watch,
  discover: api.discover,
  create: (ref) => refuse("create", ref),
  patch: (ref) => refuse("patch", ref),
  apply: (ref) => refuse("apply", ref),
  delete: (ref) => refuse("delete", ref),
  updateStatus: (ref) => refuse("updateStatus", ref)
})

/** Wraps the KubeApi below it: reads pass through, every write fails with reason DryRun. */
export const layerReadOnly: Layer.Layer<KubeApi, never, KubeApi> = Layer.effect(KubeApi, Effect.map(KubeApi, readOnly))
