/**
 * What a reconcile says when it released a Machine under deletion policy AbandonAfter (`domain/abandon.ts`): a
 * Warning Event on the Machine and a log line, each listing exactly which remote objects may be left behind and the
 * label selector that finds any other. Effects layer.
 */
import { Effect } from "effect"
import type { Action } from "../domain/Action.ts"
import { describeObjects } from "../domain/abandon.ts"
import type { EventTarget } from "./EventRecorder.ts"
import { EventRecorder } from "./EventRecorder.ts"

export const reportAbandoned = Effect.fnUntraced(function* (target: EventTarget, executed: ReadonlyArray<Action>) {
  const events = yield* EventRecorder
  for (const a of executed) {
    if (a._tag !== "RemoveFinalizer" || a.abandoned === undefined) continue
    const x = a.abandoned
    const text = `remote cluster '${x.cluster}' unreadable since ${x.since} (AbandonAfter=${x.after}): released; may be left behind there: ${describeObjects(x.objects)}; find any other with -l ${x.labelSelector}`
    yield* events.record(target, "Warning", "RemoteObjectsAbandoned", text)
    yield* Effect.logWarning(`Machine ${target.namespace}/${target.name}: ${text}`).pipe(
      Effect.annotateLogs({
        abandonedCluster: x.cluster,
        abandonedObjects: x.objects.map((o) => `${o.kind} ${o.namespace ?? ""}/${o.name}`),
        abandonedSelector: x.labelSelector
      })
    )
  }
})
