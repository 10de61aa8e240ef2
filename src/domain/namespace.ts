/**
 * The namespace step (spec-namespace-management): the Machine's namespace on the remote is created with our
 * `managed-by` label when absent and reused untouched when present; it is never updated or deleted, so its cleanup
 * half does nothing. Its read is one get of the Namespace. Domain layer: pure.
 */
import { waiting } from "./Diagnostic.ts"
import type { KubeObject } from "./KubeObject.ts"
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./labels.ts"
import type { Machine } from "./Machine.ts"
import { refOf } from "./ObjectRef.ts"
import type { ObservedNamespace } from "./ObservedState.ts"
import { getOne, type Reads } from "./reads.ts"
import { halted, nothing, type RemoteStep } from "./step.ts"

/** The remote Namespace of the Machine, as a fact. */
export const namespaceReads = (machine: Machine): Reads<ObservedNamespace> =>
  getOne(
    refOf("Namespace", machine.metadata.namespace),
    (o: KubeObject): ObservedNamespace => ({
      name: machine.metadata.namespace,
      labels: { ...(o.metadata.labels ?? {}) },
      deleting: o.metadata.deletionTimestamp !== undefined
    })
  )

export const namespaceStep: RemoteStep = {
  scope: "remote",
  name: "namespace",
  // Later steps create namespaced objects: an unreadable or terminating namespace stops the fold.
  converge: ({ machine, cluster, remote }) => {
    const ns = machine.metadata.namespace
    switch (remote.namespace._tag) {
      case "Unknown":
        return halted(
          waiting("NamespaceUnknown", `cannot read namespace '${ns}' on '${cluster}': ${remote.namespace.reason}`)
        )
      case "Present":
        return remote.namespace.value.deleting
          ? halted(waiting("NamespaceTerminating", `namespace '${ns}' on '${cluster}' is being deleted; waiting`))
          : nothing
      case "Absent":
        return {
          actions: [
            {
              _tag: "EnsureNamespace",
              cluster,
              target: refOf("Namespace", ns),
              labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
              reason: "namespace absent on the remote cluster"
            }
          ],
          diagnostics: []
        }
    }
  },
  // Namespaces are never deleted (they may hold what is not ours).
  cleanup: () => nothing
}
