/**
 * Kubernetes Events on Machines, aggregated: the same reason and message for the same Machine bump the count of
 * one Event instead of creating one per retry. Effects layer. It needs only `create` and `patch` on events (no
 * reads): counts are remembered in a bounded in-process cache, as client-go's recorder does. Recording never fails a
 * reconcile: a failed write is logged and dropped. Messages come from actions and errors, never from Secrets.
 */
import { Context, Effect, Layer } from "effect"
import type { KubeObject } from "../domain/KubeObject.ts"
import { refOf } from "../domain/ObjectRef.ts"
import { shortHash } from "../domain/shortHash.ts"
import { Supervisor } from "./Clusters.ts"

export const EVENT_SOURCE = "kubevirt-operator"
const CACHE_LIMIT = 10_000

export interface EventTarget {
  readonly name: string
  readonly namespace: string
  readonly uid?: string | undefined
}

export type EventType = "Normal" | "Warning"

const eventName = (t: EventTarget, reason: string, message: string) =>
  `${t.name}.${shortHash(`${t.uid ?? ""}/${reason}/${message}`)}`

export class EventRecorder extends Context.Service<
  EventRecorder,
  { readonly record: (target: EventTarget, type: EventType, reason: string, message: string) => Effect.Effect<void> }
>()("kubevirt-operator/effects/EventRecorder") {
  static readonly layer: Layer.Layer<EventRecorder, never, Supervisor> = Layer.effect(
    EventRecorder,
    Effect.gen(function* () {
      const supervisor = yield* Supervisor
      const counts = new Map<string, number>()
      const remember = (name: string, count: number) => {
        counts.delete(name)
        counts.set(name, count)
        if (counts.size > CACHE_LIMIT) counts.delete(counts.keys().next().value!)
      }
      const record = (target: EventTarget, type: EventType, reason: string, message: string) =>
        Effect.gen(function* () {
          const now = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
          const ref = refOf("Event", eventName(target, reason, message), target.namespace)
          const create = () => {
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
            return supervisor.create(ref, event).pipe(
              Effect.tap(() => Effect.sync(() => remember(ref.name, 1))),
              // Recorded before (another replica, or before a restart): bump its time; the count restarts here.
              Effect.catchReason("KubeApiError", "AlreadyExists", () =>
                Effect.tap(supervisor.patch(ref, { lastTimestamp: now }), () =>
                  Effect.sync(() => remember(ref.name, 1))
                )
              )
            )
          }
          const known = counts.get(ref.name)
          if (known === undefined) return yield* create()
          yield* supervisor.patch(ref, { count: known + 1, lastTimestamp: now }).pipe(
            Effect.tap(() => Effect.sync(() => remember(ref.name, known + 1))),
            // Events expire (1 h by default): record it anew.
            Effect.catchReason("KubeApiError", "NotFound", () => create())
          )
        }).pipe(
          Effect.asVoid,
          Effect.catch((e) =>
            Effect.logWarning(
              `cannot record event ${reason} on Machine ${target.namespace}/${target.name}: ${e.message}`
            )
          )
        )
      return EventRecorder.of({ record })
    })
  )
}
