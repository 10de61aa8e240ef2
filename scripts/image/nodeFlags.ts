/**
 * The V8 flags the image starts Node with (`NODE_OPTIONS` in its environment, as in the Dockerfile): a young generation of 1 MiB per semi-space instead
 * of the default 16 MiB. Measured (ADR 0017): the operator's RSS at start 141 → 122 MiB, for about a quarter more GC
 * time while a bulk create is reconciled. bench/real.ts starts its RSS child with them, so the README's figure is the
 * image's.
 */
export const IMAGE_NODE_FLAGS: ReadonlyArray<string> = ["--max-semi-space-size=1"]
