/**
 * The remote Namespace manifest the operator creates when the Machine's namespace is absent: same name, our
 * `managed-by` label, nothing else. Domain layer: pure builder. Existing namespaces are never rendered or updated.
 */
import type { KubeObject } from "../KubeObject.ts"

export const namespaceManifest = (name: string, labels: Readonly<Record<string, string>>): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: { ...labels } }
})
