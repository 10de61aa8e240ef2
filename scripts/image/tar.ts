/**
 * A small, deterministic tar writer (POSIX ustar, with pax extended headers for long names) for image layers and the
 * OCI archive: entries are written in the order given, with the owner, mode and mtime the caller sets, so the same
 * inputs always give the same bytes (and the same sha256).
 */

export type TarEntry =
  | { readonly type: "dir"; readonly path: string; readonly mode: number }
  | { readonly type: "file"; readonly path: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly type: "symlink"; readonly path: string; readonly target: string }

export interface Owner {
  readonly uid: number
  readonly gid: number
  readonly name: string
}

export interface TarOptions {
  /** Seconds since the epoch, for every entry. */
  readonly mtime: number
  /** Owners by entry path (without a trailing slash); every other entry is root's (0:0). */
  readonly owners?: ReadonlyMap<string, Owner>
}

const root: Owner = { uid: 0, gid: 0, name: "root" }

const BLOCK = 512
const encoder = new TextEncoder()

const octal = (n: number, width: number): string => `${n.toString(8).padStart(width - 1, "0")}\0`

/** A pax record: "<len> <key>=<value>\n", where <len> counts the whole record including itself. */
const paxRecord = (key: string, value: string): string => {
  const body = ` ${key}=${value}\n`
  let len = Buffer.byteLength(body) + 1
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body)
  return `${len}${body}`
}

const header = (fields: {
  readonly name: string
  readonly mode: number
  readonly size: number
  readonly mtime: number
  readonly typeflag: string
  readonly linkname?: string
  readonly owner?: Owner
}): Buffer => {
  const owner = fields.owner ?? root
  const h = Buffer.alloc(BLOCK, 0)
  const put = (value: string, offset: number, length: number) => {
    const bytes = encoder.encode(value)
    if (bytes.length > length) throw new Error(`tar: '${value}' does not fit in ${length} bytes`)
    h.set(bytes, offset)
  }
  put(fields.name, 0, 100)
  put(octal(fields.mode & 0o7777, 8), 100, 8)
  put(octal(owner.uid, 8), 108, 8)
  put(octal(owner.gid, 8), 116, 8)
  put(octal(fields.size, 12), 124, 12)
  put(octal(fields.mtime, 12), 136, 12)
  put("        ", 148, 8) // checksum placeholder
  put(fields.typeflag, 156, 1)
  put(fields.linkname ?? "", 157, 100)
  put("ustar\0", 257, 6)
  put("00", 263, 2)
  put(owner.name, 265, 32)
  put(owner.name, 297, 32)
  let sum = 0
  for (const b of h) sum += b
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8)
  return h
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0)

/** The tar archive of `entries`, in that order, ending with the two zero blocks. */
export const tar = (entries: ReadonlyArray<TarEntry>, options: TarOptions): Buffer => {
  const chunks: Array<Buffer | Uint8Array> = []
  for (const e of entries) {
    const name = e.type === "dir" ? `${e.path.replace(/\/$/, "")}/` : e.path
    const linkname = e.type === "symlink" ? e.target : undefined
    const tooLong = Buffer.byteLength(name) > 100 || (linkname !== undefined && Buffer.byteLength(linkname) > 100)
    if (tooLong) {
      const pax = Buffer.from(
        paxRecord("path", name) + (linkname === undefined ? "" : paxRecord("linkpath", linkname)),
        "utf8"
      )
      chunks.push(
        header({ name: "PaxHeader", mode: 0o644, size: pax.length, mtime: options.mtime, typeflag: "x" }),
        pax,
        padding(pax.length)
      )
    }
    const short = (s: string) => (Buffer.byteLength(s) > 100 ? s.slice(0, 99) : s)
    const size = e.type === "file" ? e.data.length : 0
    chunks.push(
      header({
        name: short(name),
        mode: e.type === "symlink" ? 0o777 : e.mode,
        size,
        mtime: options.mtime,
        typeflag: e.type === "dir" ? "5" : e.type === "symlink" ? "2" : "0",
        ...(options.owners?.has(e.path) ? { owner: options.owners.get(e.path)! } : {}),
        ...(linkname === undefined ? {} : { linkname: short(linkname) })
      })
    )
    if (e.type === "file") chunks.push(e.data, padding(size))
  }
  chunks.push(Buffer.alloc(BLOCK * 2, 0))
  return Buffer.concat(chunks)
}
