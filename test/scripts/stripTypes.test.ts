// scripts/image/stripTypes.ts: the image's sources as JavaScript. Relative `.ts` specifiers become `.js` (static,
// dynamic and side-effect imports, re-exports), packages are left alone, types are erased, and the operator's own
// tree written this way loads and answers `--help` (what the image runs).
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { stripSource, stripTree } from "../../scripts/image/stripTypes.ts"

describe("stripTypes", () => {
  it("rewrites relative .ts specifiers only and erases types", () => {
    const out = stripSource(
      [
        'import { a } from "./a.ts"',
        'import type { B } from "../b.ts"',
        'export { c } from "./c/c.ts"',
        'import "./side.ts"',
        'const d = await import("./d.ts")',
        'import { Effect } from "effect"',
        'const s: string = "x.ts"',
        "const n = (x: number): B => x as unknown as B"
      ].join("\n")
    )
    expect(out).toContain('from "./a.js"')
    expect(out).toContain('from "./c/c.js"')
    expect(out).toContain('import "./side.js"')
    expect(out).toContain('import("./d.js")')
    expect(out).toContain('from "effect"')
    expect(out).toContain('"x.ts"')
    expect(out).not.toContain("../b.ts")
    expect(out).not.toContain(": number")
  })

  it("writes the operator's sources as a tree Node runs without its type stripper", () => {
    const root = join(import.meta.dirname, "..", "..")
    const app = mkdtempSync(join(tmpdir(), "kvo-strip-"))
    stripTree(join(root, "src"), join(app, "src"))
    symlinkSync(join(root, "node_modules"), join(app, "node_modules"))
    symlinkSync(join(root, "package.json"), join(app, "package.json"))
    expect(readFileSync(join(app, "src", "runtime", "main.js"), "utf8")).not.toMatch(/from "\.[^"]*\.ts"/)
    const help = execFileSync(process.execPath, ["--no-experimental-strip-types", "src/runtime/main.js", "--help"], {
      cwd: app,
      encoding: "utf8"
    })
    expect(help).toContain("usage: kubevirt-operator")
  }, 60_000)
})
