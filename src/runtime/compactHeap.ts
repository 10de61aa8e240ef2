/**
 * A full garbage collection after a burst of initial lists, when Node exposes one (`--expose-gc`, one of the image's
 * flags, `scripts/image/nodeFlags.ts`). Listing a cluster's objects parses every page whole; with the image's 1 MiB
 * young generation those temporaries are promoted, so when the caches have synced about a third of V8's old space is
 * garbage that a major GC would only get to later (ADR 0017, "Memory diet"). Collecting it at once, when the
 * supervisor's caches and each remote's have first listed, gives it back at that moment. A plain full GC frees the
 * objects but keeps the pages (the RSS does not move); V8's last-resort collection compacts the heap and returns the
 * emptied pages. It blocks the process for a moment, once per cluster per start of the loop. Without the flag (tests,
 * `plan`) it does nothing. Runtime layer.
 */
import { Effect } from "effect"

/** V8's `gc` extension: "last-resort" is the collection V8 runs when memory runs out (compacting, pooled pages freed). */
type ExposedGc = (options: {
  readonly type: "major"
  readonly execution: "sync"
  readonly flavor: "last-resort"
}) => void

export const compactHeap: Effect.Effect<void> = Effect.sync(() => {
  const gc = (globalThis as { readonly gc?: ExposedGc }).gc
  gc?.({ type: "major", execution: "sync", flavor: "last-resort" })
})
