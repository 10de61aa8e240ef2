/**
 * Stable MAC addresses for a Machine's interfaces (ADR 0013): locally administered unicast `02:<MAC_SET>:` plus four
 * bytes of a SHA-256 of (cluster, namespace, Machine, interface, counter). Derived, never random, so the pure planner
 * computes them and a recreated VM keeps its address. The counter is how a collision with a MAC another
 * NetworkConfiguration recorded is resolved: the next derivation, said in a diagnostic. Domain layer: pure.
 */
import { sha256 } from "@noble/hashes/sha2.js"

/** The Go operator's default second octet (`MAC_SET`). */
export const DEFAULT_MAC_SET = "12"

/** How many derivations a Machine's interface may try before it waits (16 collisions in a row never happen). */
export const MAX_DERIVATIONS = 16

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/

/** `aa:bb:cc:dd:ee:ff` in lower case, or undefined when the text is not a MAC address (`-` separators are read). */
export const normalizeMac = (s: string): string | undefined => {
  const m = s.trim().toLowerCase().replace(/-/g, ":")
  return MAC.test(m) ? m : undefined
}

/**
 * The second octet from `MAC_SET` as the Go operator reads it: an optional `0x` prefix, the last two hex digits;
 * anything else is the default `12`.
 */
export const parseMacSet = (raw: string | undefined): string => {
  const s = (raw ?? "").trim().toLowerCase().replace(/^0x/, "")
  if (!/^[0-9a-f]+$/.test(s)) return DEFAULT_MAC_SET
  return s.slice(-2).padStart(2, "0")
}

/** What a derived MAC belongs to. */
export interface MacIdentity {
  /** The KubevirtConfig the Machine is placed on. */
  readonly cluster: string
  readonly namespace: string
  readonly machine: string
  /** The VM interface's name. */
  readonly iface: string
}

/** A hash of the derivation's input; the first four bytes are used. Injected only by tests that force collisions. */
export type MacHash = (input: string) => Uint8Array

const utf8 = new TextEncoder()
export const sha256MacHash: MacHash = (input) => sha256(utf8.encode(input))

const hex2 = (b: number) => b.toString(16).padStart(2, "0")

/** The `counter`-th derivation for an interface: `02:<macSet>:` plus the first four bytes of the hash. */
export const deriveMac = (id: MacIdentity, counter: number, macSet: string, hash: MacHash = sha256MacHash): string => {
  const digest = hash([id.cluster, id.namespace, id.machine, id.iface, String(counter)].join("\u0000"))
  return ["02", macSet, ...Array.from(digest.slice(0, 4), hex2)].join(":")
}

/** The derivations 0..MAX_DERIVATIONS-1 of an interface, in order. */
export const macCandidates = (id: MacIdentity, macSet: string, hash: MacHash = sha256MacHash): ReadonlyArray<string> =>
  Array.from({ length: MAX_DERIVATIONS }, (_, i) => deriveMac(id, i, macSet, hash))

export type MacChoice =
  | {
      readonly _tag: "Chosen"
      readonly mac: string
      readonly counter: number
      /** The earlier derivations and who holds them (empty when the first one was free). */
      readonly skipped: ReadonlyArray<{ readonly mac: string; readonly owner: string }>
    }
  | { readonly _tag: "Exhausted"; readonly skipped: ReadonlyArray<{ readonly mac: string; readonly owner: string }> }

/**
 * The first derivation no one else holds. `ownerOf(mac)` names the NetworkConfiguration that recorded it first, or
 * undefined when it is free (or ours). Total and deterministic.
 */
export const chooseMac = (
  id: MacIdentity,
  macSet: string,
  ownerOf: (mac: string) => string | undefined,
  hash: MacHash = sha256MacHash
): MacChoice => {
  const skipped: Array<{ readonly mac: string; readonly owner: string }> = []
  for (const [counter, mac] of macCandidates(id, macSet, hash).entries()) {
    const owner = ownerOf(mac)
    if (owner === undefined) return { _tag: "Chosen", mac, counter, skipped }
    skipped.push({ mac, owner })
  }
  return { _tag: "Exhausted", skipped }
}
