/**
 * The facts a plan was made without (`unknownFacts.ts`): every Unknown, wherever it sits in the observed state
 * (supervisor facts, the VM search, the remote and each of its facts), and nothing when every fact was read.
 */
import { assert, describe, it } from "@effect/vitest"
import { present, unknown } from "../../src/domain/Fact.ts"
import { ObservedState } from "../../src/domain/ObservedState.ts"
import { unknownFacts } from "../../src/domain/unknownFacts.ts"
import { aCluster } from "../fixtures/aCluster.ts"
import { aMachine } from "../fixtures/aMachine.ts"

const m = aMachine().placedOn("remote-a").build()

describe("unknownFacts", () => {
  it("a fully read state has none", () => {
    assert.deepStrictEqual(unknownFacts(aCluster().build(m)), [])
  })

  it("an unreachable remote is one Unknown, with its reason", () => {
    assert.deepStrictEqual(unknownFacts(aCluster().remoteUnreachable("connect ECONNREFUSED 127.0.0.1:1").build(m)), [
      { path: "remote", reason: "connect ECONNREFUSED 127.0.0.1:1" }
    ])
  })

  it("Unknown facts inside a readable remote, the supervisor's facts and the VM search are each named", () => {
    const o = aCluster()
      .configsUnknown("503")
      .withVmSearch({ cluster: "remote-b", found: unknown("timeout") }, { cluster: "remote-a", found: present(false) })
      .mapRemote((r) => ({ ...r, vm: unknown("Unauthorized"), pvcs: unknown("Forbidden") }))
      .build(m, "remote-a")
    const withClass = ObservedState.make({ ...o, machineClass: unknown("429") })
    assert.deepStrictEqual(unknownFacts(withClass), [
      { path: "kubevirtConfigs", reason: "503" },
      { path: "machineClass", reason: "429" },
      { path: "vmSearch[remote-b].found", reason: "timeout" },
      { path: "remote.vm", reason: "Unauthorized" },
      { path: "remote.pvcs", reason: "Forbidden" }
    ])
  })
})
