/**
 * Typed failures of the command line, so no caller casts a thrown value to `Error`. Runtime layer.
 * `UsageError`: the flags cannot be parsed (an unknown flag, a missing value); the command prints it with its usage.
 */
import { Predicate, Result, Schema } from "effect"

export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { detail: Schema.String }) {
  override get message(): string {
    return this.detail
  }
}

/** The message of anything thrown (an `Error`'s message, else its string form). */
export const messageOf = (thrown: unknown): string =>
  Predicate.hasProperty(thrown, "message") && Predicate.isString(thrown.message) ? thrown.message : String(thrown)

/** Runs a flag parser that throws (node:util `parseArgs`), as a Result. */
export const parseFlags = <A>(parse: () => A): Result.Result<A, UsageError> =>
  Result.try({ try: parse, catch: (e) => new UsageError({ detail: messageOf(e) }) })
