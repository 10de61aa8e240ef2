/**
 * KubeVirt as installed on a remote cluster, for the stand-ins' worlds (`npm start`, tests, `npm run dev:clusters`):
 * the KubeVirt resource that virt-operator leaves once it has deployed KubeVirt (phase Deployed, Available), which is
 * what the operator's health check reads (ADR 0012). Without it a remote is NotReady and holds its Machines back.
 * Runtime layer (a development tool, not part of the operator).
 */
import { Effect } from "effect"
import type { KubeObject } from "../../domain/KubeObject.ts"
import { refOf } from "../../domain/ObjectRef.ts"
import type { KubeApiService } from "../../effects/KubeApi.ts"

export const KUBEVIRT_NAMESPACE = "kubevirt"

/** The KubeVirt resource `kubevirt/kubevirt` with the status of a deployed installation. */
export const deployedKubevirt = (namespace = KUBEVIRT_NAMESPACE): KubeObject => ({
  apiVersion: "kubevirt.io/v1",
  kind: "KubeVirt",
  metadata: { name: "kubevirt", namespace },
  spec: {},
  status: {
    phase: "Deployed",
    observedKubeVirtVersion: "v1.8.2",
    conditions: [
      { type: "Available", status: "True", reason: "AllComponentsReady", message: "All components are ready." },
      { type: "Progressing", status: "False", reason: "AllComponentsReady", message: "All components are ready." },
      { type: "Degraded", status: "False", reason: "AllComponentsReady", message: "All components are ready." }
    ]
  }
})

/** The objects to seed an in-memory remote with: the namespace and the deployed KubeVirt resource. */
export const kubevirtInstallation = (namespace = KUBEVIRT_NAMESPACE): ReadonlyArray<KubeObject> => [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
  deployedKubevirt(namespace)
]

/** Installs it through a cluster client with admin rights (creating the namespace when absent): idempotent. */
export const installKubevirt = (api: KubeApiService, namespace = KUBEVIRT_NAMESPACE) =>
  Effect.gen(function* () {
    const [ns, kubevirt] = kubevirtInstallation(namespace) as [KubeObject, KubeObject]
    yield* api
      .create(refOf("Namespace", namespace), ns)
      .pipe(Effect.catchReason("KubeApiError", "AlreadyExists", () => Effect.void))
    const ref = refOf("KubeVirt", "kubevirt", namespace)
    const created = yield* api
      .create(ref, kubevirt)
      .pipe(
        Effect.catchReason("KubeApiError", "AlreadyExists", () =>
          Effect.flatMap(api.get(ref), (o) => Effect.succeed(o._tag === "Some" ? o.value : kubevirt))
        )
      )
    yield* api.updateStatus(ref, kubevirt.status, { resourceVersion: created.metadata.resourceVersion ?? "" })
  })
