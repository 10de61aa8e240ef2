/**
 * `reconcile` on in-memory clusters: what one reconcile reads and writes. A converged Machine costs one read of the
 * Machine and no write; a reconcile whose actions change the Machine reads it again before writing its status. An image
 * URL with credentials (ADR 0018): the DataVolume gets it as given, Events and status show it masked.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { IMAGE_SOURCE_ANNOTATION } from "../../src/domain/bootMedia.ts"
import { answered, evaluateHealth, uncheckedHealth } from "../../src/domain/ClusterHealth.ts"
import { refOf } from "../../src/domain/ObjectRef.ts"
import { CLUSTER_RECHECK_SECONDS } from "../../src/domain/reconcileOutcome.ts"
import { renderAction } from "../../src/domain/render.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { ClusterHealthFacts } from "../../src/effects/ClusterHealthFacts.ts"
import { Invalid, kubeApiError } from "../../src/effects/KubeApiError.ts"
import { reconcile } from "../../src/effects/reconcile.ts"
import { machineObject, twoClusters } from "../fixtures/world.ts"

describe("reconcile", () => {
  it.effect("reads the Machine again only after acting on it; a converged Machine: one read, no write", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("vm-a", "default", { disks: [{ name: "root", sizeGB: 1, boot: true }] })])
    const machineGets = () => w.supervisor.requestCount({ verb: "get", kind: "Machine" })
    return Effect.gen(function* () {
      // First reconcile: finalizer, placement and remote objects; the status is derived against a fresh read.
      const first = yield* reconcile("default/vm-a", defaultSettings)
      assert.strictEqual(first.outcome._tag, "Requeue")
      assert.isTrue(first.statusWritten)
      const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as
        | Record<string, unknown>
        | undefined
      assert.strictEqual(status?.phase, "Creating")
      // Until nothing is left to do.
      for (let i = 0; i < 5; i++) {
        const r = yield* reconcile("default/vm-a", defaultSettings)
        if ((r.result?.executed.length ?? 0) === 0 && !r.statusWritten) break
      }
      w.supervisor.resetRequestCounts()
      w.remote.resetRequestCounts()
      const steady = yield* reconcile("default/vm-a", defaultSettings)
      assert.strictEqual(steady.result?.executed.length, 0)
      assert.isFalse(steady.statusWritten)
      assert.strictEqual(machineGets(), 1)
      assert.strictEqual(w.supervisor.writeCount() + w.remote.writeCount(), 0)
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("records one Event for the actions a round ran (their plan lines), none for adding the finalizer", () => {
    const w = twoClusters()
    w.supervisor.seed([machineObject("vm-a", "default", { disks: [{ name: "root", sizeGB: 1, boot: true }] })])
    return Effect.gen(function* () {
      const first = yield* reconcile("default/vm-a", defaultSettings)
      const executed = first.result?.executed ?? []
      assert.include(
        executed.map((a) => a._tag),
        "AddFinalizer"
      )
      const events = w.supervisor.objects({ kind: "Event" }) as ReadonlyArray<{ reason?: string; message?: string }>
      assert.strictEqual(events.length, 1)
      const recorded = executed.filter((a) => a._tag !== "AddFinalizer")
      assert.isAbove(recorded.length, 1)
      assert.strictEqual(events[0]?.reason, "Applied")
      assert.strictEqual(events[0]?.message, recorded.map((a) => renderAction(a).trim()).join("; "))
      assert.notInclude(events[0]?.message, "AddFinalizer")
    }).pipe(Effect.provide(w.layer))
  })

  it.effect(
    "its cluster not checked yet: no plan, no write, a recheck without backoff; NotReady: only supervisor actions and a status",
    () => {
      const w = twoClusters()
      w.supervisor.seed([machineObject("vm-a", "default")])
      return Effect.gen(function* () {
        const unchecked = yield* reconcile("default/vm-a", defaultSettings).pipe(
          Effect.provideService(ClusterHealthFacts, uncheckedHealth)
        )
        assert.deepStrictEqual(unchecked.outcome, {
          _tag: "AwaitChange",
          reason: "ClusterNotChecked",
          requeueAfterSeconds: CLUSTER_RECHECK_SECONDS
        })
        assert.strictEqual(w.supervisor.writeCount() + w.remote.writeCount(), 0)

        const notReady = evaluateHealth("remote-a", {
          kubevirtGroup: answered([]),
          cdiGroup: answered([]),
          kubevirts: undefined
        })
        const r = yield* reconcile("default/vm-a", defaultSettings).pipe(
          Effect.provideService(ClusterHealthFacts, () => notReady)
        )
        assert.deepStrictEqual(
          r.result?.executed.map((a) => a._tag),
          ["AddFinalizer", "PersistPlacement"]
        )
        assert.strictEqual(w.remote.writeCount(), 0)
        const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as any
        assert.strictEqual(status.conditions[0].reason, "ClusterNotReady")
      }).pipe(Effect.provide(w.layer))
    }
  )

  it.effect(
    "deferStatus: a reconcile whose actions all ran leaves the status to the next, which writes it once",
    () => {
      const w = twoClusters()
      w.supervisor.seed([machineObject("vm-a", "default")])
      const statusWrites = () => w.supervisor.requestCount({ verb: "updateStatus", kind: "Machine" })
      return Effect.gen(function* () {
        const acted = yield* reconcile("default/vm-a", defaultSettings, undefined, { deferStatus: true })
        assert.strictEqual(acted.outcome._tag, "Requeue")
        assert.isTrue(acted.statusDeferred)
        assert.strictEqual(statusWrites(), 0)
        const confirmed = yield* reconcile("default/vm-a", defaultSettings, undefined, { deferStatus: true })
        assert.isTrue(confirmed.statusWritten)
        assert.strictEqual(statusWrites(), 1)
        const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as any
        assert.strictEqual(status.phase, "Creating")
      }).pipe(Effect.provide(w.layer))
    }
  )

  describe("an image URL with credentials (ADR 0018)", () => {
    const URL =
      "https://robot:Zqpassw0rd@b.s3.example/noble.qcow2?X-Amz-Expires=600&X-Amz-Credential=Zqcred&X-Amz-Signature=Zqsig"
    const SECRETS = ["Zqpassw0rd", "Zqcred", "Zqsig"]
    const SHOWN =
      "https://[redacted]:[redacted]@b.s3.example/noble.qcow2?X-Amz-Expires=600&X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]"
    const machine = () =>
      machineObject("vm-a", "default", { os: { imageID: URL }, disks: [{ name: "root", sizeGB: 1, boot: true }] })
    const shownOnSupervisor = (w: ReturnType<typeof twoClusters>) =>
      JSON.stringify([
        w.supervisor.objects({ kind: "Event" }),
        Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status
      ])

    it.effect("the DataVolume imports the URL as given and records it masked; Events and status show it masked", () => {
      const w = twoClusters()
      w.supervisor.seed([machine()])
      return Effect.gen(function* () {
        for (let i = 0; i < 3; i++) yield* reconcile("default/vm-a", defaultSettings)
        const dv = w.remote.objects({ kind: "DataVolume" })[0] as any
        assert.strictEqual(dv?.spec.source.http.url, URL)
        assert.strictEqual(dv?.metadata.annotations[IMAGE_SOURCE_ANNOTATION], SHOWN)
        const events = w.supervisor.objects({ kind: "Event" }) as Array<any>
        // The round's one Event lists the DataVolume's creation among its plan lines.
        assert.isTrue(events.some((e) => e.message.includes("CreateDataVolume") && e.message.includes(SHOWN)))
        const shown = shownOnSupervisor(w)
        for (const secret of SECRETS) assert.notInclude(shown, secret)
      }).pipe(Effect.provide(w.layer))
    })

    it.effect("an API error that quotes the URL is shown masked in the Warning Event and the status", () => {
      const w = twoClusters({
        wrapRemote: (api) => ({
          ...api,
          create: (ref, body) =>
            ref.kind === "DataVolume"
              ? Effect.fail(
                  kubeApiError(
                    "create",
                    `DataVolume ${ref.namespace}/${ref.name}`,
                    new Invalid({
                      message: `DataVolume.cdi.kubevirt.io "vm-a" is invalid: spec.source.http.url: Invalid value: "${URL}"`,
                      status: 422
                    })
                  )
                )
              : api.create(ref, body)
        })
      })
      w.supervisor.seed([machine()])
      return Effect.gen(function* () {
        for (let i = 0; i < 3; i++) yield* reconcile("default/vm-a", defaultSettings)
        const events = w.supervisor.objects({ kind: "Event" }) as Array<any>
        const warning = events.find((e) => e.reason === "CreateDataVolumeFailed")
        assert.include(warning?.message, `Invalid value: "${SHOWN}"`)
        const status = Option.getOrUndefined(w.supervisor.object(refOf("Machine", "vm-a", "default")))?.status as any
        assert.include(status?.failureMessage, SHOWN)
        const shown = shownOnSupervisor(w)
        for (const secret of SECRETS) assert.notInclude(shown, secret)
      }).pipe(Effect.provide(w.layer))
    })
  })
})
