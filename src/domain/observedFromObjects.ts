/**
 * Builds the remote facts of one Machine from a list of raw remote objects (a snapshot file, or what observe read).
 * Domain layer: pure. Objects not in the list are Absent: callers that could not read a kind must say Unknown
 * themselves instead of passing an empty list.
 */

import { networkAttachmentNames } from "./desired.ts"
import { absent, present } from "./Fact.ts"
import type { KubeObject } from "./KubeObject.ts"
import type { Machine } from "./Machine.ts"
import { observePvc } from "./manifests/Pvc.ts"
import { observeVm, observeVmi } from "./manifests/VirtualMachine.ts"
import type { RemoteState } from "./ObservedState.ts"

const is = (o: KubeObject, kind: string, namespace: string | undefined, name?: string) =>
  o.kind === kind && o.metadata.namespace === namespace && (name === undefined || o.metadata.name === name)

export const remoteStateFromObjects = (
  machine: Machine,
  cluster: string,
  objects: ReadonlyArray<KubeObject>
): RemoteState => {
  const { name, namespace } = machine.metadata
  const ns = objects.find((o) => is(o, "Namespace", undefined, namespace))
  const vm = objects.find((o) => is(o, "VirtualMachine", namespace, name))
  const vmi = objects.find((o) => is(o, "VirtualMachineInstance", namespace, name))
  return {
    cluster,
    namespace:
      ns === undefined
        ? absent
        : present({
            name: namespace,
            labels: { ...(ns.metadata.labels ?? {}) },
            deleting: ns.metadata.deletionTimestamp !== undefined
          }),
    vm: vm === undefined ? absent : present(observeVm(vm)),
    vmi: vmi === undefined ? absent : present(observeVmi(vmi)),
    pvcs: present(objects.filter((o) => is(o, "PersistentVolumeClaim", namespace)).map(observePvc)),
    nads: present(
      networkAttachmentNames(machine).filter((nad) =>
        objects.some((o) => is(o, "NetworkAttachmentDefinition", namespace, nad))
      )
    )
  }
}
