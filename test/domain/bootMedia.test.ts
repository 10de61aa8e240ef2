/**
 * Boot media (ADR 0010) as planner tables: the boot disk from an image through a DataVolume that the VM waits for, a
 * collected DataVolume never re-imported, failures with CDI's reason, an installer ISO on a CD-ROM and its removal
 * once the OS is installed, access modes from the StorageProfile, and the deletion order. Image URLs with credentials
 * (ADR 0018): what the DataVolume records and how a later change is noticed (a credential is not the image), and a
 * failing import made again once the Machine's spec changed since (a URL signed again).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { Action } from "../../src/domain/Action.ts"
import { isDestructive } from "../../src/domain/actionInfo.ts"
import { IMAGE_SOURCE_ANNOTATION, ISO_DISK } from "../../src/domain/bootMedia.ts"
import {
  BOOT_SOURCE_ANNOTATION,
  ISO_CLEANED_UP_ANNOTATION,
  OS_INSTALLED_ANNOTATION
} from "../../src/domain/bootSource.ts"
import { MACHINE_GENERATION_ANNOTATION } from "../../src/domain/DataVolumeSpec.ts"
import { parseTraceLine, TRACE_SCHEMA, traceLine } from "../../src/domain/decisionTrace.ts"
import { desiredFor } from "../../src/domain/desired.ts"
import { absent, unknown } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { ownerLabels } from "../../src/domain/labels.ts"
import { Machine } from "../../src/domain/Machine.ts"
import { dataVolumeManifest } from "../../src/domain/manifests/DataVolume.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import { encodePlanSetJson, type Plan } from "../../src/domain/Plan.ts"
import { PLANNER_VERSION } from "../../src/domain/planHash.ts"
import { plan } from "../../src/domain/planner.ts"
import { redactPlan } from "../../src/domain/redactPlan.ts"
import { redactUrl } from "../../src/domain/redactUrl.ts"
import { renderAction, renderPlans } from "../../src/domain/render.ts"
import { replayOne } from "../../src/domain/replay.ts"
import { defaultSettings, Settings } from "../../src/domain/Settings.ts"
import { deriveStatus } from "../../src/domain/status.ts"
import { aCluster, aPvc } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { RUNS } from "../fixtures/arbitraries.ts"
import { CREDENTIAL_FAMILIES, credentialUrl, secretArb } from "../fixtures/credentialUrls.ts"

const IMAGE = "https://images.example/noble.qcow2"
const ISO = "https://cd.example/debian.iso"
const withImage = () =>
  aMachine()
    .named("web")
    .withFinalizer()
    .placedOn("remote-a")
    .withSpec({ os: { imageID: IMAGE } })
    .withDisks({ name: "root", sizeGB: 20, boot: true })
const withIso = () =>
  aMachine()
    .named("inst")
    .withFinalizer()
    .placedOn("remote-a")
    .withSpec({ os: { isoUri: ISO } })
    .withDisks({ name: "root", sizeGB: 20, boot: true })

const dataVolume = (
  m: Machine,
  name: string,
  status: Record<string, unknown>,
  labels: Record<string, string> = ownerLabels(m.metadata.name)
): KubeObject => {
  const d = desiredFor(m, absent, defaultSettings)
  if (d._tag !== "Ok") throw new Error("fixture must be valid")
  const spec = d.desired.dataVolumes.find((x) => x.name === name)!
  const o = dataVolumeManifest(spec)
  return { ...o, metadata: { ...o.metadata, labels, resourceVersion: "9" }, status }
}
const succeeded = { phase: "Succeeded", progress: "100.0%" }
const liveVm = (m: Machine, mutate: (spec: any) => any = (s) => s): KubeObject => {
  const d = desiredFor(m, absent, defaultSettings)
  if (d._tag !== "Ok") throw new Error("fixture must be valid")
  const o = vmManifest(mutate(d.desired.vm))
  return { ...o, metadata: { ...o.metadata, resourceVersion: "4" } }
}
const run = (m: Machine, ...objects: Array<KubeObject>) =>
  plan({
    machine: m,
    observed: aCluster()
      .withObjects(...objects)
      .build(m),
    settings: defaultSettings
  })
const tags = (actions: ReadonlyArray<Action>) => actions.map((a) => a._tag)
const created = (actions: ReadonlyArray<Action>) => {
  const a = actions.find((x) => x._tag === "CreateVirtualMachine")
  return a?._tag === "CreateVirtualMachine" ? a.after : undefined
}

describe("boot disk from an image", () => {
  it("ImageCreatesADataVolumeAndTheVmWaitsForTheImport", () => {
    const m = withImage().build()
    const p = run(m)
    assert.deepStrictEqual(tags(p.actions), ["CreateDataVolume"])
    const dv = p.actions[0]
    assert.isTrue(dv?._tag === "CreateDataVolume" && dv.after.name === "web" && dv.after.storage === "20Gi")
    assert.strictEqual(p.diagnostics.find((d) => d.effect === "Waits")?.reason, "ImportPending")
  })

  it("ImportInProgressShowsItsProgressAsTheStatusMessage", () => {
    const m = withImage().build()
    const observed = aCluster()
      .withObjects(dataVolume(m, "web", { phase: "ImportInProgress", progress: "43.20%" }))
      .build(m)
    const p = plan({ machine: m, observed, settings: defaultSettings })
    assert.deepStrictEqual(p.actions, [])
    const status = deriveStatus({ machine: m, observed, plan: p, now: "2026-12-02T00:00:00Z" })
    assert.strictEqual(status.message, "importing boot image 43.20% (ImportInProgress)")
  })

  it("ImportedImageGivesAVmWhoseBootDiskIsTheDataVolume", () => {
    const m = withImage().build()
    const vm = created(run(m, dataVolume(m, "web", succeeded)).actions)
    assert.deepStrictEqual(vm?.disks, [
      { name: "root", bus: "virtio", bootOrder: 1, claimName: "web", dataVolume: true }
    ])
    assert.deepStrictEqual((vmManifest(vm!).spec as any).template.spec.volumes, [
      { name: "root", dataVolume: { name: "web" } }
    ])
    assert.isUndefined(vm?.networks[0]?.bootOrder, "an image boots from its disk, not the network")
  })

  it("ACollectedDataVolumeWhoseClaimIsOursIsNeverImportedAgain", () => {
    const m = withImage().build()
    assert.deepStrictEqual(tags(run(m, aPvc("web", "default", "20Gi", "web")).actions), ["CreateVirtualMachine"])
  })

  it("AFailedImportIsAConditionWithCdisReasonAndNoVm", () => {
    const m = withImage().build()
    const failed = dataVolume(m, "web", {
      phase: "Failed",
      conditions: [
        { type: "Running", status: "False", reason: "Error", message: "Unable to connect to http data source" }
      ]
    })
    const observed = aCluster().withObjects(failed).build(m)
    const p = plan({ machine: m, observed, settings: defaultSettings })
    assert.deepStrictEqual(p.actions, [])
    const status = deriveStatus({ machine: m, observed, plan: p, now: "2026-12-02T00:00:00Z" })
    assert.deepStrictEqual([status.phase, status.failureReason], ["Failed", "ImportFailed"])
    assert.include(status.failureMessage, "Error: Unable to connect to http data source")
  })

  it("AForeignDataVolumeWithTheNameIsANameClash", () => {
    const m = withImage().build()
    const p = run(m, dataVolume(m, "web", succeeded, { app: "theirs" }))
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.diagnostics.find((d) => d.effect === "Blocks")?.reason, "NameClash")
  })

  it("AChangedImageOnACreatedMachineIsAdvisedNotReimported", () => {
    const m = withImage().build()
    const changed = withImage()
      .withSpec({ os: { imageID: "https://images.example/other.qcow2" } })
      .build()
    const p = run(changed, dataVolume(m, "web", succeeded), liveVm(m))
    assert.isFalse(p.actions.some((a) => a._tag === "CreateDataVolume" || a._tag === "DeleteDataVolume"))
    assert.strictEqual(p.diagnostics.find((d) => d.reason === "ImageChangeIgnored")?.effect, "Advises")
  })

  it("ADataSourceIsClonedBySourceRef", () => {
    const m = withImage()
      .withSpec({ os: { imageID: "datasource:golden/ubuntu-2404" } })
      .build()
    const a = run(m).actions[0]
    assert.deepStrictEqual(a?._tag === "CreateDataVolume" ? (dataVolumeManifest(a.after).spec as any).sourceRef : {}, {
      kind: "DataSource",
      namespace: "golden",
      name: "ubuntu-2404"
    })
  })
})

describe("image URLs with credentials (ADR 0018)", () => {
  const SIG = "Zq0f1e2d3c4b5a69788796a5b4c3d2e1f"
  const ROTATED = "Zq9a8b7c6d5e4f30211203f4e5d6c7b8a"
  const presigned = (path: string, sig: string) =>
    `https://b.s3.example${path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=${sig}`
  const IMAGE_URL = presigned("/noble.qcow2", SIG)
  const machineWith = (url: string) =>
    withImage()
      .withSpec({ os: { imageID: url } })
      .build()
  /** Our DataVolume of `m`'s image as a cluster holds it, its annotation as recorded (old form: the URL as given). */
  const recordedAs = (m: Machine, recorded: string, status: Record<string, unknown>): KubeObject => {
    const o = dataVolume(m, "web", status)
    return {
      ...o,
      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [IMAGE_SOURCE_ANNOTATION]: recorded } }
    }
  }
  const failed = {
    phase: "Failed",
    conditions: [
      {
        type: "Running",
        status: "False",
        reason: "Error",
        message: `Get "${IMAGE_URL}": expected status code 200, got 403`
      }
    ]
  }
  const shown = (p: Plan) => renderPlans([p])
  const dvActions = (p: Plan) => tags(p.actions).filter((t) => t === "CreateDataVolume" || t === "DeleteDataVolume")
  const advised = (p: Plan) => p.diagnostics.some((d) => d.reason === "ImageChangeIgnored")

  it("TheDataVolumeRecordsTheDisplayFormAndItsSpecTheRealUrl", () => {
    const a = run(machineWith(IMAGE_URL)).actions[0]
    assert.strictEqual(a?._tag, "CreateDataVolume")
    if (a?._tag !== "CreateDataVolume") return
    assert.strictEqual(a.after.annotations[IMAGE_SOURCE_ANNOTATION], redactUrl(IMAGE_URL))
    assert.notInclude(a.after.annotations[IMAGE_SOURCE_ANNOTATION]!, SIG)
    // CDI downloads from the spec: the URL as given.
    assert.deepStrictEqual((dataVolumeManifest(a.after).spec as any).source, { http: { url: IMAGE_URL } })
    assert.notInclude(shown(run(machineWith(IMAGE_URL))), SIG)
  })

  const cases = [
    {
      name: "SignatureRotatedIsTheSameImage",
      reason: "a presigned URL signed again: no advice, nothing re-imported",
      recorded: redactUrl(IMAGE_URL),
      wanted: presigned("/noble.qcow2", ROTATED),
      status: succeeded,
      vm: true,
      want: { advised: false, dv: [] as Array<string> }
    },
    {
      name: "PasswordChangedIsTheSameImage",
      reason: "userinfo is masked whole in the recorded form",
      recorded: redactUrl("https://robot:old-Zqpassword1@images.example/noble.qcow2"),
      wanted: "https://robot:new-Zqpassword2@images.example/noble.qcow2",
      status: succeeded,
      vm: true,
      want: { advised: false, dv: [] }
    },
    {
      name: "AFailedImportIsNotReplacedForACredentialChange",
      reason:
        "the image did not change, and the Machine records no newer generation (the spec change that retries it: below)",
      recorded: redactUrl(IMAGE_URL),
      wanted: presigned("/noble.qcow2", ROTATED),
      status: failed,
      vm: false,
      want: { advised: false, dv: [] }
    },
    {
      name: "AnotherImageIsAdvised",
      reason: "another path: the change is noticed (and applies to new Machines only)",
      recorded: redactUrl(IMAGE_URL),
      wanted: presigned("/jammy.qcow2", SIG),
      status: succeeded,
      vm: true,
      want: { advised: true, dv: [] }
    },
    {
      name: "AnotherImageReplacesAFailedImport",
      reason: "nothing was imported and no VM uses it",
      recorded: redactUrl(IMAGE_URL),
      wanted: presigned("/jammy.qcow2", SIG),
      status: failed,
      vm: false,
      want: { advised: false, dv: ["DeleteDataVolume"] }
    },
    {
      name: "OldFormOfTheSameImageIsNotRecreated",
      reason: "a DataVolume made before ADR 0018 records the URL as given; an upgrade re-imports nothing",
      recorded: IMAGE_URL,
      wanted: IMAGE_URL,
      status: succeeded,
      vm: true,
      want: { advised: false, dv: [] }
    },
    {
      name: "OldFormThenSignatureRotated",
      reason: "the old form with another signature: still the same image",
      recorded: IMAGE_URL,
      wanted: presigned("/noble.qcow2", ROTATED),
      status: succeeded,
      vm: true,
      want: { advised: false, dv: [] }
    },
    {
      name: "OldFormOfAFailedImportIsNotReplaced",
      reason: "upgrading does not count as an image change",
      recorded: IMAGE_URL,
      wanted: IMAGE_URL,
      status: failed,
      vm: false,
      want: { advised: false, dv: [] }
    },
    {
      name: "OldFormOfAnotherImageIsAdvisedInDisplayForm",
      reason: "the advice names the recorded image without its credential",
      recorded: presigned("/jammy.qcow2", ROTATED),
      wanted: IMAGE_URL,
      status: succeeded,
      vm: true,
      want: { advised: true, dv: [] }
    }
  ]
  it.each(cases)("$name", ({ recorded, wanted, status, vm, want }) => {
    const m = machineWith(wanted)
    const made = machineWith(IMAGE_URL)
    const p = run(m, recordedAs(made, recorded, status), ...(vm ? [liveVm(made)] : []))
    assert.deepStrictEqual(
      { advised: advised(p), dv: dvActions(p) },
      { advised: want.advised, dv: want.dv },
      p.diagnostics.map((d) => `${d.reason}: ${d.message}`).join("\n")
    )
    const text = shown(p)
    for (const secret of [SIG, ROTATED, "Zqpassword"]) assert.notInclude(text, secret)
    if (want.advised) assert.include(text, redactUrl(recorded))
  })

  describe("a failing import is made again once the Machine's spec changed since (a URL signed again)", () => {
    const atGeneration = (m: Machine, generation: number): Machine =>
      Machine.make({ ...m, metadata: { ...m.metadata, generation } })
    /** The DataVolume made for `url` at generation 1, in `status`. */
    const madeAtOne = (status: Record<string, unknown>) =>
      dataVolume(atGeneration(machineWith(IMAGE_URL), 1), "web", status)
    const failing = {
      phase: "ImportInProgress",
      conditions: [{ type: "Running", status: "False", reason: "Error", message: "expected status code 200, got 403" }]
    }
    const importing = { phase: "ImportInProgress", progress: "12.00%" }
    const resigned = (generation: number) => atGeneration(machineWith(presigned("/noble.qcow2", ROTATED)), generation)
    const waitFor = (p: Plan, reason = "ImportFailed") => p.diagnostics.find((d) => d.reason === reason)?.message ?? ""

    it("TheMadeDataVolumeRecordsTheGeneration", () => {
      const a = run(resigned(3)).actions[0]
      assert.strictEqual(
        a?._tag === "CreateDataVolume" ? a.after.annotations[MACHINE_GENERATION_ANNOTATION] : undefined,
        "3"
      )
    })

    const cases = [
      { name: "FailedAndEdited", status: failed, generation: 2, vm: false, want: ["DeleteDataVolume"] },
      { name: "FailingAndEdited", status: failing, generation: 2, vm: false, want: ["DeleteDataVolume"] },
      { name: "FailedNotEdited", status: failed, generation: 1, vm: false, want: [] },
      { name: "FailingNotEdited", status: failing, generation: 1, vm: false, want: [] },
      { name: "ImportingAndEdited", status: importing, generation: 2, vm: false, want: [] },
      { name: "ImportedAndEdited", status: succeeded, generation: 2, vm: true, want: [] },
      { name: "FailingEditedWithAVm", status: failing, generation: 2, vm: true, want: [] }
    ]
    it.each(cases)("$name", ({ status, generation, vm, want }) => {
      const m = resigned(generation)
      const p = run(m, madeAtOne(status), ...(vm ? [liveVm(machineWith(IMAGE_URL))] : []))
      assert.deepStrictEqual(dvActions(p), want, p.diagnostics.map((d) => `${d.reason}: ${d.message}`).join("\n"))
      const text = shown(p)
      for (const secret of [SIG, ROTATED]) assert.notInclude(text, secret)
      if (want.length > 0) {
        assert.include(text, "generation 1 → 2")
        // Waiting for the new import, not Failed: no ImportFailed while it is made again.
        assert.include(waitFor(p, "ImportRetrying"), "importing again")
        assert.strictEqual(waitFor(p), "")
      } else if (!vm && status !== importing && status !== succeeded) assert.include(waitFor(p), "a URL signed again")
    })

    it("ADataVolumeThatRecordsNoGenerationIsNotMadeAgainAndSaysHowToRetry", () => {
      const old = madeAtOne(failed)
      const { [MACHINE_GENERATION_ANNOTATION]: _, ...annotations } = old.metadata.annotations ?? {}
      const p = run(resigned(2), { ...old, metadata: { ...old.metadata, annotations } })
      assert.deepStrictEqual(dvActions(p), [])
      assert.include(waitFor(p), "deleting DataVolume default/web on 'remote-a' imports it again")
    })

    it("AnImporterPodStillStartingIsNotAFailure", () => {
      const starting = {
        phase: "ImportInProgress",
        conditions: [{ type: "Running", status: "False", reason: "ContainerCreating", message: "" }]
      }
      const p = run(resigned(2), madeAtOne(starting))
      assert.deepStrictEqual(dvActions(p), [])
      assert.strictEqual(waitFor(p), "")
    })

    it("AClaimLeftByADeletedImportIsNotAnImportedDisk", () => {
      // The DataVolume is gone and its claim is going (a failed import made again): no VM on it, no new import yet.
      const claim = aPvc("web", "default", "20Gi", "web")
      const going = { ...claim, metadata: { ...claim.metadata, deletionTimestamp: "2026-12-03T08:00:00Z" } }
      const p = run(resigned(2), going)
      assert.deepStrictEqual(tags(p.actions), [])
      assert.include(waitFor(p, "DataVolumeTerminating"), "waiting to import again")
      // Once it is gone, the import is made again (and a claim that stays is an imported disk, as before).
      assert.deepStrictEqual(dvActions(run(resigned(2))), ["CreateDataVolume"])
      assert.deepStrictEqual(tags(run(resigned(2), claim).actions), ["CreateVirtualMachine"])
    })

    it("OneDeleteThenTheNewUrlImportsOnceAtTheNewGeneration", () => {
      const m = resigned(2)
      const gone = madeAtOne(failed)
      const going = run(m, { ...gone, metadata: { ...gone.metadata, deletionTimestamp: "2026-12-03T08:00:00Z" } })
      assert.deepStrictEqual(dvActions(going), [], "no second delete while it goes")
      const again = run(m).actions.find((a) => a._tag === "CreateDataVolume")
      assert.strictEqual(again?._tag, "CreateDataVolume")
      if (again?._tag !== "CreateDataVolume") return
      assert.deepStrictEqual((dataVolumeManifest(again.after).spec as any).source, {
        http: { url: presigned("/noble.qcow2", ROTATED) }
      })
      assert.strictEqual(again.after.annotations[MACHINE_GENERATION_ANNOTATION], "2")
      // Made again at generation 2, it fails again: not made a third time until the spec changes once more.
      const remade = dataVolume(m, "web", failed)
      assert.deepStrictEqual(dvActions(run(m, remade)), [])
      assert.deepStrictEqual(dvActions(run(atGeneration(m, 3), remade)), ["DeleteDataVolume"])
    })
  })

  it("TheOldFormPlansExactlyAsTheNewForm", () => {
    const m = machineWith(IMAGE_URL)
    for (const status of [succeeded, failed, { phase: "ImportInProgress", progress: "43.20%" }]) {
      const oldForm = run(m, recordedAs(m, IMAGE_URL, status))
      const newForm = run(m, recordedAs(m, redactUrl(IMAGE_URL), status))
      assert.deepStrictEqual(oldForm, newForm)
    }
  })
})

describe("a credential in an image URL never shows (ADR 0018)", () => {
  /**
   * A placed Machine whose boot image, ISO (or the Go operator's ISO), or both, is an http URL carrying a secret, and
   * its DataVolumes in every state the boot-media step decides on: none yet, importing, imported, failed with CDI
   * quoting the URL, being deleted, someone else's; recorded in the new form, the old one (the URL as given), the old
   * one with the secret rotated since, or for another image; at the Machine's generation, behind it (the spec changed
   * since: a failing import is made again), or with none recorded; with or without the VM, installed, deleting.
   */
  const worlds = fc
    .record({
      secret: secretArb,
      family: fc.constantFrom(...CREDENTIAL_FAMILIES),
      where: fc.constantFrom<"imageID" | "isoUri" | "goIso" | "both">("imageID", "isoUri", "goIso", "both"),
      dv: fc.constantFrom("none", "importing", "imported", "imported", "failed", "failed", "deleting", "foreign"),
      recorded: fc.constantFrom<"new" | "old" | "rotated" | "other">("new", "old", "rotated", "other"),
      cdiEcho: fc.boolean(),
      vm: fc.boolean(),
      installed: fc.constantFrom(false, false, true),
      deleting: fc.constantFrom(false, false, false, true),
      generation: fc.constantFrom<"same" | "behind" | "none">("same", "behind", "none")
    })
    .map((r) => {
      const build = (secret: string, path: string) => {
        const image = credentialUrl(secret, r.family, "images.example", path)
        const iso = credentialUrl(secret, r.family, "cd.example", path.replace(".qcow2", ".iso"))
        let b = aMachine()
          .named("web")
          .withFinalizer()
          .placedOn("remote-a")
          .withDisks({ name: "root", sizeGB: 20, boot: true })
          .withSpec({
            os:
              r.where === "isoUri"
                ? { isoUri: iso }
                : r.where === "both"
                  ? { imageID: image, isoUri: iso }
                  : { imageID: image }
          })
        if (r.where === "goIso") b = b.annotated(BOOT_SOURCE_ANNOTATION, "datavolume")
        if (r.installed) b = b.annotated(OS_INSTALLED_ANNOTATION, "true")
        if (r.deleting) b = b.deleting()
        return b.build()
      }
      const atGeneration = (m: Machine, generation: number) =>
        r.generation === "none" ? m : Machine.make({ ...m, metadata: { ...m.metadata, generation } })
      const machine = atGeneration(build(r.secret, "/noble.qcow2"), 2)
      // The Machine the DataVolumes were made for: this one, or one whose URL was signed again, or another image; at
      // its generation or an earlier one.
      const made = atGeneration(
        r.recorded === "rotated"
          ? build(`${r.secret}R`, "/noble.qcow2")
          : r.recorded === "other"
            ? build(r.secret, "/other.qcow2")
            : build(r.secret, "/noble.qcow2"),
        r.generation === "behind" ? 1 : 2
      )
      const d = desiredFor(made, absent, defaultSettings)
      const dvs =
        d._tag !== "Ok" || r.dv === "none"
          ? []
          : d.desired.dataVolumes.map((spec): KubeObject => {
              const o = dataVolumeManifest(spec)
              const url = spec.source._tag === "DataSource" ? "" : spec.source.url
              return {
                ...o,
                metadata: {
                  ...o.metadata,
                  resourceVersion: "9",
                  labels: r.dv === "foreign" ? { app: "theirs" } : ownerLabels("web"),
                  annotations: {
                    ...o.metadata.annotations,
                    ...(r.recorded === "new" ? {} : { [IMAGE_SOURCE_ANNOTATION]: url })
                  },
                  ...(r.dv === "deleting" ? { deletionTimestamp: "2026-12-01T00:00:00Z" } : {})
                },
                status: {
                  phase: r.dv === "importing" ? "ImportInProgress" : r.dv === "failed" ? "Failed" : "Succeeded",
                  ...(r.dv === "failed" || (r.dv === "importing" && r.cdiEcho)
                    ? {
                        conditions: [
                          {
                            type: "Running",
                            status: "False",
                            reason: "Error",
                            message: r.cdiEcho ? `Get "${url}": expected status code 200, got 403` : "Unable to connect"
                          }
                        ]
                      }
                    : {})
                }
              }
            })
      const observed = aCluster()
        .withObjects(...dvs, ...(r.vm && d._tag === "Ok" ? [liveVm(made)] : []))
        .build(machine)
      return { machine, observed, secret: r.secret }
    })

  const now = "2026-12-02T00:00:00Z"
  const traced = (machine: Machine, observed: ReturnType<ReturnType<typeof aCluster>["build"]>, p: Plan) =>
    traceLine({
      schema: TRACE_SCHEMA,
      machine: "default/web",
      plannerVersion: PLANNER_VERSION,
      input: { machine, observed, settings: defaultSettings, now },
      plan: p,
      timings: { observe: 1, plan: 1, execute: 0, total: 2 }
    })

  it("not in the plan text, its JSON, the Event messages, the status or the trace line; the trace replays exactly", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, secret }) => {
        const p = plan({ machine, observed, settings: defaultSettings, now })
        const line = traced(machine, observed, p)
        const shown = [
          renderPlans([p]),
          JSON.stringify(encodePlanSetJson({ plans: [redactPlan(p)] })),
          // The Events reconcile writes: each action run, each blocking diagnostic.
          ...p.actions.map((a) => renderAction(a).trim()),
          ...p.diagnostics.map((d) => (d.field === undefined ? d.message : `${d.field}: ${d.message}`)),
          JSON.stringify(deriveStatus({ machine, observed, plan: p, now })),
          line
        ].join("\n")
        assert.notInclude(shown, secret)
        for (const a of p.actions)
          if (a._tag === "CreateDataVolume" && a.after.source._tag === "Http")
            assert.include(a.after.source.url, secret)
        const parsed = parseTraceLine(line)
        assert.strictEqual(parsed._tag, "Trace")
        if (parsed._tag === "Trace") assert.deepStrictEqual(replayOne(parsed.trace).differences, [])
      }),
      { numRuns: RUNS }
    )
  })

  it("the worlds reach every decision the step makes about an image", () => {
    const seen = new Set<string>()
    for (const { machine, observed } of fc.sample(worlds, { numRuns: 2000, seed: 18 })) {
      const p = plan({ machine, observed, settings: defaultSettings, now })
      for (const a of p.actions) seen.add(a._tag)
      for (const d of p.diagnostics) seen.add(d.reason)
    }
    for (const decision of [
      "CreateDataVolume",
      "DeleteDataVolume",
      "CreateVirtualMachine",
      "ImageChangeIgnored",
      "ImportFailed",
      "ImportRetrying",
      "ImportInProgress",
      "NameClash"
    ])
      assert.isTrue(seen.has(decision), decision)
  })
})

describe("installer ISO", () => {
  it("IsoIsADataVolumeOnASataCdromBehindTheBlankBootDisk", () => {
    const m = withIso().build()
    assert.deepStrictEqual(tags(run(m).actions), ["CreatePvc", "CreateDataVolume"])
    const vm = created(run(m, dataVolume(m, "inst-iso", succeeded)).actions)
    assert.deepStrictEqual(vm?.disks, [
      { name: "root", bus: "virtio", bootOrder: 1, claimName: "inst" },
      { name: ISO_DISK, bus: "sata", bootOrder: 2, claimName: "inst-iso", dataVolume: true, cdrom: true }
    ])
    assert.deepStrictEqual((vmManifest(vm!).spec as any).template.spec.domain.devices.disks[1], {
      name: ISO_DISK,
      cdrom: { bus: "sata" },
      bootOrder: 2
    })
  })

  it("OsInstalledTakesTheCdromOutThenDeletesTheIsoThenMarksTheMachine", () => {
    const m = withIso().build()
    const installed = withIso().annotated(OS_INSTALLED_ANNOTATION, "true").build()
    const pvc = aPvc("inst", "default", "20Gi", "inst")
    const iso = dataVolume(m, "inst-iso", succeeded)
    // 1. The VM still has the CD-ROM: it leaves the spec; the ISO stays while the VM names it.
    const first = run(installed, pvc, iso, liveVm(m))
    assert.deepStrictEqual(tags(first.actions), ["PatchVirtualMachine"])
    // 2. The VM no longer names it: the ISO's DataVolume goes.
    const second = run(installed, pvc, iso, liveVm(installed))
    assert.deepStrictEqual(tags(second.actions), ["DeleteDataVolume"])
    // 3. It is gone: the Machine is marked for the tools that read the Go operator's annotation.
    const third = run(installed, pvc, liveVm(installed))
    assert.deepStrictEqual(
      third.actions.map((a) => (a._tag === "PatchMachineAnnotation" ? `${a.key}=${a.value}` : a._tag)),
      [`${ISO_CLEANED_UP_ANNOTATION}=true`]
    )
    // 4. Marked: nothing left to do.
    const marked = withIso().annotated(OS_INSTALLED_ANNOTATION, "true").annotated(ISO_CLEANED_UP_ANNOTATION, "true")
    assert.deepStrictEqual(run(marked.build(), pvc, liveVm(installed)).actions, [])
  })
})

describe("CPUs that start on current KubeVirt (reference W22)", () => {
  it("host-model loses ht; arm64 gets host-passthrough and the arm64 architecture; the setting turns it off", () => {
    const d = (m: Machine, s = defaultSettings) => {
      const r = desiredFor(m, absent, s)
      return r._tag === "Ok" ? r.desired.vm : undefined
    }
    assert.deepStrictEqual(d(withIso().build())?.cpu.features, [{ name: "ht", policy: "disable" }])
    const arm = d(
      withIso()
        .withSpec({ os: { isoUri: ISO, architecture: "arm64" } })
        .build()
    )
    assert.deepStrictEqual(
      [arm?.cpu.model, arm?.cpu.features, arm?.architecture],
      ["host-passthrough", undefined, "arm64"]
    )
    assert.strictEqual((vmManifest(arm!).spec as any).template.spec.architecture, "arm64")
    const off = d(withIso().build(), Settings.make({ ...defaultSettings, disableCpuHtFeature: false }))
    assert.isUndefined(off?.cpu.features)
  })
})

describe("storage and deletion", () => {
  it("AStorageProfileListingOnlyReadWriteOnceBlockGivesAReadWriteOnceClaim", () => {
    const m = withIso().build()
    const p = run(
      m,
      {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: "local", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } }
      },
      {
        apiVersion: "cdi.kubevirt.io/v1beta1",
        kind: "StorageProfile",
        metadata: { name: "local" },
        status: { claimPropertySets: [{ accessModes: ["ReadWriteOnce"], volumeMode: "Block" }] }
      }
    )
    const pvc = p.actions.find((a) => a._tag === "CreatePvc")
    assert.deepStrictEqual(pvc?._tag === "CreatePvc" ? pvc.after.accessModes : [], ["ReadWriteOnce"])
    assert.include(pvc?.reason ?? "", "StorageProfile local")
  })

  it("DeletionGoesVmThenDataVolumesThenClaimsThenFinalizer", () => {
    const m = withIso().build()
    const deleting = withIso().deleting().build()
    const pvc = aPvc("inst", "default", "20Gi", "inst")
    const iso = dataVolume(m, "inst-iso", succeeded)
    assert.deepStrictEqual(tags(run(deleting, pvc, iso, liveVm(m)).actions), ["DeleteVirtualMachine"])
    assert.deepStrictEqual(tags(run(deleting, pvc, iso).actions), ["DeleteDataVolume"])
    assert.deepStrictEqual(tags(run(deleting, pvc).actions), ["DeletePvc"])
    assert.deepStrictEqual(tags(run(deleting).actions), ["RemoveFinalizer"])
  })

  it("AVmThatOwnsItsIsoDeletesItWithItSoItsDeletionIsDestructiveAndWaitsForAnApproval", () => {
    // The Go operator's ISO, adopted (ADR 0014): KubeVirt made it from the VM's dataVolumeTemplates, the VM owns it.
    const m = withIso().build()
    const deleting = withIso().deleting().build()
    const pvc = aPvc("inst", "default", "20Gi", "inst")
    const plain = dataVolume(m, "inst-iso", succeeded)
    const owned = {
      ...plain,
      metadata: {
        ...plain.metadata,
        ownerReferences: [{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "inst", uid: "u-1" }]
      }
    }
    const [free] = run(deleting, pvc, plain, liveVm(m)).actions
    assert.isTrue(free?._tag === "DeleteVirtualMachine" && free.cascades === undefined && !isDestructive(free))
    const [cascading] = run(deleting, pvc, owned, liveVm(m)).actions
    assert.isTrue(cascading?._tag === "DeleteVirtualMachine" && isDestructive(cascading))
    assert.deepStrictEqual(cascading?._tag === "DeleteVirtualMachine" ? cascading.cascades : [], ["inst-iso"])
    const approval = Settings.make({ ...defaultSettings, requireApproval: true })
    const held = plan({
      machine: deleting,
      observed: aCluster().withObjects(pvc, owned, liveVm(m)).build(deleting),
      settings: approval
    })
    assert.deepStrictEqual(tags(held.actions), [])
    assert.deepStrictEqual(
      held.held?.map((h) => h.action._tag),
      ["DeleteVirtualMachine"]
    )
    // What it cannot see, it does not delete: the DataVolumes unreadable, the VM waits.
    const blind = plan({
      machine: deleting,
      observed: aCluster()
        .withObjects(pvc, owned, liveVm(m))
        .mapRemote((r) => ({ ...r, dataVolumes: unknown("forbidden") }))
        .build(deleting),
      settings: defaultSettings
    })
    assert.deepStrictEqual(tags(blind.actions), [])
    assert.isTrue(blind.diagnostics.some((d) => d.reason === "DataVolumesUnknown"))
  })
})
