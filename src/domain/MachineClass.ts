/**
 * The cluster-scoped `MachineClass` (vitistack.io/v1alpha1): a named size (CPU topology and memory).
 * Domain layer: pure schema. Only `enabled`, `memory.quantity` and `cpu` are used (reference F22).
 */
import { Schema } from "effect"

export class MachineClass extends Schema.Class<MachineClass>("MachineClass")({
  metadata: Schema.Struct({ name: Schema.String }),
  spec: Schema.Struct({
    enabled: Schema.optionalKey(Schema.Boolean),
    memory: Schema.Struct({ quantity: Schema.Union([Schema.String, Schema.Number]) }),
    cpu: Schema.Struct({
      cores: Schema.Number,
      sockets: Schema.optionalKey(Schema.Number),
      threads: Schema.optionalKey(Schema.Number)
    })
  })
}) {}
