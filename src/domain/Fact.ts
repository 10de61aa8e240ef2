/**
 * A fact about the world as observed: Present (with its value), Absent (we looked, it is not there) or
 * Unknown (we could not look: unreachable, forbidden, timed out). Domain layer, pure data.
 * The planner's safety rule rests on the difference: nothing is created or deleted from an Unknown fact.
 */
import { Schema } from "effect"

export type Fact<A> =
  | { readonly _tag: "Present"; readonly value: A }
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Unknown"; readonly reason: string }

/** The schema of `Fact<A>` for a value schema, so observed state encodes to JSON and decodes back. */
export const Fact = <S extends Schema.Top>(value: S) =>
  Schema.Union([
    Schema.TaggedStruct("Present", { value }),
    Schema.TaggedStruct("Absent", {}),
    Schema.TaggedStruct("Unknown", { reason: Schema.String })
  ])

export const present = <A>(value: A): Fact<A> => ({ _tag: "Present", value })
export const absent: Fact<never> = { _tag: "Absent" }
export const unknown = (reason: string): Fact<never> => ({ _tag: "Unknown", reason })
