/**
 * The planner's laws as fast-check properties (style G10): totality, convergence, idempotence, determinism,
 * ordering, safety, JSON round trip, redaction (cloud-init values; image URL credentials, ADR 0018). Each runs at least
 * 1,000 times; a failure prints fast-check's seed and path.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { Action } from "../../src/domain/Action.ts"
import { unreachableSince, unreadableRemote } from "../../src/domain/abandon.ts"
import { isRemote } from "../../src/domain/actionInfo.ts"
import { GO_MANAGED_BY_LABEL, GO_SOURCE_MACHINE_LABEL } from "../../src/domain/adoption.ts"
import { IMAGE_SOURCE_ANNOTATION, isoDataVolumeName } from "../../src/domain/bootMedia.ts"
import { BOOT_SOURCE_ANNOTATION } from "../../src/domain/bootSource.ts"
import type { ObservedDataVolume } from "../../src/domain/DataVolumeSpec.ts"
import { parseTraceLine, TRACE_SCHEMA, traceLine } from "../../src/domain/decisionTrace.ts"
import { deletionPolicyOf } from "../../src/domain/deletionPolicy.ts"
import { plainClaimNames } from "../../src/domain/disks.ts"
import { absent, present } from "../../src/domain/Fact.ts"
import {
  DELETION_POLICY_ANNOTATION,
  FINALIZER,
  isOwnedBy,
  MANAGED_BY_LABEL,
  PLACEMENT_ANNOTATION,
  SOURCE_MACHINE_LABEL
} from "../../src/domain/labels.ts"
import { hasFinalizer, isDeleting, Machine, MachineSpec } from "../../src/domain/Machine.ts"
import { deriveMac, MAX_DERIVATIONS, normalizeMac } from "../../src/domain/macAddress.ts"
import { observeDataVolume } from "../../src/domain/manifests/DataVolume.ts"
import { ownsNetworkConfiguration, staticNetworkData } from "../../src/domain/networkConfiguration.ts"
import { ObservedState, type RemoteState } from "../../src/domain/ObservedState.ts"
import { remoteStateFromObjects } from "../../src/domain/observedFromObjects.ts"
import { allActions, decodePlanSetJson, encodePlanSetJson, hasErrors } from "../../src/domain/Plan.ts"
import { PLANNER_VERSION } from "../../src/domain/planHash.ts"
import { inScope, plan } from "../../src/domain/planner.ts"
import { redactPlan } from "../../src/domain/redactPlan.ts"
import { queriesOf, remoteReads } from "../../src/domain/remoteReads.ts"
import { renderAction, renderPlans } from "../../src/domain/render.ts"
import { replayOne } from "../../src/domain/replay.ts"
import { Settings } from "../../src/domain/Settings.ts"
import { simulate, type World } from "../../src/domain/simulate.ts"
import { deriveStatus } from "../../src/domain/status.ts"
import { decideTenancy } from "../../src/domain/tenancy.ts"
import {
  abandoning,
  adoptionScenario,
  fromSchema,
  goWorld,
  RUNS,
  scenario,
  scenarioAround,
  vitistackScenario
} from "../fixtures/arbitraries.ts"
import { CREDENTIAL_FAMILIES, credentialUrl, secretArb } from "../fixtures/credentialUrls.ts"

const params = { numRuns: RUNS, verbose: 1 } as const
/**
 * Every kind of world, and as often worlds where only vitistack networking varies around a valid Machine; a fifth of
 * them with adoption on and the Go operator's objects around (ADR 0014).
 */
const worlds = fc.oneof(
  { arbitrary: scenario, weight: 2 },
  { arbitrary: vitistackScenario, weight: 2 },
  { arbitrary: adoptionScenario, weight: 1 }
)
/** The MACs each action writes, by interface name (VM creates and patches, NetworkConfiguration writes). */
const writtenMacs = (a: Action): ReadonlyArray<{ readonly iface: string; readonly mac: string }> =>
  a._tag === "CreateVirtualMachine" || a._tag === "PatchVirtualMachine"
    ? a.after.networks.flatMap((n) => (n.macAddress === undefined ? [] : [{ iface: n.name, mac: n.macAddress }]))
    : a._tag === "CreateNetworkConfiguration" || a._tag === "PatchNetworkConfiguration"
      ? a.after.interfaces.map((i) => ({ iface: i.name, mac: i.macAddress }))
      : []

const hasBootMedia = (m: Machine) => (m.spec.os?.imageID ?? "") !== "" || (m.spec.os?.isoUri ?? "") !== ""
const remoteOf = (o: ObservedState) => (o.remote._tag === "Present" ? o.remote.value : undefined)
/** The actions that make an object of the Go operator's ours (ADR 0014). */
const isAdopt = (a: Action) => a._tag === "AdoptVirtualMachine" || a._tag === "AdoptPvc" || a._tag === "AdoptDataVolume"

/** Runs observe→plan→apply rounds on the pure model until the plan is empty or the Machine is gone. */
const converge = (
  w: World,
  settings: Settings,
  rounds: number,
  now?: string
): { world: World; rounds: number; last: ReadonlyArray<Action> } => {
  let world = w
  for (let i = 0; i < rounds; i++) {
    if (world.machine === undefined) return { world, rounds: i, last: [] }
    const p = plan({ machine: world.machine, observed: world.observed, settings, now })
    if (p.actions.length === 0) return { world, rounds: i, last: [] }
    world = simulate(world, p.actions)
  }
  const last =
    world.machine === undefined ? [] : plan({ machine: world.machine, observed: world.observed, settings, now }).actions
  return { world, rounds, last }
}

describe("planner laws", { timeout: 120_000 }, () => {
  it("totality: any schema-valid Machine × ObservedState × Settings gives a Plan and a status, never a throw", () => {
    fc.assert(
      fc.property(
        fromSchema(Machine.fields.metadata),
        fromSchema(MachineSpec),
        fromSchema(ObservedState),
        fromSchema(Settings),
        fc.option(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          { nil: undefined }
        ),
        (metadata, spec, observed, settings, now) => {
          const machine = Machine.make({ metadata, spec })
          const p = plan({ machine, observed, settings, now })
          deriveStatus({ machine, observed, plan: p, now: "2026-11-28T00:00:00Z" })
          return Array.isArray(p.actions)
        }
      ),
      params
    )
  })

  it("convergence: a live Machine's plan, applied, leaves nothing to do (one round; boot media: at most four)", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        fc.pre(!isDeleting(machine))
        const first = plan({ machine, observed, settings, now })
        const after = simulate({ machine, observed }, first.actions)
        assert.isDefined(after.machine)
        // Adopting the Go operator's objects is a round of its own (ADR 0014); the usual rounds follow.
        const adoption = first.actions.some(isAdopt) ? 1 : 0
        const next = plan({ machine: after.machine!, observed: after.observed, settings, now }).actions
        // An image or ISO takes rounds: import, then the VM; an installed OS: CD-ROM out of the VM, the ISO, the mark.
        if (!hasBootMedia(machine) && adoption === 0) assert.deepStrictEqual(next, [])
        else
          assert.deepStrictEqual(
            converge({ machine, observed }, settings, (hasBootMedia(machine) ? 4 : 1) + adoption, now).last,
            []
          )
      }),
      params
    )
  })

  it("convergence on deletion: at most 5 rounds (VM, DataVolumes, PVCs, cloud-init Secret, finalizer)", () => {
    fc.assert(
      fc.property(fc.oneof(worlds, abandoning), ({ machine, observed, settings, now }) => {
        fc.pre(isDeleting(machine))
        const r = converge({ machine, observed }, settings, 5, now)
        assert.deepStrictEqual(r.last, [])
      }),
      params
    )
  })

  it("idempotence: applying a plan twice equals applying it once", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        const p = plan({ machine, observed, settings, now })
        const once = simulate({ machine, observed }, p.actions)
        const twice = simulate(once, p.actions)
        assert.deepStrictEqual(twice, once)
      }),
      params
    )
  })

  it("determinism: reordering observed lists (PVCs, VM search, configs) does not change the plan", () => {
    fc.assert(
      fc.property(worlds, fc.integer(), ({ machine, observed, settings, now }, salt) => {
        const shuffle = <A>(xs: ReadonlyArray<A>): Array<A> =>
          xs
            .map((x, i) => [((i + 1) * 7919 * (salt | 1)) % 104729, x] as const)
            .sort((a, b) => a[0] - b[0])
            .map(([, x]) => x)
        const r = observed.remote
        const reordered = ObservedState.make({
          ...observed,
          kubevirtConfigs:
            observed.kubevirtConfigs._tag === "Present"
              ? { _tag: "Present", value: shuffle(observed.kubevirtConfigs.value).reverse() }
              : observed.kubevirtConfigs,
          vmSearch: shuffle(observed.vmSearch).reverse(),
          remote:
            r._tag === "Present" && r.value.pvcs._tag === "Present"
              ? {
                  _tag: "Present",
                  value: { ...r.value, pvcs: { _tag: "Present", value: shuffle(r.value.pvcs.value).reverse() } }
                }
              : r
        })
        assert.deepStrictEqual(
          plan({ machine, observed: reordered, settings, now }),
          plan({ machine, observed, settings, now })
        )
      }),
      params
    )
  })

  it("ordering: supervisor marks before remote writes; namespace < PVCs < VM; deletion VM before PVCs; finalizer last", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        const tags = plan({ machine, observed, settings, now }).actions.map((a) => a._tag)
        const first = (t: string) => tags.indexOf(t as never)
        const last = (t: string) => tags.lastIndexOf(t as never)
        const firstRemote = plan({ machine, observed, settings, now }).actions.findIndex(isRemote)
        for (const mark of ["AddFinalizer", "PersistPlacement"])
          if (first(mark) >= 0 && firstRemote >= 0) assert.isBelow(first(mark), firstRemote)
        if (first("EnsureNamespace") >= 0)
          for (const t of ["CreatePvc", "ExpandPvc", "CreateVirtualMachine", "PatchVirtualMachine"])
            if (first(t) >= 0) assert.isBelow(first("EnsureNamespace"), first(t))
        if (first("CreateVirtualMachine") >= 0 && first("CreatePvc") >= 0)
          assert.isBelow(last("CreatePvc"), first("CreateVirtualMachine"))
        // The cloud-init Secret exists before the VM that mounts it; a VM never in the plan that starts its import.
        if (first("CreateSecret") >= 0 && first("CreateVirtualMachine") >= 0)
          assert.isBelow(first("CreateSecret"), first("CreateVirtualMachine"))
        assert.isFalse(first("CreateDataVolume") >= 0 && first("CreateVirtualMachine") >= 0)
        // The MACs are recorded and the NAD exists before the VM that uses them.
        for (const t of [
          "CreateNetworkConfiguration",
          "PatchNetworkConfiguration",
          "CreateNetworkAttachmentDefinition"
        ])
          if (first(t) >= 0 && first("CreateVirtualMachine") >= 0)
            assert.isBelow(first(t), first("CreateVirtualMachine"))
        // Deletion: the VM first, alone; then DataVolumes, then PVCs, then the Secret, each in a round of its own; the
        // finalizer goes alone at the end.
        for (const child of ["DeleteDataVolume", "DeletePvc", "DeleteSecret"])
          assert.isFalse(first("DeleteVirtualMachine") >= 0 && first(child) >= 0, `VM and ${child} in one plan`)
        if (isDeleting(machine)) {
          assert.isFalse(first("DeleteDataVolume") >= 0 && first("DeletePvc") >= 0)
          assert.isFalse(first("DeleteSecret") >= 0 && (first("DeletePvc") >= 0 || first("DeleteDataVolume") >= 0))
        }
        if (first("RemoveFinalizer") >= 0) assert.strictEqual(first("RemoveFinalizer"), tags.length - 1)
      }),
      params
    )
  })

  it("safety: no namespace change, no write to what is not ours, nothing created or deleted from an Unknown fact; adoption only of the Go operator's objects for this Machine, with the setting, and alone", () => {
    fc.assert(
      fc.property(fc.oneof(worlds, abandoning), ({ machine, observed, settings, now }) => {
        const p = plan({ machine, observed, settings, now })
        const remote = remoteOf(observed)
        const ours = (labels: Readonly<Record<string, string>>) => isOwnedBy(labels, machine.metadata.name)
        if (hasErrors(p)) {
          assert.isFalse(p.actions.some(isRemote), "a plan with an Error has no remote write")
          assert.isFalse(
            p.actions.some((a) => a._tag === "CreateNetworkConfiguration" || a._tag === "PatchNetworkConfiguration"),
            "nor a NetworkConfiguration write"
          )
        }
        // Adoption (ADR 0014): only with the setting; a round that adopts writes nothing else remote (it never
        // deletes, recreates or patches a spec), and it names the Machine's own namespace on its placed cluster.
        const managedBy = settings.adoptGoOperator
        if (managedBy === undefined) assert.isFalse(p.actions.some(isAdopt), "no adoption without the setting")
        if (p.actions.some(isAdopt))
          assert.isTrue(p.actions.filter(isRemote).every(isAdopt), "an adoption round writes nothing else remote")
        // Stated here from the reference's labels, not through the code under test.
        const adoptable = (o: { readonly labels: Readonly<Record<string, string>>; readonly deleting: boolean }) =>
          managedBy !== undefined &&
          !o.deleting &&
          o.labels[GO_MANAGED_BY_LABEL] === managedBy &&
          o.labels[GO_SOURCE_MACHINE_LABEL] === machine.metadata.name &&
          o.labels[MANAGED_BY_LABEL] === undefined &&
          o.labels[SOURCE_MACHINE_LABEL] === undefined
        for (const a of p.actions.filter(isAdopt)) {
          assert.strictEqual(a.target.namespace, machine.metadata.namespace)
          assert.strictEqual(isRemote(a) ? a.cluster : undefined, p.cluster)
          assert.strictEqual(remote?.cluster, p.cluster)
        }
        // Tenancy: a cluster this namespace may not use (or whose policy is unread) gets no write and no placement.
        const cluster = p.cluster ?? machine.metadata.annotations?.[PLACEMENT_ANNOTATION]
        if (
          cluster !== undefined &&
          decideTenancy(observed.tenancy, cluster, machine.metadata.namespace)._tag !== "Allowed"
        )
          assert.isFalse(
            p.actions.some((a) => isRemote(a) || a._tag === "PersistPlacement"),
            "no remote write or placement on a cluster the namespace may not use"
          )
        const nc = observed.vitistack?.networkConfiguration
        for (const a of p.actions) {
          switch (a._tag) {
            case "EnsureNamespace":
              assert.strictEqual(remote?.namespace._tag, "Absent")
              assert.strictEqual(a.target.name, machine.metadata.namespace)
              break
            case "CreatePvc":
              assert.isTrue(remote?.pvcs._tag === "Present" && !remote.pvcs.value.some((x) => x.name === a.target.name))
              break
            case "CreateVirtualMachine":
              assert.strictEqual(remote?.vm._tag, "Absent")
              break
            case "PatchVirtualMachine":
            case "DeleteVirtualMachine":
              assert.isTrue(remote?.vm._tag === "Present" && ours(remote.vm.value.labels))
              break
            case "ExpandPvc":
            case "DeletePvc":
              assert.isTrue(
                remote?.pvcs._tag === "Present" &&
                  remote.pvcs.value.some((x) => x.name === a.target.name && ours(x.labels))
              )
              break
            case "CreateDataVolume":
              assert.isTrue(
                remote?.dataVolumes?._tag === "Present" &&
                  !remote.dataVolumes.value.some((d) => d.name === a.target.name) &&
                  remote.pvcs._tag === "Present" &&
                  !remote.pvcs.value.some((x) => x.name === a.target.name)
              )
              break
            case "DeleteDataVolume":
              assert.isTrue(
                remote?.dataVolumes?._tag === "Present" &&
                  remote.dataVolumes.value.some((d) => d.name === a.target.name && ours(d.labels))
              )
              break
            case "CreateSecret":
              assert.strictEqual(remote?.cloudInitSecret?._tag, "Absent")
              break
            case "PatchSecret":
            case "DeleteSecret":
              assert.isTrue(remote?.cloudInitSecret?._tag === "Present" && ours(remote.cloudInitSecret.value.labels))
              break
            // The object carries the Go operator's labels naming this Machine and none of ours, is not being
            // deleted, has the name our naming gives it, and the action carries the resourceVersion observed.
            case "AdoptVirtualMachine":
              assert.strictEqual(a.target.name, machine.metadata.name)
              assert.isTrue(
                remote?.vm._tag === "Present" &&
                  adoptable(remote.vm.value) &&
                  remote.vm.value.resourceVersion === a.resourceVersion
              )
              break
            case "AdoptPvc":
              assert.include(plainClaimNames(machine), a.target.name)
              assert.isTrue(
                remote?.pvcs._tag === "Present" &&
                  remote.pvcs.value.some(
                    (x) => x.name === a.target.name && adoptable(x) && x.resourceVersion === a.resourceVersion
                  )
              )
              break
            case "AdoptDataVolume":
              // The Go operator's only DataVolume is the installer ISO of its VM's dataVolumeTemplate (reference F17).
              assert.strictEqual(a.target.name, isoDataVolumeName(machine.metadata.name))
              assert.isTrue(
                remote?.dataVolumes?._tag === "Present" &&
                  remote.dataVolumes.value.some(
                    (d) => d.name === a.target.name && adoptable(d) && d.resourceVersion === a.resourceVersion
                  )
              )
              break
            case "CreateNetworkConfiguration":
              assert.strictEqual(nc?._tag, "Absent")
              break
            case "PatchNetworkConfiguration":
              assert.isTrue(nc?._tag === "Present" && ownsNetworkConfiguration(nc.value, machine))
              break
            case "CreateNetworkAttachmentDefinition":
              assert.isTrue(settings.createNetworkAttachments === true, "only with the opt-in")
              assert.isTrue(remote?.nads._tag === "Present" && !remote.nads.value.includes(a.target.name))
              break
            case "DeleteNetworkAttachmentDefinition": {
              const usage = remote?.networkAttachments
              assert.isTrue(settings.createNetworkAttachments === true && isDeleting(machine))
              // After our VM is gone (a VM of someone else's with the name counts through `inUse`, as every VM does).
              assert.isTrue(
                remote?.vm._tag === "Absent" || (remote?.vm._tag === "Present" && !ours(remote.vm.value.labels))
              )
              assert.isTrue(
                usage?._tag === "Present" &&
                  usage.value.ours.some((n) => n.name === a.target.name) &&
                  !usage.value.inUse.includes(a.target.name),
                "only ours, and only unused"
              )
              break
            }
            case "RemoveFinalizer": {
              if (a.abandoned !== undefined) {
                // AbandonAfter: only with that policy, the remote unreadable now, and the deadline passed.
                const policy = deletionPolicyOf(machine)
                assert.strictEqual(policy._tag, "AbandonAfter")
                assert.isDefined(unreadableRemote(observed, a.abandoned.cluster))
                const since = Date.parse(unreachableSince(machine)!)
                const start = Math.max(since, Date.parse(machine.metadata.deletionTimestamp!))
                assert.isAtLeast(Date.parse(now!), start + (policy._tag === "AbandonAfter" ? policy.millis : Infinity))
                break
              }
              const orphan = machine.metadata.annotations?.[DELETION_POLICY_ANNOTATION] === "Orphan"
              const placed = (machine.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") !== ""
              if (!orphan && placed) {
                assert.isTrue(
                  remote?.vm._tag === "Absent" || (remote?.vm._tag === "Present" && !ours(remote.vm.value.labels))
                )
                assert.isTrue(remote?.pvcs._tag === "Present" && !remote.pvcs.value.some((x) => ours(x.labels)))
                if (remote?.dataVolumes !== undefined)
                  assert.isTrue(
                    remote.dataVolumes._tag === "Present" && !remote.dataVolumes.value.some((d) => ours(d.labels))
                  )
                if (remote?.cloudInitSecret !== undefined)
                  assert.isTrue(
                    remote.cloudInitSecret._tag === "Absent" ||
                      (remote.cloudInitSecret._tag === "Present" && !ours(remote.cloudInitSecret.value.labels))
                  )
              }
              break
            }
            default:
              break
          }
        }
      }),
      params
    )
  })

  it("MACs are never random: each is the recorded one, the live VM's, or a derivation (and the same input gives the same)", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        const p = plan({ machine, observed, settings, now })
        const nc = observed.vitistack?.networkConfiguration
        const remote = remoteOf(observed)
        for (const a of p.actions)
          for (const { iface, mac } of writtenMacs(a)) {
            const recorded =
              nc?._tag === "Present" &&
              nc.value.interfaces.some((i) => i.name === iface && normalizeMac(i.macAddress ?? "") === mac)
            const live =
              (remote?.vm._tag === "Present" &&
                remote.vm.value.spec.networks.some((n) => n.name === iface && n.macAddress === mac)) ||
              (remote?.vmi._tag === "Present" &&
                remote.vmi.value.interfaces.some((i) => i.name === iface && i.mac === mac))
            const derived = Array.from({ length: MAX_DERIVATIONS }, (_, k) =>
              deriveMac(
                {
                  cluster: p.cluster ?? "",
                  namespace: machine.metadata.namespace,
                  machine: machine.metadata.name,
                  iface
                },
                k,
                "12"
              )
            ).includes(mac)
            assert.isTrue(recorded || live || derived, `${a._tag} ${iface}=${mac} comes from nowhere`)
          }
        assert.deepStrictEqual(plan({ machine, observed, settings, now }), p)
      }),
      params
    )
  })

  it("the MAC an existing NetworkConfiguration records always wins", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        const nc = observed.vitistack?.networkConfiguration
        fc.pre(nc?._tag === "Present")
        const recorded = new Map(
          (nc?._tag === "Present" ? nc.value.interfaces : []).flatMap((i) =>
            i.name === undefined || i.macAddress === undefined ? [] : [[i.name, normalizeMac(i.macAddress)] as const]
          )
        )
        for (const a of plan({ machine, observed, settings, now }).actions)
          for (const { iface, mac } of writtenMacs(a))
            if (recorded.has(iface)) assert.strictEqual(mac, recorded.get(iface), `${a._tag} ${iface}`)
      }),
      params
    )
  })

  it("static waits never create the VM (nor its cloud-init Secret without the network-config)", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        fc.pre(staticNetworkData(machine, observed.vitistack)._tag === "Waiting")
        const tags = plan({ machine, observed, settings, now }).actions.map((a) => a._tag)
        assert.notInclude(tags, "CreateVirtualMachine")
        assert.notInclude(tags, "CreateSecret")
        assert.notInclude(tags, "PatchSecret")
      }),
      params
    )
  })

  it("redaction: a cloud-init source's value never shows in the plan text, its JSON, events or status", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings, now }) => {
        const p = plan({ machine, observed, settings, now })
        const shown = [
          renderPlans([p]),
          JSON.stringify(encodePlanSetJson({ plans: [p] })),
          ...p.actions.map((a) => renderAction(a)),
          JSON.stringify(deriveStatus({ machine, observed, plan: p, now: "2026-11-28T00:00:00Z" }))
        ].join("\n")
        assert.notInclude(shown, "s3cr3t-cl0ud-init-val")
      }),
      params
    )
  })

  it("redaction: an image URL's credential never shows in the plan text, its JSON, events, status or the trace; the trace replays exactly", () => {
    /**
     * Any world (the focused ones as often), generated around a Machine whose image (boot image, ISO, the Go
     * operator's ISO, or both) is an http URL carrying a secret; its DataVolumes as a cluster holds them, some made
     * before ADR 0018 (the URL as given in the annotation), some with CDI quoting the URL in a failure.
     */
    const withSecret = fc
      .record({
        secret: secretArb,
        family: fc.constantFrom(...CREDENTIAL_FAMILIES),
        where: fc.constantFrom<"imageID" | "isoUri" | "goIso" | "both">("imageID", "isoUri", "goIso", "both"),
        oldAnnotation: fc.boolean(),
        cdiEcho: fc.boolean()
      })
      .chain(({ secret, family, where, oldAnnotation, cdiEcho }) => {
        const url = credentialUrl(secret, family, "images.example", "/noble.qcow2")
        const withUrl = (m: Machine): Machine => {
          const { imageID: _image, isoUri: _iso, ...os } = m.spec.os ?? {}
          return Machine.make({
            ...m,
            metadata:
              where === "goIso"
                ? {
                    ...m.metadata,
                    annotations: { ...m.metadata.annotations, [BOOT_SOURCE_ANNOTATION]: "datavolume" }
                  }
                : m.metadata,
            spec: {
              ...m.spec,
              os: {
                ...os,
                ...(where === "isoUri" ? {} : { imageID: url }),
                ...(where === "isoUri" || where === "both"
                  ? { isoUri: credentialUrl(secret, family, "cd.example", "/debian.iso") }
                  : {})
              }
            }
          })
        }
        // Its DataVolumes as a cluster holds them, through the projection observe uses.
        const asHeld = (d: ObservedDataVolume): ObservedDataVolume =>
          observeDataVolume({
            apiVersion: "cdi.kubevirt.io/v1beta1",
            kind: "DataVolume",
            metadata: {
              name: d.name,
              labels: d.labels,
              annotations: oldAnnotation ? { ...d.annotations, [IMAGE_SOURCE_ANNOTATION]: url } : d.annotations,
              resourceVersion: d.resourceVersion,
              ...(d.deleting ? { deletionTimestamp: "2026-11-28T00:00:00Z" } : {})
            },
            status: {
              ...(d.phase === undefined ? {} : { phase: d.phase }),
              ...(cdiEcho
                ? {
                    conditions: [
                      { type: "Running", status: "False", reason: "Error", message: `Get "${url}": 403 Forbidden` }
                    ]
                  }
                : {})
            }
          })
        return fc.oneof(scenarioAround(withUrl), scenarioAround(withUrl, true)).map((world) => {
          const remote = world.observed.remote
          const observed =
            remote._tag !== "Present" || remote.value.dataVolumes?._tag !== "Present"
              ? world.observed
              : ObservedState.make({
                  ...world.observed,
                  remote: present({
                    ...remote.value,
                    dataVolumes: present(remote.value.dataVolumes.value.map(asHeld))
                  })
                })
          return { ...world, observed, secret, url }
        })
      })
    fc.assert(
      fc.property(withSecret, ({ machine, observed, settings, now, secret, url }) => {
        const p = plan({ machine, observed, settings, now })
        const key = `${machine.metadata.namespace}/${machine.metadata.name}`
        const line = traceLine({
          schema: TRACE_SCHEMA,
          machine: key,
          plannerVersion: PLANNER_VERSION,
          input: { machine, observed, settings, ...(now === undefined ? {} : { now }) },
          plan: p,
          result: {
            executed: [],
            failed: {
              action: "CreateDataVolume",
              target: key,
              reason: "Invalid",
              message: `DataVolume "x" is invalid: spec.source.http.url: Invalid value: "${url}"`
            },
            skipped: 0
          },
          timings: { observe: 1, plan: 1, execute: 1, total: 3 }
        })
        const shown = [
          renderPlans([p]),
          JSON.stringify(encodePlanSetJson({ plans: [redactPlan(p)] })),
          ...allActions(p).map((a) => renderAction(a).trim()),
          ...p.diagnostics.map((d) => (d.field === undefined ? d.message : `${d.field}: ${d.message}`)),
          JSON.stringify(deriveStatus({ machine, observed, plan: p, now: "2026-11-28T00:00:00Z" })),
          line
        ].join("\n")
        assert.notInclude(shown, secret)
        // The DataVolume CDI imports from still has the URL as given.
        for (const a of p.actions)
          if (a._tag === "CreateDataVolume" && a.after.source._tag === "Http")
            assert.include(a.after.source.url, secret)
        const parsed = parseTraceLine(line)
        assert.strictEqual(parsed._tag, "Trace")
        if (parsed._tag === "Trace") assert.deepStrictEqual(replayOne(parsed.trace).differences, [])
      }),
      params
    )
  })

  it("scope: another provider's Machine gets nothing unless it carries our finalizer; then it is ours until cleaned up", () => {
    fc.assert(
      fc.property(scenario, ({ machine, observed, settings, now }) => {
        fc.pre(!inScope(machine))
        const p = plan({ machine, observed, settings, now })
        if (!hasFinalizer(machine, FINALIZER)) {
          assert.deepStrictEqual(p.actions, [])
          return
        }
        if (!isDeleting(machine)) {
          // Live: no remote write and no new mark; only the release of a Machine that was never placed.
          const placed = (machine.metadata.annotations?.[PLACEMENT_ANNOTATION] ?? "") !== ""
          assert.deepStrictEqual(
            allActions(p).map((a) => a._tag),
            placed ? [] : ["RemoveFinalizer"]
          )
          return
        }
        // Deleting: the same cleanup as an in-scope Machine's (the provider is not looked at).
        const asOurs = Machine.make({ ...machine, spec: { ...machine.spec, provider: "kubevirt" } })
        assert.deepStrictEqual(p.actions, plan({ machine: asOurs, observed, settings, now }).actions)
      }),
      params
    )
  })

  it("round trip: the JSON form of any plan decodes back to the same plan", () => {
    fc.assert(
      fc.property(fc.array(worlds, { maxLength: 3 }), (scenarios) => {
        const plans = scenarios.map((s) => plan(s))
        const json = JSON.parse(JSON.stringify(encodePlanSetJson({ plans })))
        assert.deepStrictEqual(decodePlanSetJson(json), { plans })
      }),
      params
    )
  })
})

/** Settings without adoption. */
const withoutAdoption = (settings: Settings): Settings => {
  const { adoptGoOperator: _, ...rest } = settings
  return Settings.make(rest)
}

/** Whether any observed remote object carries the Go operator's labels. */
const hasGoLabels = (r: RemoteState | undefined): boolean => {
  if (r === undefined) return false
  const go = (labels: Readonly<Record<string, string>>) => labels[GO_MANAGED_BY_LABEL] !== undefined
  const listed = r.goOperator?._tag === "Present" ? r.goOperator.value : undefined
  return (
    (listed !== undefined && listed.virtualMachines.length + listed.pvcs.length > 0) ||
    (r.vm._tag === "Present" && go(r.vm.value.labels)) ||
    (r.pvcs._tag === "Present" && r.pvcs.value.some((p) => go(p.labels))) ||
    (r.dataVolumes?._tag === "Present" && r.dataVolumes.value.some((d) => go(d.labels)))
  )
}

/** An action as it would run, less what depends on the object's history (its resourceVersion, its labels before). */
const projected = (a: Action) => {
  const {
    resourceVersion: _rv,
    before: _before,
    ...rest
  } = a as Action & { resourceVersion?: string; before?: unknown }
  return rest
}

describe("adoption laws (ADR 0014)", { timeout: 120_000 }, () => {
  it("adopts exactly the Go operator's objects for this Machine in its namespace on its cluster, by our names; never another Machine's, another MANAGED_BY's, one elsewhere, one claimed or being deleted", () => {
    fc.assert(
      fc.property(goWorld, ({ machine, settings, objects }) => {
        const onCluster = objects.filter((o) => o.cluster === "remote-a").map((o) => o.object)
        const observed = ObservedState.make({
          kubevirtConfigs: present(["remote-a", "remote-b"]),
          machineClass: absent,
          vmSearch: [],
          remote: present(remoteStateFromObjects(machine, "remote-a", onCluster, settings))
        })
        const p = plan({ machine, observed, settings })
        const { name, namespace } = machine.metadata
        const ours = new Set([
          `VirtualMachine/${name}`,
          `PersistentVolumeClaim/${name}`,
          `PersistentVolumeClaim/${name}-data`,
          ...(machine.spec.os?.imageID === undefined ? [] : [`DataVolume/${name}-iso`])
        ])
        const qualifies = (o: (typeof objects)[number]) =>
          o.cluster === "remote-a" &&
          o.object.metadata.namespace === namespace &&
          o.object.metadata.deletionTimestamp === undefined &&
          o.object.metadata.labels?.[GO_MANAGED_BY_LABEL] === settings.adoptGoOperator &&
          o.object.metadata.labels?.[GO_SOURCE_MACHINE_LABEL] === name &&
          o.object.metadata.labels?.[MANAGED_BY_LABEL] === undefined &&
          o.object.metadata.labels?.[SOURCE_MACHINE_LABEL] === undefined &&
          ours.has(`${o.object.kind}/${o.object.metadata.name}`)
        const adopted = p.actions.filter(isAdopt)
        for (const a of adopted) {
          const target = objects.find(
            (o) =>
              isRemote(a) &&
              o.cluster === a.cluster &&
              o.object.kind === a.target.kind &&
              o.object.metadata.namespace === a.target.namespace &&
              o.object.metadata.name === a.target.name
          )
          assert.isDefined(target, `${a._tag} ${a.target.name} names an object that exists there`)
          assert.isTrue(qualifies(target!), `${a._tag} ${JSON.stringify(target)}`)
          assert.strictEqual(
            (a as { resourceVersion: string }).resourceVersion,
            target!.object.metadata.resourceVersion
          )
        }
        // And every one that qualifies is adopted, in one round.
        assert.deepStrictEqual(
          adopted.map((a) => `${a.target.kind}/${a.target.name}`).sort(),
          objects
            .filter(qualifies)
            .map((o) => `${o.object.kind}/${o.object.metadata.name}`)
            .sort()
        )
      }),
      params
    )
  })

  it("adoption never deletes or recreates: while the Machine lives, no later round creates or deletes an adopted object", () => {
    fc.assert(
      fc.property(adoptionScenario, ({ machine, observed, settings }) => {
        fc.pre(!isDeleting(machine))
        const first = plan({ machine, observed, settings })
        const adopted = new Set(first.actions.filter(isAdopt).map((a) => `${a.target.kind}/${a.target.name}`))
        fc.pre(adopted.size > 0)
        let world = simulate({ machine, observed }, first.actions)
        for (let round = 0; round < 5 && world.machine !== undefined; round++) {
          const p = plan({ machine: world.machine, observed: world.observed, settings })
          for (const a of p.actions)
            if (/^(Create|Delete)/.test(a._tag))
              assert.isFalse(adopted.has(`${a.target.kind}/${a.target.name}`), `${a._tag} of an adopted object`)
          world = simulate(world, p.actions)
        }
      }),
      params
    )
  })

  it("an adopted object is reconciled as if it had been ours: the round after adoption plans what ours would get", () => {
    fc.assert(
      fc.property(adoptionScenario, ({ machine, observed, settings }) => {
        const first = plan({ machine, observed, settings })
        fc.pre(first.actions.some(isAdopt))
        const adopted = simulate({ machine, observed }, first.actions)
        // The same world with the adopted objects ours from the start (our labels only), and the same supervisor
        // marks made.
        const r = remoteOf(observed)!
        const adopts = first.actions.filter(isAdopt)
        const ourLabels = (adopts[0] as { readonly labels: Record<string, string> }).labels
        const wasAdopted = (tag: Action["_tag"], name: string) =>
          adopts.some((a) => a._tag === tag && a.target.name === name)
        const oursFromStart: RemoteState = {
          ...r,
          vm:
            r.vm._tag === "Present" && wasAdopted("AdoptVirtualMachine", r.vm.value.name)
              ? present({ ...r.vm.value, labels: ourLabels, spec: { ...r.vm.value.spec, labels: ourLabels } })
              : r.vm,
          pvcs:
            r.pvcs._tag === "Present"
              ? present(r.pvcs.value.map((p) => (wasAdopted("AdoptPvc", p.name) ? { ...p, labels: ourLabels } : p)))
              : r.pvcs,
          ...(r.dataVolumes?._tag === "Present"
            ? {
                dataVolumes: present(
                  r.dataVolumes.value.map((d) =>
                    wasAdopted("AdoptDataVolume", d.name) ? { ...d, labels: ourLabels } : d
                  )
                )
              }
            : {})
        }
        const supervisorOnly = first.actions.filter((a) => !isRemote(a))
        const ours = simulate(
          { machine, observed: ObservedState.make({ ...observed, remote: present(oursFromStart) }) },
          supervisorOnly
        )
        const next = plan({ machine: adopted.machine!, observed: adopted.observed, settings })
        const asOurs = plan({ machine: ours.machine!, observed: ours.observed, settings })
        assert.deepStrictEqual(next.actions.map(projected), asOurs.actions.map(projected))
      }),
      params
    )
  })

  it("without the setting nothing changes: no adoption, no read of the Go operator's objects; with it, a world without its labels plans as before", () => {
    fc.assert(
      fc.property(worlds, ({ machine, observed, settings }) => {
        const off = withoutAdoption(settings)
        assert.isFalse(plan({ machine, observed, settings: off }).actions.some(isAdopt))
        const reads = remoteReads(machine, { settings: off })
        assert.isUndefined(reads.goOperator)
        // With it, the same reads plus the two lists by the Go operator's labels, and nothing else.
        const on = remoteReads(machine, { settings: Settings.make({ ...off, adoptGoOperator: "kubevirt-operator" }) })
        assert.deepStrictEqual(queriesOf(on), [...queriesOf(reads), ...(on.goOperator?.queries ?? [])])
        if (!hasGoLabels(remoteOf(observed)))
          assert.deepStrictEqual(
            plan({ machine, observed, settings }).actions,
            plan({ machine, observed, settings: off }).actions
          )
      }),
      params
    )
  })
})
