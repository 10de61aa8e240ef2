// scripts/image/bundle.ts: the operator as the image ships it, one minified ES module. It runs without Node's type
// stripper and answers `--help` and a plan of the examples; @kubernetes/client-node is imported from node_modules at
// run time, not held in the bundle.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { bundle, IMAGE_MAIN } from "../../scripts/image/bundle.ts"

describe("bundle", () => {
  it("writes the operator as one module that runs without the type stripper, client-node left outside", async () => {
    const root = join(import.meta.dirname, "..", "..")
    const app = mkdtempSync(join(tmpdir(), "kvo-bundle-"))
    await bundle(join(root, "src", "runtime", "main.ts"), join(app, IMAGE_MAIN))
    symlinkSync(join(root, "node_modules"), join(app, "node_modules"))
    symlinkSync(join(root, "package.json"), join(app, "package.json"))
    expect(existsSync(join(app, `${IMAGE_MAIN}.map`))).toBe(true)
    const text = readFileSync(join(app, IMAGE_MAIN), "utf8")
    expect(text).toContain("@kubernetes/client-node")
    // client-node's KubeConfig class (its config module) is not in the bundle.
    expect(text).not.toContain("loadFromDefault")
    const node = ["--no-experimental-strip-types", IMAGE_MAIN]
    const help = execFileSync(process.execPath, [...node, "--help"], { cwd: app, encoding: "utf8" })
    expect(help).toContain("usage: kubevirt-operator")
    // A plan of the examples: changes pending (exit 2), as the image's CI check runs it.
    symlinkSync(join(root, "examples"), join(app, "examples"))
    const plan = spawnSync(process.execPath, [...node, "plan", "-f", "examples/"], { cwd: app, encoding: "utf8" })
    expect(plan.status).toBe(2)
    expect(plan.stdout).toMatch(/Plan: \d+ to add/)
  }, 60_000)
})
