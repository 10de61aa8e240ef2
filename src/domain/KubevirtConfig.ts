/**
 * The cluster-scoped `KubevirtConfig` (vitistack.io/v1alpha1): names a remote KubeVirt cluster through a Secret
 * holding its kubeconfig (data key `kubeconfig`). Domain layer: pure schema. The object name is what the Machine's
 * placement annotation and `DEFAULT_KUBEVIRT_CONFIG` refer to.
 */
import { Schema } from "effect"

export const KUBECONFIG_SECRET_KEY = "kubeconfig"

export class KubevirtConfig extends Schema.Class<KubevirtConfig>("KubevirtConfig")({
  metadata: Schema.Struct({
    name: Schema.String,
    resourceVersion: Schema.optionalKey(Schema.String),
    /** Tenancy (tenancy.ts, ADR 0011) is configured here, since the CRD has no field for it. */
    annotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String))
  }),
  spec: Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    secretNamespace: Schema.String,
    kubeconfigSecretRef: Schema.String
  })
}) {}
