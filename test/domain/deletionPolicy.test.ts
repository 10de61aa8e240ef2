/** Deletion policies as written on the Machine (`deletionPolicy.ts`): Delete, Orphan, AbandonAfter=<duration>. */
import { assert, describe, it } from "@effect/vitest"
import { deletionPolicyOf, parseDuration } from "../../src/domain/deletionPolicy.ts"
import { DELETION_POLICY_ANNOTATION } from "../../src/domain/labels.ts"
import { aMachine } from "../fixtures/aMachine.ts"

describe("parseDuration (Go's notation)", () => {
  const cases = [
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["2h0m5s", 7_205_000],
    ["0s", undefined],
    ["", undefined],
    ["1d", undefined],
    ["h", undefined],
    ["-5m", undefined],
    ["5 m", undefined]
  ] as const
  it.each(cases)("%s", (text, want) => assert.strictEqual(parseDuration(text), want))
})

describe("deletionPolicyOf", () => {
  const policy = (value?: string) =>
    deletionPolicyOf(
      value === undefined ? aMachine().build() : aMachine().annotated(DELETION_POLICY_ANNOTATION, value).build()
    )
  it("absent, empty or Delete: Delete; Orphan: Orphan", () => {
    assert.deepStrictEqual(policy(), { _tag: "Delete" })
    assert.deepStrictEqual(policy(""), { _tag: "Delete" })
    assert.deepStrictEqual(policy("Delete"), { _tag: "Delete" })
    assert.deepStrictEqual(policy("Orphan"), { _tag: "Orphan" })
  })
  it("AbandonAfter=<duration>", () => {
    assert.deepStrictEqual(policy("AbandonAfter=1h"), { _tag: "AbandonAfter", millis: 3_600_000, text: "1h" })
  })
  it("anything else is not guessed at (a typo must not delete data)", () => {
    assert.strictEqual(policy("orphan")._tag, "Invalid")
    assert.strictEqual(policy("AbandonAfter=")._tag, "Invalid")
    assert.strictEqual(policy("AbandonAfter=soon")._tag, "Invalid")
  })
})
