/**
 * Cloud-init delivery (ADR 0010) as planner tables: the remote Secret before the VM, which references it and never
 * holds the content; a missing source waits with nothing created; a changed source patches the Secret and says the
 * guest sees it after a restart; a foreign Secret is a name clash. And the property that random secret values never
 * show in the plan text, its JSON, events or status.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import fc from "fast-check"
import type { Action } from "../../src/domain/Action.ts"
import { cloudInitSecretName } from "../../src/domain/cloudInit.ts"
import { type SourceValues, sourceKeyId } from "../../src/domain/cloudInitPayload.ts"
import { absent, present } from "../../src/domain/Fact.ts"
import type { KubeObject } from "../../src/domain/KubeObject.ts"
import { ownerLabels } from "../../src/domain/labels.ts"
import type { Machine } from "../../src/domain/Machine.ts"
import { CLOUD_INIT_DIGEST_ANNOTATION } from "../../src/domain/manifests/CloudInitSecret.ts"
import { vmManifest } from "../../src/domain/manifests/VirtualMachine.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { encodePlanSetJson } from "../../src/domain/Plan.ts"
import { plan } from "../../src/domain/planner.ts"
import { renderAction, renderPlans } from "../../src/domain/render.ts"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { deriveStatus } from "../../src/domain/status.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { RUNS } from "../fixtures/arbitraries.ts"

const fromSecret = (extra: Record<string, unknown> = {}) =>
  aMachine()
    .named("web")
    .inNamespace("team-a")
    .withFinalizer()
    .placedOn("remote-a")
    .withSpec({ cloudInit: { userDataSecretRef: { name: "ud" }, ...extra }, sshKeys: ["ssh-ed25519 AAAA k@x"] })
    .build()
const sources = (value: string | undefined): SourceValues => ({
  [sourceKeyId({ kind: "Secret", name: "ud", key: "userdata" })]:
    value === undefined ? absent : present(Redacted.make(value))
})
const observed = (m: Machine, value: string | undefined, ...objects: Array<KubeObject>) =>
  ObservedState.make({
    ...aCluster()
      .withNamespace("team-a")
      .withObjects(...objects)
      .build(m),
    cloudInitSources: sources(value)
  })
const secret = (labels: Record<string, string>, digest: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: "web-cloudinit",
    namespace: "team-a",
    resourceVersion: "3",
    labels,
    annotations: { [CLOUD_INIT_DIGEST_ANNOTATION]: digest }
  },
  data: { userdata: "b2xk" }
})
const tags = (actions: ReadonlyArray<Action>) => actions.map((a) => a._tag)
const USER_DATA = "#cloud-config\npackages: [nginx]\n"

describe("cloud-init delivery", () => {
  it("TheRemoteSecretComesBeforeTheVmWhichReferencesItAndHoldsNoContent", () => {
    const m = fromSecret()
    const p = plan({ machine: m, observed: observed(m, USER_DATA), settings: defaultSettings })
    assert.deepStrictEqual(tags(p.actions), ["CreateSecret", "CreatePvc", "CreateVirtualMachine"])
    const vm = p.actions.find((a) => a._tag === "CreateVirtualMachine")
    const spec = vm?._tag === "CreateVirtualMachine" ? (vmManifest(vm.after).spec as any).template.spec : {}
    assert.deepStrictEqual(spec.volumes.at(-1), {
      name: "cloudinitdisk",
      cloudInitNoCloud: { secretRef: { name: cloudInitSecretName("web") } }
    })
    assert.notInclude(JSON.stringify(spec), "nginx")
    assert.match(renderAction(p.actions[0]!), /kind=NoCloud userdata=sha256:[0-9a-f]{8} \(\d+ B\)/)
  })

  it("AMissingSourceWaitsNamingTheFieldAndNothingIsCreated", () => {
    const m = fromSecret()
    const p = plan({ machine: m, observed: observed(m, undefined), settings: defaultSettings })
    assert.isFalse(p.actions.some((a) => "cluster" in a))
    const d = p.diagnostics.find((x) => x.reason === "CloudInitSourceMissing")
    assert.deepStrictEqual([d?.effect, d?.field], ["Waits", "spec.cloudInit.userDataSecretRef"])
  })

  it("AChangedSourcePatchesTheSecretAndSaysTheGuestSeesItAfterARestart", () => {
    const m = fromSecret()
    const first = plan({ machine: m, observed: observed(m, USER_DATA), settings: defaultSettings })
    const vm = first.actions.find((a) => a._tag === "CreateVirtualMachine")
    const live = vm?._tag === "CreateVirtualMachine" ? vmManifest(vm.after) : undefined
    const p = plan({
      machine: m,
      observed: observed(
        m,
        "#cloud-config\npackages: [apache2]\n",
        secret(ownerLabels("web"), "sha256:old"),
        { ...live!, metadata: { ...live!.metadata, resourceVersion: "8" } },
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "web", namespace: "team-a", resourceVersion: "2", labels: ownerLabels("web") },
          spec: { resources: { requests: { storage: "10Gi" } } }
        }
      ),
      settings: defaultSettings
    })
    assert.deepStrictEqual(tags(p.actions), ["PatchSecret"])
    assert.strictEqual(p.diagnostics.find((d) => d.reason === "CloudInitChanged")?.effect, "Advises")
  })

  it("AForeignSecretWithTheNameIsANameClash", () => {
    const m = fromSecret()
    const p = plan({
      machine: m,
      observed: observed(m, USER_DATA, secret({ app: "x" }, "sha256:x")),
      settings: defaultSettings
    })
    assert.isFalse(p.actions.some((a) => "cluster" in a))
    assert.strictEqual(p.diagnostics.find((d) => d.effect === "Blocks")?.reason, "NameClash")
  })

  it("ConfigDriveUsesTheConfigDriveVolume", () => {
    const m = fromSecret({ type: "configDrive" })
    const vm = plan({ machine: m, observed: observed(m, USER_DATA), settings: defaultSettings }).actions.find(
      (a) => a._tag === "CreateVirtualMachine"
    )
    const volumes = vm?._tag === "CreateVirtualMachine" ? (vmManifest(vm.after).spec as any).template.spec.volumes : []
    assert.deepStrictEqual(volumes.at(-1), {
      name: "cloudinitdisk",
      cloudInitConfigDrive: { secretRef: { name: "web-cloudinit" } }
    })
  })

  it("property: random secret values never show in the plan text, its JSON, events or status", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 10, maxLength: 40 }).filter((v) => v.trim().length >= 10 && !/^[\s#]/.test(v)),
        fc.constantFrom<"missing" | "stale" | "fresh">("missing", "stale", "fresh"),
        (value, state) => {
          const m = fromSecret({ networkDataSecretRef: { name: "ud", key: "net" } })
          const values: SourceValues = {
            ...sources(`#cloud-config\n# ${value}\n`),
            [sourceKeyId({ kind: "Secret", name: "ud", key: "net" })]:
              state === "missing" ? absent : present(Redacted.make(`version: 2 # ${value}`))
          }
          const o = ObservedState.make({
            ...aCluster()
              .withNamespace("team-a")
              .withObjects(...(state === "stale" ? [secret(ownerLabels("web"), "sha256:old")] : []))
              .build(m),
            cloudInitSources: values
          })
          const p = plan({ machine: m, observed: o, settings: defaultSettings })
          const shown = [
            renderPlans([p]),
            JSON.stringify(encodePlanSetJson({ plans: [p] })),
            ...p.actions.map((a) => renderAction(a)),
            JSON.stringify(deriveStatus({ machine: m, observed: o, plan: p, now: "2026-12-02T00:00:00Z" }))
          ].join("\n")
          assert.notInclude(shown, value)
          if (state !== "missing")
            assert.isTrue(p.actions.some((a) => a._tag === "CreateSecret" || a._tag === "PatchSecret"))
        }
      ),
      { numRuns: RUNS }
    )
  })
})
