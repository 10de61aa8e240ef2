/**
 * The display form of image URLs (`redactUrl.ts`, ADR 0018): userinfo and each family of credential parameters masked,
 * names kept; text that is not a URL masked where it looks like `user:pass@`; nothing to mask, nothing changed; and
 * the laws the planner and the traces rely on (total, idempotent, commutes with trim, what parses still parses the
 * same way and what does not still does not, linear).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { REDACTED } from "../../src/domain/decisionTrace.ts"
import { redactUrl, redactUrlsIn } from "../../src/domain/redactUrl.ts"
import { RUNS } from "../fixtures/arbitraries.ts"
import { CREDENTIAL_FAMILIES, credentialUrl, secretArb } from "../fixtures/credentialUrls.ts"

const R = REDACTED

describe("redactUrl", () => {
  const cases = [
    {
      name: "UserinfoUserAndPassword",
      reason: "both masked: the username is often a token (GitHub TOKEN:x-oauth-basic)",
      url: "https://alice:s3cret@images.example/noble.qcow2",
      want: `https://${R}:${R}@images.example/noble.qcow2`
    },
    {
      name: "UserinfoTokenAsUsername",
      reason: "https://TOKEN@host",
      url: "https://ghp_abc123@github.example/img.raw",
      want: `https://${R}@github.example/img.raw`
    },
    {
      name: "UserinfoWithPortAndEncodedAt",
      reason: "up to the last @ of the authority; the port stays",
      url: "http://svc%40corp:p%40ss@10.0.0.1:8080/a.iso",
      want: `http://${R}:${R}@10.0.0.1:8080/a.iso`
    },
    {
      name: "UserinfoEmptyParts",
      reason: "an empty part has nothing to hide",
      url: "https://:tok@h.example/x",
      want: `https://:${R}@h.example/x`
    },
    {
      name: "S3PresignedV4",
      reason: "credential, security token and signature masked; algorithm, date, expiry, signed headers kept",
      url: "https://b.s3.amazonaws.com/noble.qcow2?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Feu-north-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=FwoGZXIvYXdz&X-Amz-SignedHeaders=host&X-Amz-Signature=0f1e2d3c",
      want: `https://b.s3.amazonaws.com/noble.qcow2?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${R}&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=${R}&X-Amz-SignedHeaders=host&X-Amz-Signature=${R}`
    },
    {
      name: "S3PresignedV2",
      reason: "AWSAccessKeyId and Signature",
      url: "https://b.s3.amazonaws.com/x.iso?AWSAccessKeyId=AKIAEXAMPLE&Expires=1700000000&Signature=abc%2Bdef%3D",
      want: `https://b.s3.amazonaws.com/x.iso?AWSAccessKeyId=${R}&Expires=1700000000&Signature=${R}`
    },
    {
      name: "GcsSigned",
      reason: "X-Goog-Credential and X-Goog-Signature",
      url: "https://storage.googleapis.com/b/o.img?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam&X-Goog-Date=20261201T000000Z&X-Goog-Expires=600&X-Goog-SignedHeaders=host&X-Goog-Signature=9a8b7c",
      want: `https://storage.googleapis.com/b/o.img?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=${R}&X-Goog-Date=20261201T000000Z&X-Goog-Expires=600&X-Goog-SignedHeaders=host&X-Goog-Signature=${R}`
    },
    {
      name: "AzureSas",
      reason: "sig masked; sv, se, sp, sr kept",
      url: "https://acct.blob.core.windows.net/c/disk.vhd?sv=2022-11-02&se=2026-12-01T00%3A00%3A00Z&sr=b&sp=r&sig=AbC%2FdEf%3D",
      want: `https://acct.blob.core.windows.net/c/disk.vhd?sv=2022-11-02&se=2026-12-01T00%3A00%3A00Z&sr=b&sp=r&sig=${R}`
    },
    {
      name: "GenericParameters",
      reason: "token, access_token, signature, key, password, api_key, private_token",
      url: "https://dl.example/i.iso?token=t1&access_token=t2&signature=s&key=k&password=p&api_key=a&private_token=g&version=2",
      want: `https://dl.example/i.iso?token=${R}&access_token=${R}&signature=${R}&key=${R}&password=${R}&api_key=${R}&private_token=${R}&version=2`
    },
    {
      name: "NamesAnyCaseAndEncoded",
      reason: "names compared case-insensitively after percent-decoding; written as given",
      url: "https://dl.example/i.iso?X-AMZ-SIGNATURE=a&Sig=b&X%2DAmz%2DSignature=c&Pass%77ord=d",
      want: `https://dl.example/i.iso?X-AMZ-SIGNATURE=${R}&Sig=${R}&X%2DAmz%2DSignature=${R}&Pass%77ord=${R}`
    },
    {
      name: "FragmentKeptWithItsTokenMasked",
      reason: "the fragment stays (as everything else) and is read like a query: OAuth hands out tokens there",
      url: "https://dl.example/i.iso?a=1#access_token=xyz&state=s",
      want: `https://dl.example/i.iso?a=1#access_token=${R}&state=s`
    },
    {
      name: "RegistryUserinfo",
      reason: "docker:// URLs have an authority too",
      url: "docker://robot:pw@quay.example/team/img:tag",
      want: `docker://${R}:${R}@quay.example/team/img:tag`
    },
    {
      name: "SchemeWithoutSlashes",
      reason: "https:user:pass@host is an authority to a URL parser",
      url: "https:u:p@h.example/x",
      want: `https:${R}:${R}@h.example/x`
    },
    {
      name: "TabInsideScheme",
      reason: "URL parsers drop tabs and newlines: so does the display form, then masks",
      url: "https:/\t/u:p@h.example/x",
      want: `https://${R}:${R}@h.example/x`
    },
    {
      name: "LeadingBlanks",
      reason: "blanks before the scheme (the planner trims them) do not hide the userinfo",
      url: " \u00a0\thttps://u:p@h.example/x ",
      want: ` \u00a0https://${R}:${R}@h.example/x `
    },
    {
      name: "MalformedWithoutScheme",
      reason: "does not parse as an http URL; the user:pass@ part is masked",
      url: "alice:s3cret@images.example/noble.qcow2",
      want: `${R}:${R}@images.example/noble.qcow2`
    },
    {
      name: "MalformedPasswordWithHash",
      reason:
        "an unencoded # in the password: rejected by the parser, masked through the last @ (dropped, so it stays rejected)",
      url: "https://u:p#ss@h.example/x",
      want: `https://${R}:${R}h.example/x`
    },
    {
      name: "MalformedPasswordWithBackslash",
      reason: "likewise for \\",
      url: "https://u:p\\ss@h.example/x",
      want: `https://${R}:${R}h.example/x`
    },
    {
      name: "MalformedOpaqueDocker",
      reason: "docker:user:pass@... keeps its scheme",
      url: "docker:u:p@quay.example/i",
      want: `docker:${R}:${R}@quay.example/i`
    }
  ] as const
  it.each(cases)("$name", ({ url, want }) => {
    assert.strictEqual(redactUrl(url), want)
  })

  const unchanged = [
    "https://images.example/noble.qcow2",
    "https://images.example/noble.qcow2?version=24.04&arch=amd64#top",
    "docker://quay.io/containerdisks/fedora:41",
    "docker://quay.io/team/img@sha256:0123abcd",
    "datasource:golden/ubuntu",
    "https://h.example/path/with@sign/x.iso",
    "https://h.example/x?a=b@c&keyring=main&monkey=1",
    "https://h.example?a=b@c",
    "https://h.example#x@y",
    "https://h.example\\x@y/z",
    "https://h.example/x?sig=&token",
    "not a url at all",
    "",
    "   "
  ]
  it.each(unchanged)("NothingToMask %j", (url) => {
    assert.strictEqual(redactUrl(url), url)
  })
})

describe("redactUrlsIn", () => {
  it("masks every URL in text (Go quotes them in errors), leaves the rest and text without URLs alone", () => {
    assert.strictEqual(
      redactUrlsIn(
        'Get "https://u:p@h.example/x.iso?X-Amz-Signature=abc": dial tcp: i/o timeout; see https://h/y?token=t.'
      ),
      `Get "https://${R}:${R}@h.example/x.iso?X-Amz-Signature=${R}": dial tcp: i/o timeout; see https://h/y?token=${R}`
    )
    assert.strictEqual(redactUrlsIn("expected status code 200, got 403"), "expected status code 200, got 403")
    assert.strictEqual(redactUrlsIn("mail alice:pw@example.org"), "mail alice:pw@example.org")
  })
})

describe("redactUrl laws", () => {
  const params = { numRuns: RUNS } as const
  /** Text that is often URL-shaped: schemes, separators, credentials, blanks, and anything else. */
  const urlish = fc
    .array(
      fc.oneof(
        fc.constantFrom("https://", "http:", "docker://", "datasource:", "//", "/", "\\", "@", ":", "?", "#", "&", "="),
        fc.constantFrom("sig=", "token=", "X-Amz-Signature=", "u:p@", "[redacted]", " ", "\t", "\n", "\u00a0", "%2"),
        fc.string({ maxLength: 6 })
      ),
      { maxLength: 12 }
    )
    .map((parts) => parts.join(""))
  /** URLs built part by part: blanks, a scheme (or a pseudo one), userinfo with awkward characters, a host (valid or
   * not), a path, query and fragment parameters of both kinds. */
  const piece = (chars: string, maxLength = 5) => fc.string({ unit: fc.constantFrom(...chars.split("")), maxLength })
  const structured = fc
    .tuple(
      fc.constantFrom("", " ", "\t", "\u00a0 ", "\u0001"),
      fc.constantFrom(
        "https://",
        "http:",
        "HTTPS:/\\",
        "docker://",
        "docker:",
        "datasource:",
        "",
        "ftp://",
        "foo:",
        "//"
      ),
      fc.option(fc.tuple(piece("ab:%#?\\/@[]"), fc.option(piece("pq:%#?\\@ "), { nil: undefined })), {
        nil: undefined
      }),
      fc.constantFrom("h.example", "10.0.0.1:80", "[::1]", "", "h x", "[bad", "h:99999"),
      fc.constantFrom("", "/", "/a/b.iso", "/x@y", "\\p", "?q@r"),
      fc.array(
        fc.tuple(
          fc.constantFrom("sig", "X-Amz-Signature", "token", "key", "v", "se", "keyring", "Pass%77ord", "", "%zz"),
          fc.option(piece("vw@#=&"), { nil: undefined })
        ),
        { maxLength: 3 }
      ),
      fc.option(fc.constantFrom("top", "access_token=t&x=1", "a=b"), { nil: undefined }),
      fc.constantFrom("", " ", "\n")
    )
    .map(
      ([lead, scheme, userinfo, host, path, params, fragment, tail]) =>
        `${lead}${scheme}${userinfo === undefined ? "" : `${userinfo[0]}${userinfo[1] === undefined ? "" : `:${userinfo[1]}`}@`}${host}${path}${params.length === 0 ? "" : `?${params.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join("&")}`}${fragment === undefined ? "" : `#${fragment}`}${tail}`
    )
  const anything = fc.oneof(structured, structured, urlish, fc.string({ unit: "binary", maxLength: 40 }))

  it("total and idempotent; commutes with trim (the planner trims the URL it is given)", () => {
    fc.assert(
      fc.property(anything, (s) => {
        const shown = redactUrl(s)
        assert.strictEqual(redactUrl(shown), shown)
        assert.strictEqual(redactUrl(s.trim()), shown.trim())
        assert.strictEqual(redactUrlsIn(redactUrlsIn(s)), redactUrlsIn(s))
      }),
      params
    )
  })

  it("what the URL parser accepts it still accepts with the same scheme, host and port; what it rejects stays rejected", () => {
    fc.assert(
      fc.property(anything, (s) => {
        const before = URL.parse(s.trim())
        const after = URL.parse(redactUrl(s).trim())
        if (before === null) {
          // Rejected text of a known scheme stays rejected; text without one may lose its pseudo-scheme `user:`.
          if (/^\s*(https?|docker):/i.test(s.trim())) assert.isNull(after)
          return
        }
        if (!/^[a-z][a-z0-9+.-]*:/i.test(redactUrl(s).trim())) return
        assert.isNotNull(after)
        assert.strictEqual(after?.protocol, before.protocol)
        assert.strictEqual(after?.host, before.host)
      }),
      params
    )
  })

  it("a secret in any credential place never shows, and the host and path always do", () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.constantFrom(...CREDENTIAL_FAMILIES),
        fc.constantFrom("images.example", "10.0.0.1:8443", "b.s3.amazonaws.com"),
        fc.constantFrom("/noble.qcow2", "/a/b/c.iso", "/"),
        (secret, family, host, path) => {
          const url = credentialUrl(secret, family, host, path)
          const shown = redactUrl(url)
          assert.notInclude(shown, secret)
          assert.include(shown, `${host}${path}`)
          assert.include(shown, REDACTED)
          assert.notInclude(redactUrlsIn(`failed: Get "${url}": 403`), secret)
        }
      ),
      params
    )
  })

  it("work is linear: a megabyte of hostile text takes well under a second per pass", () => {
    const n = 1_000_000
    const hostile = [
      `https://${"@".repeat(n)}/`,
      `${"a".repeat(n)}@${"b".repeat(n)}`,
      `https://h/?${"sig=x&".repeat(n / 6)}`,
      `${"x:".repeat(n / 2)}@h`,
      `${"a".repeat(31)}:`.repeat(n / 32),
      `https://h/?${"%".repeat(n)}=1`,
      "a://".repeat(n / 4),
      `${"ab:/".repeat(n / 4)}@`
    ]
    const started = performance.now()
    for (const s of hostile) {
      redactUrl(s)
      redactUrlsIn(s)
    }
    // About 0.1 s on the 2-core dev machine under load; a quadratic pass would take minutes.
    assert.isBelow(performance.now() - started, 10_000)
  })
})
