/** Kubernetes quantities (`Quantity.ts`): binary and decimal suffixes, exponents, numbers, and what is not one. */
import { assert, describe, it } from "@effect/vitest"
import { parseQuantity, toMebibytes } from "../../src/domain/Quantity.ts"

describe("parseQuantity", () => {
  const cases = [
    { name: "Gibibytes", q: "10Gi", want: 10 * 2 ** 30 },
    { name: "Mebibytes", q: "512Mi", want: 512 * 2 ** 20 },
    { name: "KibibytesAndExbibytes", q: "1Ki", want: 1024 },
    { name: "Exbibytes", q: "1Ei", want: 2 ** 60 },
    { name: "DecimalGiga", q: "1.5G", want: 1.5e9 },
    { name: "DecimalKilo", q: "2k", want: 2000 },
    { name: "Milli", q: "250m", want: 0.25 },
    { name: "Exponent", q: "2e9", want: 2e9 },
    { name: "CapitalExponent", q: "3E2", want: 300 },
    { name: "PlainInteger", q: "1024", want: 1024 },
    { name: "LeadingDot", q: ".5Gi", want: 0.5 * 2 ** 30 },
    { name: "Signed", q: "+1Mi", want: 2 ** 20 },
    { name: "SurroundingSpaces", q: " 1Gi ", want: 2 ** 30 },
    { name: "ANumber", q: 4096, want: 4096 },
    { name: "NotANumber", q: Number.NaN, want: undefined },
    { name: "Infinite", q: Number.POSITIVE_INFINITY, want: undefined },
    { name: "ExponentOverflows", q: "1e400", want: undefined },
    { name: "SuffixOverflows", q: `${"9".repeat(300)}Ei`, want: undefined },
    { name: "NegativeParses", q: "-2Gi", want: -2 * 2 ** 30 },
    { name: "UnknownSuffix", q: "10GB", want: undefined },
    { name: "LowerCaseBinary", q: "10gi", want: undefined },
    { name: "Empty", q: "", want: undefined },
    { name: "Words", q: "lots", want: undefined }
  ] as const
  it.each(cases)("$name: $q", ({ q, want }) => assert.strictEqual(parseQuantity(q), want))

  it("compares sizes by value: 2Gi equals 2048Mi, 10Gi is less than 11Gi", () => {
    assert.strictEqual(parseQuantity("2Gi"), parseQuantity("2048Mi"))
    assert.isBelow(parseQuantity("10Gi")!, parseQuantity("11Gi")!)
  })
})

describe("toMebibytes", () => {
  const cases = [
    { name: "WholeMebibytes", bytes: 2 ** 30, want: "1024Mi" },
    { name: "RoundsDown", bytes: 2 ** 20 + 5, want: "1Mi" },
    { name: "FourGibibytes", bytes: 4 * 2 ** 30, want: "4096Mi" }
  ] as const
  it.each(cases)("$name", ({ bytes, want }) => assert.strictEqual(toMebibytes(bytes), want))
})
