/**
 * Kubernetes Events on Machines, aggregated: the same reason and message for the same Machine bump the count of
 * one Event instead of creating one per retry. Effects layer. Recording never fails a reconcile: a failed write is
 * logged and dropped. Messages come from actions and errors, never from Secrets or kubeconfigs.
 */
import { Effect, Option } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { refOf } from "../domain/ObjectRef.ts"
import { shortHash } from "../domain/shortHash.ts"
import { Supervisor } from "./Clusters.ts"

export const EVENT_SOURCE = "kubevirt-operator"

export interface EventTarget {
  readonly name: string
  readonly namespace: string
  readonly uid?: string | undefined
}

export type EventType = "Normal" | "Warning"

const eventName = (t: EventTarget, reason: string, message: string) =>
  `${t.name}.${shortHash(`${t.uid ?? ""}/${reason}/${message}`)}`

/** Records (or bumps) one Event on a Machine. */
export const recordEvent = (target: EventTarget, type: EventType, reason: string, message: string) =>
  Effect.gen(function* () {
    const supervisor = yield* Supervisor
    const now = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
    const ref = refOf("Event", eventName(target, reason, message), target.namespace)
    const existing = yield* supervisor.get(ref)
    if (Option.isSome(existing)) {
      const count = typeof existing.value.count === "number" ? existing.value.count : 1
      yield* supervisor.patch(
        ref,
        { count: count + 1, lastTimestamp: now },
        { resourceVersion: existing.value.metadata.resourceVersion }
      )
      return
    }
    const event: KubeObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: ref.name, namespace: target.namespace },
      involvedObject: {
        apiVersion: "vitistack.io/v1alpha1",
        kind: "Machine",
        name: target.name,
        namespace: target.namespace,
        ...(target.uid === undefined ? {} : { uid: target.uid })
      },
      type,
      reason,
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: EVENT_SOURCE },
      reportingComponent: EVENT_SOURCE
    }
    yield* supervisor.create(ref, event)
  }).pipe(
    Effect.catch((e) =>
      Effect.logWarning(`cannot record event ${reason} on Machine ${target.namespace}/${target.name}: ${e.message}`)
    )
  )
