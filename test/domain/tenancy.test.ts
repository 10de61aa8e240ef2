/**
 * Tenancy (`tenancy.ts`, ADR 0011): who may use a KubevirtConfig, from its annotations and the labels of the
 * Machine's namespace, as a table; Unknown whenever something needed could not be read.
 */
import { assert, describe, it } from "@effect/vitest"
import { absent, type Fact, present, unknown } from "../../src/domain/Fact.ts"
import { decideTenancy, needsNamespaceLabels, type Tenancy, tenancyAnnotations } from "../../src/domain/tenancy.ts"

const policy = (annotations: Record<string, string>, labels?: Fact<Record<string, string>>): Fact<Tenancy> =>
  present({
    ...tenancyAnnotations("remote-a", annotations),
    ...(labels === undefined ? {} : { namespaceLabels: labels })
  })
const LIST = "vitistack.io/allowed-namespaces"
const SELECTOR = "vitistack.io/allowed-namespace-selector"

describe("decideTenancy", () => {
  const cases = [
    { name: "NotObserved", tenancy: undefined, ns: "any", want: "Allowed" },
    { name: "NoSuchConfig", tenancy: absent, ns: "any", want: "Allowed" },
    { name: "NoAnnotations", tenancy: policy({}), ns: "any", want: "Allowed" },
    { name: "Listed", tenancy: policy({ [LIST]: "team-a, team-b" }), ns: "team-b", want: "Allowed" },
    { name: "NotListed", tenancy: policy({ [LIST]: "team-a,team-b" }), ns: "team-c", want: "Denied" },
    { name: "EmptyList", tenancy: policy({ [LIST]: "" }), ns: "team-a", want: "Denied" },
    {
      name: "SelectorMatches",
      tenancy: policy({ [SELECTOR]: "tenant in (blue,green)" }, present({ tenant: "blue" })),
      ns: "x",
      want: "Allowed"
    },
    {
      name: "SelectorDoesNotMatch",
      tenancy: policy({ [SELECTOR]: "tenant=blue" }, present({ tenant: "red" })),
      ns: "x",
      want: "Denied"
    },
    {
      name: "ListOrSelector",
      tenancy: policy({ [LIST]: "ops", [SELECTOR]: "tenant=blue" }, present({})),
      ns: "ops",
      want: "Allowed"
    },
    {
      name: "NamespaceLabelsUnreadable",
      tenancy: policy({ [SELECTOR]: "tenant=blue" }, unknown("Forbidden")),
      ns: "x",
      want: "Unknown"
    },
    { name: "NamespaceLabelsNotRead", tenancy: policy({ [SELECTOR]: "tenant=blue" }), ns: "x", want: "Unknown" },
    {
      name: "InvalidSelectorAllowsNone",
      tenancy: policy({ [SELECTOR]: "tenant in blue" }, present({ tenant: "blue" })),
      ns: "x",
      want: "Denied"
    },
    { name: "ConfigUnreadable", tenancy: unknown("timeout"), ns: "x", want: "Unknown" },
    {
      name: "OtherClustersPolicy",
      tenancy: present({ ...tenancyAnnotations("remote-b", {}) }),
      ns: "x",
      want: "Unknown"
    }
  ] as const
  it.each(cases)("$name → $want", ({ tenancy, ns, want }) =>
    assert.strictEqual(decideTenancy(tenancy, "remote-a", ns)._tag, want)
  )

  it("a denial names the namespace, the KubevirtConfig and its rules; an invalid selector says why", () => {
    const d = decideTenancy(policy({ [LIST]: "a,b" }), "remote-a", "c")
    assert.deepStrictEqual(d, {
      _tag: "Denied",
      message: "namespace 'c' may not use KubevirtConfig 'remote-a' (vitistack.io/allowed-namespaces: 'a,b')"
    })
    const bad = decideTenancy(policy({ [SELECTOR]: "x in y" }, present({})), "remote-a", "c")
    assert.include(bad._tag === "Denied" ? bad.message : "", "the selector is not valid")
  })

  it("the namespace's labels are needed only for a selector that the list does not make moot", () => {
    assert.isFalse(needsNamespaceLabels(tenancyAnnotations("c", { [LIST]: "a" }), "b"))
    assert.isFalse(needsNamespaceLabels(tenancyAnnotations("c", { [LIST]: "a", [SELECTOR]: "t=1" }), "a"))
    assert.isTrue(needsNamespaceLabels(tenancyAnnotations("c", { [LIST]: "a", [SELECTOR]: "t=1" }), "b"))
  })
})
