/**
 * The V8 flags the image starts Node with, as in the Dockerfile:
 * - `IMAGE_NODE_FLAGS` in `NODE_OPTIONS` (its environment): a young generation of 1 MiB per semi-space instead of the
 *   default 16 MiB. Measured (ADR 0017): the operator's RSS at start 141 → 122 MiB, for about a quarter more GC time
 *   while a bulk create is reconciled. And `--expose-gc`, so the operator can collect the garbage of its initial lists
 *   once they are in (`src/runtime/compactHeap.ts`).
 * - `IMAGE_NODE_ARGS` on the entrypoint's command line (Node does not allow it in `NODE_OPTIONS`):
 *   `--optimize-for-size`, V8's memory-over-speed mode (a smaller heap growing factor among others). Measured (ADR
 *   0017, "Memory diet"): with 10,000 Machines cached the RSS at ready 242 → 177–179 MiB and the peak while
 *   reconciling 368 → 199–215 MiB, for more CPU (README, "Benchmarks").
 * bench/real.ts starts its RSS child with both, so the README's figure is the image's.
 */
export const IMAGE_NODE_FLAGS: ReadonlyArray<string> = ["--max-semi-space-size=1", "--expose-gc"]

export const IMAGE_NODE_ARGS: ReadonlyArray<string> = ["--optimize-for-size"]
