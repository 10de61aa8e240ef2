/**
 * The Go operator's ISO size probe (reference F18), opt-in only (`--iso-size-probe`, ADR 0010): an HTTP `HEAD` of an
 * installer ISO's URL from the operator, to size its DataVolume at 1.1 × Content-Length, rounded up to GiB. It makes
 * the operator fetch a URL a Machine author chose, from inside the supervisor's network, so it is bounded: http(s)
 * only, no credentials in the URL, a 10 s deadline, at most 3 redirects and only to the same host, and the body is
 * never read. Any failure is "no size" (the planner then uses 8Gi). Effects layer.
 */
import { Context, Duration, Effect, Option } from "effect"

const GiB = 1024 ** 3
const MAX_REDIRECTS = 3

export interface IsoProbeOptions {
  readonly timeout?: Duration.Input
  /** Tests only. */
  readonly fetch?: typeof globalThis.fetch
}

/** `ceil(1.1 × bytes / GiB)` Gi, at least 1Gi (the Go operator's rule). */
export const isoSizeFor = (bytes: number): string => `${Math.max(1, Math.ceil((1.1 * bytes) / GiB))}Gi`

const allowed = (url: URL): boolean =>
  (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === ""

/** The DataVolume size for the ISO at `url`, or none when the probe cannot tell. */
export const probeIsoSize = (url: string, options: IsoProbeOptions = {}): Effect.Effect<Option.Option<string>> =>
  Effect.tryPromise({
    try: async (signal) => {
      const fetchFn = options.fetch ?? globalThis.fetch
      const deadline = AbortSignal.any([
        signal,
        AbortSignal.timeout(Duration.toMillis(Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(10))))
      ])
      let current = new URL(url)
      const host = current.host
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        if (!allowed(current) || current.host !== host) return Option.none<string>()
        const response = await fetchFn(current, { method: "HEAD", redirect: "manual", signal: deadline })
        await response.body?.cancel()
        if (response.status >= 300 && response.status < 400) {
          const location = response.headers.get("location")
          if (location === null) return Option.none<string>()
          current = new URL(location, current)
          continue
        }
        const length = Number(response.headers.get("content-length"))
        return response.status === 200 && Number.isFinite(length) && length > 0
          ? Option.some(isoSizeFor(length))
          : Option.none<string>()
      }
      return Option.none<string>()
    },
    catch: () => undefined
  }).pipe(Effect.orElseSucceed(() => Option.none<string>()))

/** The probe when `--iso-size-probe` is on; undefined (the default): off, the operator fetches no user URL. */
export const IsoSizeProbe = Context.Reference<((url: string) => Effect.Effect<Option.Option<string>>) | undefined>(
  "kubevirt-operator/effects/IsoSizeProbe",
  { defaultValue: () => undefined }
)
