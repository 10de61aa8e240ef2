/**
 * A Machine that carries our finalizer while its `spec.provider` names another provider (it was changed after we took
 * the Machine on). Domain layer: pure. The finalizer says remote objects may exist, so the Machine stays ours until
 * they are gone: its deletion is cleaned up as any other (planner.ts), and while it lives nothing remote is created
 * or changed for it and a condition says why (`ProviderChanged`, shown as SpecApplied=False). A Machine that was
 * never placed has nothing remote (placement is recorded before any remote write, ADR 0001 §5): it is released at
 * once, so the other provider has it to itself.
 */
import { advisory } from "./Diagnostic.ts"
import { FINALIZER, PLACEMENT_ANNOTATION } from "./labels.ts"
import { type Machine, machineRef } from "./Machine.ts"
import { Plan } from "./Plan.ts"

/** The plan of a live Machine with our finalizer and another provider. */
export const planProviderChanged = (m: Machine): Plan => {
  const provider = m.spec.provider ?? ""
  const cluster = m.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? ""
  if (cluster === "")
    return Plan.make({
      machine: machineRef(m),
      actions: [
        {
          _tag: "RemoveFinalizer",
          target: machineRef(m),
          finalizer: FINALIZER,
          reason: `spec.provider is '${provider}' and the Machine was never placed: nothing remote to clean up; released`
        }
      ],
      diagnostics: []
    })
  return Plan.make({
    machine: machineRef(m),
    cluster,
    actions: [],
    diagnostics: [
      advisory(
        "ProviderChanged",
        `spec.provider changed to '${provider}' after placement on '${cluster}': its remote objects are no longer changed, and are removed when the Machine is deleted (set spec.provider to kubevirt to manage them again)`,
        "spec.provider"
      )
    ]
  })
}
