/** Static IPs (ADR 0013, reference F34): netmasks from CIDRs, the pool's checks, the address for a MAC, the render. */
import { assert, describe, it } from "@effect/vitest"
import { allocatedIpv4, cidrToNetmask, renderNetworkConfigV1, staticSubnet } from "../../src/domain/staticIp.ts"

describe("staticIp", () => {
  it.each([
    ["10.0.1.0/24", "255.255.255.0"],
    ["10.0.0.0/8", "255.0.0.0"],
    ["192.168.4.0/22", "255.255.252.0"],
    ["10.1.2.3/32", "255.255.255.255"],
    ["0.0.0.0/0", "0.0.0.0"],
    ["10.0.1.0/33", undefined],
    ["10.0.1/24", undefined],
    ["fd00::/64", undefined]
  ])("%s -> %s", (cidr, mask) => assert.strictEqual(cidrToNetmask(cidr), mask))

  it("the pool is checked before anything of it reaches YAML", () => {
    assert.deepStrictEqual(
      staticSubnet({ ipv4CIDR: "10.0.1.0/24", ipv4Gateway: "10.0.1.1", dns: ["1.1.1.1", "fd00::53"] }),
      {
        _tag: "Ok",
        netmask: "255.255.255.0",
        gateway: "10.0.1.1",
        dns: ["1.1.1.1", "fd00::53"]
      }
    )
    assert.strictEqual(
      staticSubnet({ ipv4CIDR: "10.0.1.0/24", ipv4Gateway: "x\ninjected: 1", dns: [] })._tag,
      "Invalid"
    )
    assert.strictEqual(staticSubnet({ ipv4CIDR: "10.0.1.0/24", ipv4Gateway: "10.0.1.1", dns: ["a b"] })._tag, "Invalid")
    assert.strictEqual(staticSubnet({ ipv4Gateway: "10.0.1.1", dns: [] })._tag, "Invalid")
  })

  it("the first IPv4 the status holds for the MAC (case-insensitive, /prefix dropped); none for another MAC", () => {
    const nc = {
      name: "vm",
      labels: {},
      machineOwners: [],
      resourceVersion: "1",
      interfaces: [],
      allocated: [
        { macAddress: "02:12:AA:BB:CC:DD", ipv4Addresses: ["not-an-ip", "10.0.1.5/24", "10.0.1.6"], ipv6Addresses: [] }
      ],
      deleting: false
    }
    assert.strictEqual(allocatedIpv4(nc, "02:12:aa:bb:cc:dd"), "10.0.1.5")
    assert.isUndefined(allocatedIpv4(nc, "02:12:aa:bb:cc:de"))
  })

  it("renders network-config v1 without gateway or DNS when the pool has none", () => {
    assert.strictEqual(
      renderNetworkConfigV1([{ name: "eth0", mac: "02:12:AA:00:00:01", address: "10.0.0.2" }], {
        _tag: "Ok",
        netmask: "255.255.0.0",
        gateway: undefined,
        dns: []
      }),
      'version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: "02:12:aa:00:00:01"\n    subnets:\n      - type: static\n        address: 10.0.0.2\n        netmask: 255.255.0.0\n'
    )
  })
})
