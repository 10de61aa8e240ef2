/**
 * The display form of a URL a Machine names (a boot image, an installer ISO; ADR 0018): what plans, Events, status,
 * decision traces, logs and the DataVolume's `vitistack.io/image-source` annotation show instead of the URL as given,
 * which may carry credentials (userinfo, presigned query parameters). Domain layer: pure. The DataVolume's spec keeps
 * the real URL: CDI needs it to download.
 */

/** What a redacted value is replaced with (decision traces use it too). */
export const REDACTED = "[redacted]"

/**
 * Query (and fragment) parameters whose value is a credential, by name after percent-decoding, lower-cased: S3
 * (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, v2 `Signature`, `AWSAccessKeyId`), GCS
 * (`X-Goog-Signature`, `X-Goog-Credential`), Azure SAS (`sig`), OAuth (`access_token`, ...) and the generic ones.
 * Deliberately broad: a masked value that was not secret costs a reviewer a detail, a shown secret costs a credential.
 * The other parameters of a presigned URL (`X-Amz-Expires`, `se`, `sp`, ...) stay, so a reviewer sees what it is.
 */
const CREDENTIAL_NAMES: ReadonlySet<string> = new Set(["sig", "key", "auth", "authorization", "pass", "jwt"])
const CREDENTIAL_NAME =
  /token|secret|passw|pwd|signature|credential|apikey|api[-_]key|access[-_]?key|private[-_]?key|session[-_]?key/

/** Schemes whose URLs always have an authority, reached through any number of `/` or `\` (WHATWG "special"). */
const SPECIAL_SCHEMES: ReadonlySet<string> = new Set(["http", "https", "ws", "wss", "ftp", "file"])
/** Schemes without `//` whose prefix is kept when text after them looks like `user:pass@` (the planner's own). */
const OPAQUE_SCHEMES: ReadonlySet<string> = new Set(["docker", "datasource"])

/** A scheme and its colon, where the leading blanks end (sticky: matched at `lastIndex` only). */
const SCHEME = /([A-Za-z][A-Za-z0-9+.-]*):/y
const WHITESPACE = /\s/
/** URL parsers drop ASCII tab and newline anywhere: a `user:pass@` split by them is still one. */
const TAB_OR_NEWLINE = /[\t\n\r]/g
/** A URL in free text: a scheme (bounded, so a long word costs linear time), `://`, up to a blank or a quote. */
const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'<>`]*/g

const mask = (s: string): string => (s === "" ? s : REDACTED)

/** How many leading characters `trim` or a URL parser drops (whitespace, C0 controls). */
const leadingBlanks = (s: string): number => {
  let i = 0
  while (i < s.length && (s.charCodeAt(i) <= 0x20 || WHITESPACE.test(s[i]!))) i++
  return i
}

/**
 * Userinfo masked whole, the username too: tokens are often given as the username (GitHub `TOKEN:x-oauth-basic`,
 * `https://TOKEN@host`), and which account downloads an image is not something a reviewer needs to see.
 */
const maskUserinfo = (userinfo: string): string => {
  const colon = userinfo.indexOf(":")
  return colon < 0 ? mask(userinfo) : `${mask(userinfo.slice(0, colon))}:${mask(userinfo.slice(colon + 1))}`
}

const isCredentialName = (raw: string): boolean => {
  let name = raw.replaceAll("+", " ")
  try {
    name = decodeURIComponent(name)
  } catch {
    // Not valid percent-encoding: judged as written.
  }
  name = name.trim().toLowerCase()
  return CREDENTIAL_NAMES.has(name) || CREDENTIAL_NAME.test(name)
}

/** `a=1&sig=xyz` → `a=1&sig=[redacted]`: names and order kept, blank values left as they are (nothing to hide). */
const maskParameters = (text: string): string =>
  !text.includes("=")
    ? text
    : text
        .split("&")
        .map((pair) => {
          const eq = pair.indexOf("=")
          return eq <= 0 || pair.slice(eq + 1).trim() === "" || !isCredentialName(pair.slice(0, eq))
            ? pair
            : `${pair.slice(0, eq + 1)}${REDACTED}`
        })
        .join("&")

/**
 * What follows the userinfo: the host and path as given, credential parameters of the query and of the fragment masked
 * (the fragment is kept, as the rest is: it is never sent, but `#access_token=...` is how OAuth hands out tokens).
 */
const maskAfterAuthority = (rest: string): string => {
  const hash = rest.indexOf("#")
  const q = rest.indexOf("?")
  const query = q >= 0 && (hash < 0 || q < hash) ? q : -1
  const pathEnd = query >= 0 ? query : hash >= 0 ? hash : rest.length
  const queryEnd = hash >= 0 ? hash : rest.length
  return (
    rest.slice(0, pathEnd) +
    (query >= 0 ? `?${maskParameters(rest.slice(query + 1, queryEnd))}` : "") +
    (hash >= 0 ? `#${maskParameters(rest.slice(hash + 1))}` : "")
  )
}

/** The planner trims before it parses (`bootSource.ts`); so does this, so both agree on what parses. */
const parses = (s: string): boolean => URL.canParse(s.trim())

/** `scheme://userinfo@host...` with the authority starting at `start`. */
const authorityForm = (s: string, start: number, special: boolean): string => {
  const firstAt = s.indexOf("@", start)
  if (firstAt < 0) return s.slice(0, start) + maskAfterAuthority(s.slice(start))
  const valid = parses(s)
  // A URL that parses: its authority ends where the URL parser ends it, and the userinfo is up to its last `@`. One
  // that does not (the planner rejects it): everything up to the last `@` before the first `/` is masked, so no reading
  // of it (a password with `#`, `?` or `\` in it, as Go's parser would take it) shows a credential.
  let end = s.length
  for (let i = start; i < s.length; i++) {
    const c = s[i]
    if (c === "/" || (valid && (c === "?" || c === "#" || (special && c === "\\")))) {
      end = i
      break
    }
  }
  const at = s.lastIndexOf("@", end - 1)
  if (at < start) return s.slice(0, start) + maskAfterAuthority(s.slice(start))
  const head = `${s.slice(0, start)}${maskUserinfo(s.slice(start, at))}`
  const tail = maskAfterAuthority(s.slice(at + 1))
  const shown = `${head}@${tail}`
  if (valid || !parses(shown)) return shown
  // Masking must not make a rejected URL valid (a replayed trace would then plan an import). Without the `@` the host
  // starts with `[` (not an IPv6 address: no URL parser accepts it) or is empty before a `:` (rejected too).
  const joined = `${head}${tail}`
  return parses(joined) ? `${s.slice(0, start)}${REDACTED}` : joined
}

/** Text with no authority: `user:pass@host/...` (no scheme), or `docker:user:pass@...`, masked up to its last `@`. */
const opaqueForm = (s: string, start: number): string => {
  const slash = s.indexOf("/", start)
  const at = s.lastIndexOf("@", (slash < 0 ? s.length : slash) - 1)
  const userinfo = at < start ? "" : s.slice(start, at)
  if (!userinfo.includes(":")) return s.slice(0, start) + maskAfterAuthority(s.slice(start))
  return `${s.slice(0, start)}${maskUserinfo(userinfo)}@${maskAfterAuthority(s.slice(at + 1))}`
}

/**
 * The display form of `url`: userinfo (username and password) and the values of credential-like query and fragment
 * parameters replaced by `REDACTED`; everything else as given (no normalisation), so a reviewer sees the host, the
 * path and that a URL is presigned.
 *
 * Guarantees
 * - Total: any string, a URL or not; never throws. Text that does not parse as a URL has any `user:pass@`-looking part
 *   masked, and one the URL parser rejects stays rejected (so a replayed trace decides the same).
 * - Unchanged when there is nothing to mask (apart from ASCII tabs and newlines, which URL parsers drop too).
 * - Idempotent: `redactUrl(redactUrl(u)) === redactUrl(u)`; and it commutes with `trim`.
 * - A URL that parses still parses, with the same scheme, host and port.
 * - Linear in the length of the input.
 *
 * @example
 * redactUrl("https://u:p@s3.example/img.qcow2?X-Amz-Expires=60&X-Amz-Signature=abc")
 * // "https://[redacted]:[redacted]@s3.example/img.qcow2?X-Amz-Expires=60&X-Amz-Signature=[redacted]"
 */
export const redactUrl = (url: string): string => {
  const s = url.replace(TAB_OR_NEWLINE, "")
  if (!s.includes("@") && !s.includes("?") && !s.includes("#")) return s
  const lead = leadingBlanks(s)
  SCHEME.lastIndex = lead
  const m = SCHEME.exec(s)
  if (m === null) return opaqueForm(s, lead)
  const scheme = m[1]!.toLowerCase()
  let start = lead + m[0].length
  if (SPECIAL_SCHEMES.has(scheme)) {
    while (s[start] === "/" || s[start] === "\\") start++
    return authorityForm(s, start, true)
  }
  if (s.startsWith("//", start)) return authorityForm(s, start + 2, false)
  return opaqueForm(s, OPAQUE_SCHEMES.has(scheme) ? start : lead)
}

/**
 * Free text (an error from an API server, CDI's failure message) with every `scheme://...` in it in its display form.
 * A `user:pass@host` without a scheme is not recognised in prose (it reads like an e-mail address). Idempotent; linear.
 */
export const redactUrlsIn = (text: string): string =>
  text.includes("://") ? text.replace(URL_IN_TEXT, (u) => redactUrl(u)) : text
