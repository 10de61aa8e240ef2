/**
 * The opt-in ISO size probe against a local HTTP server: Content-Length sizes the DataVolume (1.1×, GiB, at least
 * 1Gi); redirects are followed only on the same host; anything else (404, another host, a hang) is "no size".
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { IsoSizeProbe, isoSizeFor, probeIsoSize } from "../../src/effects/isoSizeProbe.ts"
import { machineObject, reconcileOnce, twoClusters } from "../fixtures/world.ts"

const GiB = 1024 ** 3

const withServer = <A>(body: (base: string, seen: Array<string>) => Effect.Effect<A>) =>
  Effect.acquireUseRelease(
    Effect.promise(
      () =>
        new Promise<{ close: () => void; base: string; seen: Array<string> }>((resolve) => {
          const seen: Array<string> = []
          const server = createServer((req, res) => {
            seen.push(`${req.method} ${req.url}`)
            if (req.url === "/debian.iso") res.writeHead(200, { "content-length": String(3 * GiB) })
            else if (req.url === "/moved") res.writeHead(302, { location: "/debian.iso" })
            else if (req.url === "/elsewhere") res.writeHead(302, { location: "http://169.254.169.254/latest" })
            else if (req.url === "/hang") return
            else res.writeHead(404)
            res.end()
          })
          server.listen(0, "127.0.0.1", () =>
            resolve({
              base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              seen,
              close: () => {
                server.closeAllConnections()
                server.close()
              }
            })
          )
        })
    ),
    (s) => body(s.base, s.seen),
    (s) => Effect.sync(s.close)
  )

describe("probeIsoSize", () => {
  it("sizes as the Go operator does", () => {
    assert.deepStrictEqual([isoSizeFor(3 * GiB), isoSizeFor(10), isoSizeFor(GiB)], ["4Gi", "1Gi", "2Gi"])
  })

  it.live("HEAD with Content-Length; a same-host redirect is followed", () =>
    withServer((base, seen) =>
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* probeIsoSize(`${base}/debian.iso`), Option.some("4Gi"))
        assert.deepStrictEqual(yield* probeIsoSize(`${base}/moved`), Option.some("4Gi"))
        assert.deepStrictEqual(seen, ["HEAD /debian.iso", "HEAD /moved", "HEAD /debian.iso"])
      })
    )
  )

  it.live("another host, a 404, a hang and a non-http URL give no size", () =>
    withServer((base) =>
      Effect.gen(function* () {
        assert.isTrue(Option.isNone(yield* probeIsoSize(`${base}/elsewhere`)))
        assert.isTrue(Option.isNone(yield* probeIsoSize(`${base}/missing`)))
        assert.isTrue(Option.isNone(yield* probeIsoSize(`${base}/hang`, { timeout: "200 millis" })))
        assert.isTrue(Option.isNone(yield* probeIsoSize("file:///etc/passwd")))
      })
    )
  )
})

describe("the probe in observe (opt-in)", () => {
  const iso = (annotations: Record<string, string> = {}) =>
    ({
      ...machineObject("inst", "default", { os: { isoUri: "https://cd.example/debian.iso" } }),
      metadata: {
        name: "inst",
        namespace: "default",
        annotations: { "vitistack.io/kubevirt-config": "remote-a", ...annotations }
      }
    }) as const
  const isoSize = (w: ReturnType<typeof twoClusters>) =>
    (Option.getOrUndefined(w.remote.object(refOf("DataVolume", "inst-iso", "default")))?.spec as any)?.storage.resources
      .requests.storage

  it.effect("off (the default): 8Gi, and no URL is fetched", () => {
    const w = twoClusters()
    w.supervisor.seed([iso()])
    return Effect.gen(function* () {
      yield* reconcileOnce("inst", "default")
      yield* reconcileOnce("inst", "default")
      assert.strictEqual(isoSize(w), "8Gi")
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("on: the probe's size, unless the Machine says its own", () => {
    const probed: Array<string> = []
    const probe = (url: string) =>
      Effect.sync(() => {
        probed.push(url)
        return Option.some("4Gi")
      })
    const w = twoClusters()
    w.supervisor.seed([iso()])
    return Effect.gen(function* () {
      yield* reconcileOnce("inst", "default")
      yield* reconcileOnce("inst", "default")
      assert.strictEqual(isoSize(w), "4Gi")
      assert.deepStrictEqual(probed, ["https://cd.example/debian.iso"])
      const annotated = twoClusters()
      annotated.supervisor.seed([iso({ "vitistack.io/iso-size": "3Gi" })])
      yield* Effect.gen(function* () {
        yield* reconcileOnce("inst", "default")
        yield* reconcileOnce("inst", "default")
      }).pipe(Effect.provide(annotated.layer))
      assert.strictEqual(isoSize(annotated), "3Gi")
      assert.strictEqual(probed.length, 1)
    }).pipe(Effect.provide(w.layer), Effect.provideService(IsoSizeProbe, probe))
  })
})
