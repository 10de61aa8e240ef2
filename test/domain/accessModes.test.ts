/** Access modes for plain PVCs from the CDI StorageProfile, with the fallback and the blocking Unknown. */
import { assert, describe, it } from "@effect/vitest"
import { chooseAccessModes } from "../../src/domain/accessModes.ts"
import { absent, present, unknown } from "../../src/domain/Fact.ts"
import type { StorageFacts } from "../../src/domain/ObservedState.ts"

const facts = (profile: StorageFacts["profile"], defaultClass: StorageFacts["defaultClass"] = present("fast")) => ({
  defaultClass,
  profile
})

describe("chooseAccessModes", () => {
  const cases = [
    {
      name: "ReadWriteManyIsPreferredForTheWantedVolumeMode",
      storage: facts(
        present([
          { volumeMode: "Filesystem", accessModes: ["ReadWriteOnce"] },
          { volumeMode: "Block", accessModes: ["ReadWriteOnce", "ReadWriteMany"] }
        ])
      ),
      want: { tag: "Chosen", modes: ["ReadWriteMany"], why: "StorageProfile fast" }
    },
    {
      name: "OnlyReadWriteOnceBlockGivesReadWriteOnce",
      storage: facts(present([{ volumeMode: "Block", accessModes: ["ReadWriteOnce"] }])),
      want: { tag: "Chosen", modes: ["ReadWriteOnce"], why: "StorageProfile fast" }
    },
    {
      name: "NoProfileFallsBack",
      storage: facts(absent),
      want: { tag: "Chosen", modes: ["ReadWriteMany"], why: "PVC_ACCESS_MODE (no CDI StorageProfile 'fast')" }
    },
    {
      name: "NoSetForTheVolumeModeFallsBack",
      storage: facts(present([{ volumeMode: "Filesystem", accessModes: ["ReadWriteOnce"] }])),
      want: {
        tag: "Chosen",
        modes: ["ReadWriteMany"],
        why: "PVC_ACCESS_MODE (StorageProfile 'fast' lists no Block access modes)"
      }
    },
    {
      name: "NoDefaultClassFallsBack",
      storage: facts(absent, present(null)),
      want: {
        tag: "Chosen",
        modes: ["ReadWriteMany"],
        why: "PVC_ACCESS_MODE (the remote cluster has no default StorageClass)"
      }
    },
    { name: "UnreadableProfileBlocks", storage: facts(unknown("forbidden")), want: { tag: "Blocked" } },
    { name: "UnreadableClassesBlock", storage: facts(absent, unknown("timeout")), want: { tag: "Blocked" } }
  ] as const

  it.each(cases)("$name", ({ storage, want }) => {
    const got = chooseAccessModes(storage, undefined, "Block", "ReadWriteMany")
    assert.deepStrictEqual(
      got._tag === "Chosen" ? { tag: got._tag, modes: got.modes, why: got.why } : { tag: got._tag },
      want
    )
  })

  it("a configured class is looked up by name, not the default", () => {
    const got = chooseAccessModes(
      facts(present([{ volumeMode: "Block", accessModes: ["ReadWriteOnce"] }]), unknown("x")),
      "slow",
      "Block",
      "ReadWriteMany"
    )
    assert.deepStrictEqual(got._tag === "Chosen" ? got.why : got._tag, "StorageProfile slow")
  })
})
