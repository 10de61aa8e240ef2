/**
 * The desired state of one PersistentVolumeClaim for a Machine disk: the fields the operator owns.
 * Domain layer: pure schema. `manifests/Pvc.ts` renders it; `observedFromObjects.ts` projects a live PVC back to it.
 */
import { Schema } from "effect"
import { AccessMode, VolumeMode } from "./Settings.ts"

export const PvcSpec = Schema.Struct({
  name: Schema.String,
  namespace: Schema.String,
  labels: Schema.Record(Schema.String, Schema.String),
  annotations: Schema.Record(Schema.String, Schema.String),
  /** Requested size as a quantity, `"<sizeGB>Gi"`. */
  storage: Schema.String,
  storageClassName: Schema.optionalKey(Schema.String),
  volumeMode: VolumeMode,
  accessModes: Schema.Array(AccessMode)
})
export type PvcSpec = typeof PvcSpec.Type
