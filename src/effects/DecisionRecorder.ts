/**
 * Where a reconcile records its decision trace (`domain/decisionTrace.ts`, ADR 0015). Effects layer: a reference whose
 * default records nothing and costs nothing (tests, `plan`, the embedded run); the operator provides one that offers
 * each trace to a bounded ring buffer drained to a JSON-lines file or the log (`runtime/decisionTraces.ts`), so
 * recording never blocks a reconcile and never grows memory without bound.
 */
import { Context, Effect } from "effect"
import type { DecisionTrace } from "../domain/decisionTrace.ts"

export interface DecisionRecorderService {
  /** False: the reconcile does not even build the trace. */
  readonly enabled: boolean
  readonly record: (trace: DecisionTrace) => Effect.Effect<void>
}

export const DecisionRecorder = Context.Reference<DecisionRecorderService>(
  "kubevirt-operator/effects/DecisionRecorder",
  { defaultValue: () => ({ enabled: false, record: () => Effect.void }) }
)
