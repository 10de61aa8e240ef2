/**
 * Stable MAC addresses (ADR 0013, reference F28): the derivation's format and determinism, MAC_SET as the Go operator
 * reads it, and the choice of the first derivation nobody holds, with collisions forced by a tiny hash.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  chooseMac,
  deriveMac,
  MAX_DERIVATIONS,
  type MacHash,
  type MacIdentity,
  macCandidates,
  normalizeMac,
  parseMacSet
} from "../../src/domain/macAddress.ts"
import { RUNS } from "../fixtures/arbitraries.ts"

const id: MacIdentity = { cluster: "remote-a", namespace: "team-a", machine: "vm-a", iface: "vlan2101" }

/** A hash with only `n` values: every few derivations collide (forced collisions). */
const tinyHash =
  (n: number): MacHash =>
  (input) => {
    let h = 0
    for (const c of input) h = (h * 31 + c.charCodeAt(0)) % n
    return new Uint8Array([0, 0, 0, h])
  }

describe("macAddress", () => {
  it("a derivation is locally administered unicast 02:<MAC_SET>: plus four hash bytes, the same every time", () => {
    const mac = deriveMac(id, 0, "12")
    assert.match(mac, /^02:12(:[0-9a-f]{2}){4}$/)
    assert.strictEqual(deriveMac(id, 0, "12"), mac)
    assert.notStrictEqual(deriveMac(id, 1, "12"), mac)
    assert.strictEqual(deriveMac(id, 0, "ab").slice(0, 6), "02:ab:")
    // 0x02 in the first octet: the locally administered bit set, the multicast bit clear.
    assert.strictEqual(Number.parseInt(mac.slice(0, 2), 16) & 0b11, 0b10)
  })

  it("the same identity always gives the same derivations (no randomness)", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.string(),
        fc.nat(20),
        (cluster, namespace, machine, iface, n) => {
          const a = { cluster, namespace, machine, iface }
          assert.strictEqual(deriveMac(a, n, "12"), deriveMac({ ...a }, n, "12"))
        }
      ),
      { numRuns: RUNS }
    )
  })

  it.each([
    [undefined, "12"],
    ["12", "12"],
    ["0x1f", "1f"],
    ["0XAB", "ab"],
    ["abc", "bc"],
    ["7", "07"],
    ["zz", "12"],
    ["", "12"]
  ])("MAC_SET %s reads as %s", (raw, octet) => assert.strictEqual(parseMacSet(raw), octet))

  it("normalizeMac: lower case, dashes read, anything else refused", () => {
    assert.strictEqual(normalizeMac("02-12-AB-cd-EF-01"), "02:12:ab:cd:ef:01")
    assert.isUndefined(normalizeMac("02:12:ab"))
    assert.isUndefined(normalizeMac("not a mac"))
  })

  it("chooseMac takes the first derivation nobody holds and says which it skipped", () => {
    const [first, second] = macCandidates(id, "12")
    const choice = chooseMac(id, "12", (mac) => (mac === first ? "team-b/other" : undefined))
    assert.deepStrictEqual(choice, {
      _tag: "Chosen",
      mac: second!,
      counter: 1,
      skipped: [{ mac: first!, owner: "team-b/other" }]
    })
    assert.deepStrictEqual(
      chooseMac(id, "12", () => "x/y"),
      {
        _tag: "Exhausted",
        skipped: macCandidates(id, "12").map((mac) => ({ mac, owner: "x/y" }))
      }
    )
    assert.strictEqual(macCandidates(id, "12").length, MAX_DERIVATIONS)
  })

  it("with forced collisions, Machines choosing one after another never share a MAC", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,3}$/), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 2, max: 40 }),
        (names, space) => {
          const hash = tinyHash(space)
          const held = new Map<string, string>()
          for (const machine of names) {
            const choice = chooseMac({ ...id, machine }, "12", (mac) => held.get(mac), hash)
            if (choice._tag === "Chosen") {
              assert.isFalse(held.has(choice.mac))
              held.set(choice.mac, machine)
            }
          }
          assert.strictEqual(new Set(held.keys()).size, held.size)
        }
      ),
      { numRuns: RUNS }
    )
  })
})
