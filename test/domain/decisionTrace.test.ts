/**
 * Decision traces (`decisionTrace.ts`): what is redacted (cloud-init, kubectl's copies, image URL credentials), which
 * lines are traces (a file's, or the operator's JSON log's), a schema version it does not know, and how a differing
 * decision is listed.
 */
import { assert, describe, it } from "@effect/vitest"
import { IMAGE_SOURCE_ANNOTATION } from "../../src/domain/bootMedia.ts"
import {
  type DecisionTrace,
  parseTraceLine,
  planDifferences,
  REDACTED,
  TRACE_SCHEMA,
  traceLine
} from "../../src/domain/decisionTrace.ts"
import { present } from "../../src/domain/Fact.ts"
import { ownerLabels } from "../../src/domain/labels.ts"
import { Machine } from "../../src/domain/Machine.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { PLANNER_VERSION } from "../../src/domain/planHash.ts"
import { plan } from "../../src/domain/planner.ts"
import { replayOne } from "../../src/domain/replay.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const machine = aMachine()
  .withSpec({
    cloudInit: { userData: "#cloud-config\npassword: inline-secret\n" },
    userData: "#!/bin/sh\necho legacy-secret\n"
  })
  .annotated("kubectl.kubernetes.io/last-applied-configuration", '{"spec":{"cloudInit":{"userData":"inline-secret"}}}')
  .build()
const observed = ObservedState.make({
  ...aCluster()
    .mapRemote((r) => ({
      ...r,
      cloudInitSecret: present({
        name: "vm-a-cloudinit",
        labels: {},
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"userdata":"c2VjcmV0"}}' },
        resourceVersion: "1",
        deleting: false
      })
    }))
    .build(machine)
})
const trace = (): DecisionTrace => ({
  schema: TRACE_SCHEMA,
  machine: "default/vm-a",
  plannerVersion: PLANNER_VERSION,
  input: { machine, observed, settings: defaultSettings, now: "2026-12-01T00:00:00Z" },
  plan: plan({ machine, observed, settings: defaultSettings, now: "2026-12-01T00:00:00Z" }),
  timings: { observe: 3, plan: 0, execute: 0, total: 4 }
})

describe("traceLine", () => {
  it("masks inline cloud-init and kubectl's copies of manifests, keeps the rendering's digest; the replay is exact", () => {
    const line = traceLine(trace())
    for (const secret of ["inline-secret", "legacy-secret", "c2VjcmV0"]) assert.notInclude(line, secret)
    assert.include(line, REDACTED)
    const parsed = parseTraceLine(line)
    assert.strictEqual(parsed._tag, "Trace")
    if (parsed._tag !== "Trace") return
    assert.strictEqual(parsed.trace.input.observed.cloudInitRendered?.result, "Ready")
    assert.deepStrictEqual(plan(parsed.trace.input), trace().plan)
  })
})

describe("traceLine with an image URL that carries credentials (ADR 0018)", () => {
  const URL = "https://robot:Zqpassw0rd@b.s3.example/noble.qcow2?X-Amz-Expires=600&X-Amz-Signature=Zqsignature1"
  const withImage = aMachine()
    .named("web")
    .withFinalizer()
    .placedOn("remote-a")
    .withDisks({ name: "root", sizeGB: 20, boot: true })
    .withSpec({ os: { isoUri: URL, imageID: URL } })
    .build()
  // An older operator's status quoted CDI, which quoted the URL.
  const m = Machine.make({
    ...withImage,
    status: {
      phase: "Failed",
      failureMessage: `Error: Get "${URL}": 403`,
      conditions: [
        { type: "Planned", status: "False", reason: "ImportFailed", message: `Get "${URL}"`, lastTransitionTime: "x" }
      ]
    }
  })
  const now = "2026-12-01T00:00:00Z"
  const freshInput = { machine: m, observed: aCluster().build(m), settings: defaultSettings, now }
  const fresh = plan(freshInput)
  // The DataVolumes as an operator before ADR 0018 made them: the URL as given in the annotation (a state the
  // observation masks; a trace must not depend on that).
  const observed = ObservedState.make({
    ...aCluster()
      .mapRemote((r) => ({
        ...r,
        dataVolumes: present(
          fresh.actions.flatMap((a) =>
            a._tag === "CreateDataVolume"
              ? [
                  {
                    name: a.after.name,
                    labels: ownerLabels("web"),
                    annotations: { ...a.after.annotations, [IMAGE_SOURCE_ANNOTATION]: URL },
                    resourceVersion: "3",
                    phase: "ImportInProgress",
                    deleting: false
                  }
                ]
              : []
          )
        )
      }))
      .build(m)
  })
  const oldFormInput = { machine: m, observed, settings: defaultSettings, now }
  const trace = (input: DecisionTrace["input"] = freshInput): DecisionTrace => ({
    schema: TRACE_SCHEMA,
    machine: "default/web",
    plannerVersion: PLANNER_VERSION,
    input,
    plan: plan(input),
    result: {
      executed: [],
      failed: {
        action: "CreateDataVolume",
        target: "default/web",
        reason: "Invalid",
        message: `DataVolume "web" is invalid: spec.source.http.url: Invalid value: "${URL}"`
      },
      skipped: 0
    },
    timings: { observe: 1, plan: 1, execute: 1, total: 3 }
  })

  it("records the Machine, the observed annotation, the plan and the failure with the URL in display form", () => {
    assert.isTrue(
      fresh.actions.some((a) => a._tag === "CreateDataVolume"),
      "the plan imports the image"
    )
    const line = traceLine(trace())
    for (const secret of ["Zqpassw0rd", "Zqsignature1"]) {
      assert.include(JSON.stringify(trace()), secret, "the trace as recorded holds it")
      assert.notInclude(line, secret)
      assert.notInclude(traceLine(trace(oldFormInput)), secret)
    }
    assert.include(
      line,
      `https://${REDACTED}:${REDACTED}@b.s3.example/noble.qcow2?X-Amz-Expires=600&X-Amz-Signature=${REDACTED}`
    )
  })

  it("replays exactly: the planner decides from the display form as it did from the URL", () => {
    for (const input of [freshInput, oldFormInput]) {
      const parsed = parseTraceLine(traceLine(trace(input)))
      assert.strictEqual(parsed._tag, "Trace")
      if (parsed._tag === "Trace") assert.deepStrictEqual(replayOne(parsed.trace).differences, [])
    }
  })
})

describe("parseTraceLine", () => {
  it("reads a trace from the operator's JSON log line (DECISION_TRACE=log), skips other log lines and blank ones", () => {
    const t = JSON.parse(traceLine(trace()))
    const log = JSON.stringify({ message: t, level: "INFO", timestamp: "x", annotations: {}, spans: {}, fiberId: "#1" })
    assert.strictEqual(parseTraceLine(log)._tag, "Trace")
    assert.strictEqual(parseTraceLine(JSON.stringify({ message: "reconciled", level: "INFO" }))._tag, "Skip")
    assert.strictEqual(parseTraceLine("   ")._tag, "Skip")
  })

  it("refuses a schema version it does not know, and text that is not JSON", () => {
    const t = { ...JSON.parse(traceLine(trace())), schema: "kubevirt-operator/decision-trace/v0" }
    const r = parseTraceLine(JSON.stringify(t))
    assert.strictEqual(r._tag, "Bad")
    assert.include(r._tag === "Bad" ? r.problem : "", "is not kubevirt-operator/decision-trace/v1")
    assert.strictEqual(parseTraceLine("{oops")._tag, "Bad")
  })
})

describe("planDifferences", () => {
  it("the same plan: nothing; another: the lines only in each, and the hash when the version is the same", () => {
    const p = trace().plan
    assert.deepStrictEqual(planDifferences(p, p, true), [])
    const other = plan({ machine: aMachine().build(), observed, settings: defaultSettings })
    const d = planDifferences(p, { ...other, actions: other.actions.slice(0, 1) } as typeof other, true)
    assert.isTrue(d.some((l) => l.startsWith("- ")))
    assert.isTrue(d.some((l) => l.startsWith("~ plan hash")))
    // Across versions the hash always differs; it is not reported as a difference of decision.
    assert.deepStrictEqual(planDifferences(p, { ...p, hash: "x" } as typeof p, false), [])
  })
})
