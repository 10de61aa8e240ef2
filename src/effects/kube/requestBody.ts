/**
 * Prepares a write body for a target: the body must describe the same object as the `ObjectRef` (apiVersion,
 * kind, name, namespace), name/namespace are filled from the ref, and server-owned metadata is dropped.
 * Effects layer (cluster service): the live and in-memory layers share it, so both reject the same bodies.
 */
import { Result } from "effect"
import type { KubeObject, ObjectMeta } from "../../domain/KubeObject.ts"
import type { ObjectRef } from "../../domain/ObjectRef.ts"
import { Invalid, type KubeApiErrorReason } from "../KubeApiError.ts"
import type { KindInfo } from "./KindTable.ts"

/** Metadata only the server writes; a body that carries them (e.g. copied from a get) has them removed. */
export const stripServerFields = (meta: ObjectMeta, keep: { readonly resourceVersion?: boolean } = {}): ObjectMeta => {
  const {
    uid: _uid,
    resourceVersion,
    generation: _gen,
    creationTimestamp: _ct,
    deletionTimestamp: _dt,
    managedFields: _mf,
    deletionGracePeriodSeconds: _dg,
    selfLink: _sl,
    ...rest
  } = meta as ObjectMeta & {
    readonly managedFields?: unknown
    readonly deletionGracePeriodSeconds?: unknown
    readonly selfLink?: unknown
  }
  return keep.resourceVersion === true && resourceVersion !== undefined ? { ...rest, resourceVersion } : rest
}

/**
 * The body to send for a write of `ref`, or Invalid when it names another object. With
 * `keepResourceVersion`, `metadata.resourceVersion` stays (server-side apply uses it as a precondition).
 */
export const bodyForRef = (
  info: KindInfo,
  ref: ObjectRef,
  body: KubeObject,
  options: { readonly keepResourceVersion?: boolean } = {}
): Result.Result<KubeObject, KubeApiErrorReason> => {
  if (body.apiVersion !== ref.apiVersion || body.kind !== ref.kind) {
    return Result.fail(
      new Invalid({
        message: `the body is a ${body.apiVersion} ${body.kind}, the request is for ${ref.apiVersion} ${ref.kind}`,
        status: 400
      })
    )
  }
  if (body.metadata.name !== ref.name) {
    return Result.fail(
      new Invalid({
        message: `the name of the object (${body.metadata.name}) does not match the name on the URL (${ref.name})`,
        status: 400
      })
    )
  }
  if (info.namespaced && body.metadata.namespace !== undefined && body.metadata.namespace !== ref.namespace) {
    return Result.fail(
      new Invalid({
        message: "the namespace of the provided object does not match the namespace sent on the request",
        status: 400
      })
    )
  }
  const metadata: ObjectMeta = {
    ...stripServerFields(body.metadata, { resourceVersion: options.keepResourceVersion === true }),
    name: ref.name,
    ...(info.namespaced && ref.namespace !== undefined ? { namespace: ref.namespace } : {})
  }
  return Result.succeed({ ...body, metadata })
}
