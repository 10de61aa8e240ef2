/**
 * Label selectors in text form (`selectorText.ts`), as the apiserver reads `?labelSelector=`: a table of selectors
 * against labels, and the malformed ones, each reported.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseSelector, selects } from "../../src/domain/selectorText.ts"

const labels = { team: "a", tier: "web", "example.com/env": "prod" }

describe("parseSelector + selects", () => {
  const cases = [
    { selector: "", want: true },
    { selector: "team=a", want: true },
    { selector: "team==a", want: true },
    { selector: "team=b", want: false },
    { selector: "team!=b", want: true },
    { selector: "owner!=x", want: true },
    { selector: "team", want: true },
    { selector: "!team", want: false },
    { selector: "!owner", want: true },
    { selector: "team in (a,b)", want: true },
    { selector: "team in (b, c)", want: false },
    { selector: "team notin (b,c)", want: true },
    { selector: "owner notin (x)", want: true },
    { selector: "owner in (x)", want: false },
    { selector: "example.com/env=prod", want: true },
    { selector: " team = a , tier in (web,db) , !legacy ", want: true },
    { selector: "team=a,tier=db", want: false },
    { selector: "tier=", want: false },
    { selector: "owner=", want: false }
  ]
  it.each(cases)("'$selector' → $want", ({ selector, want }) => {
    const parsed = parseSelector(selector)
    assert.strictEqual(parsed._tag, "Selector")
    assert.strictEqual(parsed._tag === "Selector" && selects(parsed.requirements, labels), want)
  })

  const invalid = ["=a", "team=a b", "team in a,b", "team in (a", "-team=a", "team=a,", "team>1", "a/b/c=d"]
  it.each(invalid)("'%s' is invalid, with the reason", (selector) => {
    const parsed = parseSelector(selector)
    assert.strictEqual(parsed._tag, "Invalid", JSON.stringify(parsed))
  })
})
