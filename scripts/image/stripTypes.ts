/**
 * Writes a tree of TypeScript sources as plain JavaScript (Node's own `module.stripTypeScriptTypes`: types become
 * whitespace, so lines and columns stay the same), with relative `.ts` specifiers rewritten to `.js`; other files are
 * copied (and in `.js` files the same specifiers are rewritten: bin/). The image runs the result, so Node never loads its type stripper: importing the operator then costs about
 * 30 MiB less RSS (ADR 0017, "Memory"). The sources already use only erasable syntax (Node runs them as they are).
 *
 *   node scripts/image/stripTypes.ts FROM TO
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { stripTypeScriptTypes } from "node:module"
import { dirname, join } from "node:path"

/** `from "./x.ts"`, `import("./x.ts")`, `import "./x.ts"`: relative specifiers only (packages are left alone). */
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*)\.ts\2/g

export const stripSource = (source: string): string =>
  stripTypeScriptTypes(source, { mode: "strip" }).replace(RELATIVE_TS, "$1$2$3.js$2")

/** Writes `from` (a directory) to `to` (replaced), `.ts` files as `.js` (declaration files are left out). */
export const stripTree = (from: string, to: string): void => {
  rmSync(to, { recursive: true, force: true })
  const walk = (dir: string, out: string) => {
    mkdirSync(out, { recursive: true })
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path, join(out, entry.name))
      else if (entry.name.endsWith(".d.ts")) continue
      else if (entry.name.endsWith(".ts"))
        writeFileSync(join(out, `${entry.name.slice(0, -3)}.js`), stripSource(readFileSync(path, "utf8")))
      else if (entry.name.endsWith(".js"))
        writeFileSync(join(out, entry.name), readFileSync(path, "utf8").replace(RELATIVE_TS, "$1$2$3.js$2"), {
          mode: statSync(path).mode
        })
      else {
        mkdirSync(dirname(join(out, entry.name)), { recursive: true })
        cpSync(path, join(out, entry.name))
      }
    }
  }
  walk(from, to)
}

if (import.meta.main) {
  const [from, to] = process.argv.slice(2)
  if (from === undefined || to === undefined) {
    process.stderr.write("usage: node scripts/image/stripTypes.ts FROM TO\n")
    process.exit(2)
  }
  stripTree(from, to)
}
