/**
 * Static IPs (ADR 0013, reference F34): for a NetworkNamespace with `ipAllocation.type: static`, the address an IP
 * operator wrote into the NetworkConfiguration's status for the interface's MAC, and the cloud-init network-config
 * v1 the Go operator renders from it (address, netmask from the pool's CIDR, gateway, DNS). Domain layer: pure.
 * Every value written into the YAML is checked to be an address first, so nothing from an object can add YAML.
 */
import type { ObservedNetworkConfiguration } from "./NetworkConfigurationSpec.ts"
import type { StaticPool } from "./NetworkNamespaceSpec.ts"

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const IPV6 = /^[0-9a-fA-F:]+(\.[0-9.]+)?$/

export const isIpv4 = (s: string): boolean => IPV4.test(s)
const isAddress = (s: string): boolean => IPV4.test(s) || (s.includes(":") && IPV6.test(s))

/** The netmask of an IPv4 CIDR (`10.0.1.0/24` → `255.255.255.0`), or undefined when it is not one. */
export const cidrToNetmask = (cidr: string): string | undefined => {
  const m = /^(.+)\/(\d{1,2})$/.exec(cidr.trim())
  if (m === null || !isIpv4(m[1]!)) return undefined
  const bits = Number(m[2])
  if (bits > 32) return undefined
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join(".")
}

/** What the network-config says about the pool: netmask, gateway, DNS (checked), or the field that is wrong. */
export type StaticSubnet =
  | {
      readonly _tag: "Ok"
      readonly netmask: string
      readonly gateway: string | undefined
      readonly dns: ReadonlyArray<string>
    }
  | { readonly _tag: "Invalid"; readonly field: string; readonly problem: string }

export const staticSubnet = (pool: StaticPool): StaticSubnet => {
  const netmask = pool.ipv4CIDR === undefined ? undefined : cidrToNetmask(pool.ipv4CIDR)
  if (netmask === undefined)
    return {
      _tag: "Invalid",
      field: "spec.ipAllocation.static.ipv4CIDR",
      problem: `'${pool.ipv4CIDR ?? ""}' is not an IPv4 CIDR`
    }
  const gateway = pool.ipv4Gateway === undefined || pool.ipv4Gateway === "" ? undefined : pool.ipv4Gateway
  if (gateway !== undefined && !isIpv4(gateway))
    return { _tag: "Invalid", field: "spec.ipAllocation.static.ipv4Gateway", problem: `'${gateway}' is not IPv4` }
  const bad = pool.dns.find((d) => !isAddress(d))
  if (bad !== undefined)
    return { _tag: "Invalid", field: "spec.ipAllocation.static.dns", problem: `'${bad}' is not an IP address` }
  return { _tag: "Ok", netmask, gateway, dns: pool.dns }
}

/**
 * The first IPv4 address the NetworkConfiguration's status holds for this MAC (compared case-insensitively; a
 * `/prefix` is dropped), or undefined while there is none.
 */
export const allocatedIpv4 = (nc: ObservedNetworkConfiguration, mac: string): string | undefined => {
  const entry = nc.allocated.find((a) => (a.macAddress ?? "").toLowerCase() === mac.toLowerCase())
  return entry?.ipv4Addresses.map((a) => a.split("/")[0]!.trim()).find(isIpv4)
}

/** One statically addressed interface of the guest. */
export interface StaticInterface {
  /** The VM interface's name (the guest NIC is renamed to it, as with the Go operator). */
  readonly name: string
  readonly mac: string
  readonly address: string
}

/** cloud-init network-config version 1, as the Go operator renders it (reference F34). */
export const renderNetworkConfigV1 = (
  interfaces: ReadonlyArray<StaticInterface>,
  subnet: Extract<StaticSubnet, { _tag: "Ok" }>
): string =>
  [
    "version: 1",
    "config:",
    ...interfaces.flatMap((i) => [
      "  - type: physical",
      `    name: ${i.name}`,
      `    mac_address: "${i.mac.toLowerCase()}"`,
      "    subnets:",
      "      - type: static",
      `        address: ${i.address}`,
      `        netmask: ${subnet.netmask}`,
      ...(subnet.gateway === undefined ? [] : [`        gateway: ${subnet.gateway}`]),
      ...(subnet.dns.length === 0 ? [] : ["        dns_nameservers:", ...subnet.dns.map((d) => `          - ${d}`)])
    ]),
    ""
  ].join("\n")
