/**
 * The action table (`actionInfo.ts`): Machine and NetworkConfiguration actions are the supervisor's, every other one
 * names its cluster, and
 * every action has its own status failure reason (none falls back to a default).
 */
import { assert, describe, it } from "@effect/vitest"
import { Action, type ActionTag } from "../../src/domain/Action.ts"
import { actionInfo } from "../../src/domain/actionInfo.ts"

const tags = Object.keys(Action.cases) as Array<ActionTag>

describe("actionInfo", () => {
  it("Machine and NetworkConfiguration actions write to the supervisor; the others are remote and carry a cluster", () => {
    assert.deepStrictEqual(
      tags.filter((t) => actionInfo[t].scope === "supervisor"),
      [
        "CreateNetworkConfiguration",
        "PatchNetworkConfiguration",
        "AddFinalizer",
        "RemoveFinalizer",
        "PersistPlacement",
        "PatchMachineAnnotation"
      ]
    )
    for (const t of tags)
      assert.strictEqual(
        "cluster" in Action.cases[t].fields,
        actionInfo[t].scope === "remote",
        `${t}: a remote action names its cluster, a supervisor one does not`
      )
  })

  it("every action has a target and a failure reason of its own", () => {
    for (const t of tags) assert.isTrue("target" in Action.cases[t].fields, `${t} has a target`)
    const reasons = tags.map((t) => actionInfo[t].failureReason)
    assert.strictEqual(new Set(reasons).size, tags.length)
  })
})
