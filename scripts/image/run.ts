/**
 * Runs a command in the image that `npm run image` built, without a container engine: unpacks the OCI archive's
 * layers in order into a fresh root, then starts the image's Entrypoint with the given arguments (else its Cmd) the
 * way a runtime would: chroot into that root (`unshare --root`), the config's WorkingDir, Env and User (no
 * supplementary groups), nothing from the host's filesystem. Needs root (chroot). Exits with the command's code.
 *
 *   node scripts/image/run.ts [--copy HOST_DIR:IMAGE_DIR]... [--expect-exit N] IMAGE.oci.tar [-- ARG...]
 *
 * --copy puts a host directory into the unpacked root first (what a volume mount would do), e.g.
 * `--copy examples:/app/examples -- plan -f examples/`. --expect-exit N turns exit code N into 0 (and any other into 1).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"

const { values, positionals } = parseArgs({
  options: {
    copy: { type: "string", multiple: true },
    "expect-exit": { type: "string" },
    keep: { type: "boolean" }
  },
  allowPositionals: true
})
const [archive, ...args] = positionals
if (archive === undefined)
  throw new Error("usage: node scripts/image/run.ts [--copy SRC:DST]... IMAGE.oci.tar [-- ARG...]")

const work = mkdtempSync(join(tmpdir(), "kubevirt-operator-image-run-"))
const cleanup = () => {
  if (values.keep !== true) rmSync(work, { recursive: true, force: true })
}
const layout = join(work, "layout")
const root = join(work, "root")
mkdirSync(layout)
mkdirSync(root)
execFileSync("tar", ["-xf", resolve(archive), "-C", layout])

const blob = (digest: string) => join(layout, "blobs", ...digest.split(":"))
const json = (path: string) => JSON.parse(readFileSync(path, "utf8"))
const index = json(join(layout, "index.json"))
const manifest = json(blob(index.manifests[0].digest))
const config = json(blob(manifest.config.digest))
for (const layer of manifest.layers as ReadonlyArray<{ digest: string; mediaType: string }>) {
  if (layer.mediaType !== "application/vnd.oci.image.layer.v1.tar+gzip")
    throw new Error(`layer type ${layer.mediaType}`)
  execFileSync("tar", ["-xzf", blob(layer.digest), "-C", root, "--numeric-owner", "--same-permissions", "--same-owner"])
}
const whiteouts = execFileSync("find", [root, "-name", ".wh.*"], { encoding: "utf8" }).trim()
if (whiteouts !== "") throw new Error(`whiteouts are not supported by this runner:\n${whiteouts}`)

for (const spec of values.copy ?? []) {
  const [from, to] = spec.split(":")
  if (from === undefined || to === undefined || !to.startsWith("/")) throw new Error(`--copy ${spec}: want SRC:/DST`)
  cpSync(resolve(from), join(root, to), { recursive: true })
}

const c = config.config as {
  User: string
  Env: ReadonlyArray<string>
  Entrypoint: ReadonlyArray<string>
  Cmd: ReadonlyArray<string>
  WorkingDir: string
}
const [uid, gid] = c.User.split(":")
const argv = [...c.Entrypoint, ...(args.length > 0 ? args : c.Cmd)]
const env = Object.fromEntries(c.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]))
process.stderr.write(
  `image-run: ${readdirSync(root).length} top-level entries in ${root}; as ${c.User} in ${c.WorkingDir}: ${argv.join(" ")}\n`
)
if (!existsSync(join(root, c.WorkingDir.slice(1)))) throw new Error(`WorkingDir ${c.WorkingDir} is not in the image`)
// unshare --root chroots and changes to --wd; --setgid/--setuid drop to the image's user (groups cleared) before
// exec; the program is looked up on the image's PATH inside the new root.
const result = spawnSync(
  "unshare",
  [`--root=${root}`, `--wd=${c.WorkingDir}`, `--setgid=${gid}`, `--setuid=${uid}`, "--", ...argv],
  { stdio: "inherit", env }
)
cleanup()
if (result.error !== undefined) throw result.error
const code = result.status ?? 1
if (values["expect-exit"] === undefined) process.exitCode = code
else {
  const expected = Number(values["expect-exit"])
  if (code !== expected) process.stderr.write(`image-run: exit code ${code}, expected ${expected}\n`)
  process.exitCode = code === expected ? 0 : 1
}
