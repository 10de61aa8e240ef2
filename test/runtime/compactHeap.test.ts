/**
 * compactHeap runs Node's exposed GC when there is one (the image's `--expose-gc`), as V8's last-resort collection
 * (the one that returns emptied pages), and is a no-op otherwise.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { compactHeap } from "../../src/runtime/compactHeap.ts"

describe("compactHeap", () => {
  it.effect("calls the exposed gc once per run as a last-resort collection, and does nothing without one", () =>
    Effect.gen(function* () {
      const holder = globalThis as { gc?: ((...args: Array<unknown>) => void) | undefined }
      const saved = holder.gc
      const calls: Array<unknown> = []
      try {
        holder.gc = (...args: Array<unknown>) => {
          calls.push(args[0])
        }
        yield* compactHeap
        yield* compactHeap
        assert.deepStrictEqual(
          calls,
          [0, 1].map(() => ({ type: "major", execution: "sync", flavor: "last-resort" }))
        )
        holder.gc = undefined
        yield* compactHeap
        assert.strictEqual(calls.length, 2)
      } finally {
        holder.gc = saved
      }
    })
  )
})
