/**
 * PVC names two Machines would share (`claimCollisions.ts`): derived names collide only on one cluster and namespace;
 * every Machine involved gets an Error naming its own field and the other Machine's.
 */
import { assert, describe, it } from "@effect/vitest"
import { claimCollisions } from "../../src/domain/claimCollisions.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const a = aMachine().named("a").withDisks({ name: "root", sizeGB: 10, boot: true }, { name: "b", sizeGB: 5 }).build()
const ab = aMachine().named("a-b").build()

describe("claimCollisions", () => {
  it("Machine a with disk b and Machine a-b both derive PVC a-b: an Error on each, naming the fields", () => {
    const found = claimCollisions([
      { machine: a, cluster: "remote-a" },
      { machine: ab, cluster: "remote-a" }
    ])
    assert.deepStrictEqual(
      [...found].map(([k, ds]) => [k, ds.map((d) => [d.severity, d.reason, d.field, d.message])]),
      [
        [
          "default/a",
          [
            [
              "Error",
              "PvcNameCollision",
              "spec.disks[1].name",
              "PVC default/a-b on 'remote-a' would also be the PVC of Machine default/a-b (metadata.name); rename a disk or a Machine"
            ]
          ]
        ],
        [
          "default/a-b",
          [
            [
              "Error",
              "PvcNameCollision",
              "metadata.name",
              "PVC default/a-b on 'remote-a' would also be the PVC of Machine default/a (spec.disks[1].name); rename a disk or a Machine"
            ]
          ]
        ]
      ]
    )
  })

  const apart = [
    { name: "OtherCluster", clusters: ["remote-a", "remote-b"], namespaces: ["default", "default"] },
    { name: "OtherNamespace", clusters: ["remote-a", "remote-a"], namespaces: ["default", "team-a"] },
    { name: "NotPlaced", clusters: ["remote-a", undefined], namespaces: ["default", "default"] }
  ] as const
  it.each(apart)("$name: no collision", ({ clusters, namespaces }) => {
    const found = claimCollisions([
      {
        machine: aMachine().named("a").inNamespace(namespaces[0]).withDisks({ name: "b", sizeGB: 1 }).build(),
        cluster: clusters[0]
      },
      { machine: aMachine().named("a-b").inNamespace(namespaces[1]).build(), cluster: clusters[1] }
    ])
    assert.strictEqual(found.size, 0)
  })

  it("an unnamed disk is named by its index: a's second disk is a-disk1, as is Machine a-disk1's boot disk", () => {
    const m = aMachine().named("a").withDisks({ sizeGB: 1, boot: true }, { sizeGB: 2 }).build()
    const found = claimCollisions([
      { machine: m, cluster: "c" },
      { machine: aMachine().named("a-disk1").build(), cluster: "c" }
    ])
    assert.deepStrictEqual(
      found.get("default/a")?.map((d) => d.field),
      ["spec.disks[1]"]
    )
  })

  it("one Machine's own duplicate claims are not a collision between Machines (desired.ts reports them)", () => {
    const m = aMachine().withDisks({ name: "x", sizeGB: 1 }, { name: "x", sizeGB: 2 }).build()
    assert.strictEqual(claimCollisions([{ machine: m, cluster: "c" }]).size, 0)
  })
})
