/**
 * The offline observer (`observedFromObjects.ts`) answers the capabilities' own queries (`remoteReads.ts`) from a
 * list of objects: what a live observer would read, and nothing else.
 */
import { assert, describe, it } from "@effect/vitest"
import { pvcManifest } from "../../src/domain/manifests/Pvc.ts"
import { remoteStateFromObjects } from "../../src/domain/observedFromObjects.ts"
import { queriesOf, remoteReads, remoteStateFrom } from "../../src/domain/remoteReads.ts"
import { aPvc } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"
import { desiredOf } from "../fixtures/desiredObjects.ts"
import { nadObject, namespaceObject } from "../fixtures/world.ts"

const machine = aMachine()
  .named("web")
  .inNamespace("team-a")
  .withSpec({ network: { interfaces: [{ name: "lan", subnet: "vlan100" }] } })
  .build()

describe("remoteStateFromObjects", () => {
  it("reads the namespace, our PVCs (by label and by desired name), and the NADs the Machine names", () => {
    const r = remoteStateFromObjects(machine, "remote-a", [
      namespaceObject("team-a"),
      pvcManifest(desiredOf().pvcs[0]!),
      aPvc("web-old", "team-a", "5Gi", "web"),
      aPvc("someone-else", "team-a", "1Gi"),
      aPvc("web", "team-b", "1Gi", "web"),
      nadObject("vlan100", "team-a"),
      nadObject("vlan200", "team-a")
    ])
    assert.strictEqual(r.namespace._tag, "Present")
    assert.deepStrictEqual(r.pvcs._tag === "Present" && r.pvcs.value.map((p) => p.name), ["web", "web-old"])
    assert.deepStrictEqual(r.nads, { _tag: "Present", value: ["vlan100"] })
    assert.deepStrictEqual([r.vm._tag, r.vmi._tag], ["Absent", "Absent"])
  })

  it("a claim with a desired name but not our labels is read too (the planner reports the clash)", () => {
    const r = remoteStateFromObjects(machine, "remote-a", [aPvc("web", "team-a", "1Gi")])
    assert.deepStrictEqual(r.pvcs._tag === "Present" && r.pvcs.value.map((p) => [p.name, p.labels]), [["web", {}]])
  })

  it("an unanswered query is Unknown, never Absent", () => {
    const reads = remoteReads(machine)
    const answers = queriesOf(reads).map(() => ({ _tag: "Unknown", reason: "forbidden" }) as const)
    const r = remoteStateFrom("remote-a", reads, answers)
    for (const fact of [r.namespace, r.vm, r.vmi, r.pvcs, r.nads])
      assert.deepStrictEqual(fact, { _tag: "Unknown", reason: "forbidden" })
  })
})
