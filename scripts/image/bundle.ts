/**
 * The operator as the image ships it: one minified ES module (rolldown, the bundler Vite is built on), with a source
 * map beside it. Rolldown erases the TypeScript types, keeps only the code that is reached (of `effect`, far from all
 * of it) and writes it as one file, so Node parses, compiles and keeps far less: importing the operator costs
 * 74–75 MiB of RSS instead of 97–98 for the sources as JavaScript, and the heap at start holds 11 MiB of code
 * instead of 30 (ADR 0017, "Memory diet"). `@kubernetes/client-node` and `undici` stay outside, in node_modules:
 * client-node is loaded only for a kubeconfig a person hands over (`--kubeconfig`), undici only for a cluster behind a
 * `proxy-url`. Node reads the source map only when started with `--enable-source-maps` (for readable stack traces; it
 * costs memory).
 *
 *   node scripts/image/bundle.ts [ENTRY [OUT]]     default: src/runtime/main.ts → dist/app/main.js
 */
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "rolldown"

/** The bundle's file in the image's working directory (/app), which the entrypoint runs. */
export const IMAGE_MAIN = "main.js"

/**
 * Packages the bundle imports at run time from node_modules instead of holding them: each is loaded only when a
 * cluster needs it (client-node for `--kubeconfig`, undici for a `proxy-url`).
 */
export const EXTERNAL: ReadonlyArray<RegExp> = [/^@kubernetes\/client-node(\/|$)/, /^undici(\/|$)/]

/** Writes `entry` and what it imports as one minified ES module at `outFile`, with `outFile.map` beside it. */
export const bundle = async (entry: string, outFile: string): Promise<void> => {
  await build({
    input: entry,
    platform: "node",
    external: [...EXTERNAL],
    logLevel: "warn",
    output: { file: outFile, format: "esm", minify: true, sourcemap: true, codeSplitting: false }
  })
}

if (import.meta.main) {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")
  const [entry = join(repo, "src", "runtime", "main.ts"), out = join(repo, "dist", "app", "main.js")] =
    process.argv.slice(2)
  await bundle(entry, out)
  process.stdout.write(`${out}\n`)
}
