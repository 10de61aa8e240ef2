/**
 * `run --embedded` (the `npm start` default) end to end on the shipped examples, in real time: it prints the plans,
 * a table, and exits 0 once every Machine is Running.
 */
import { assert, describe, it } from "@effect/vitest"
import { runRun } from "../../../src/runtime/cli/run.ts"

const run = async (args: Array<string>) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const code = await runRun(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: {} })
  return { code, out: out.join("\n"), err: err.join("\n") }
}

describe("run --embedded", () => {
  it("brings every example Machine to Running and exits 0", { timeout: 60_000 }, async () => {
    const r = await run(["--embedded", "-f", "examples/", "--timeout", "45"])
    assert.strictEqual(r.code, 0, r.err)
    assert.include(r.out, "Plan: 29 to add, 22 to change, 0 to destroy.")
    // The custom-network example: its NAD is on the embedded remote, so the VM is planned with it and runs.
    assert.include(r.out, "disks=lan-vm networks=pod,lan=vlan100")
    assert.include(r.out, "disks=test-vm boot=disk,network  (VirtualMachine absent)")
    assert.match(r.out, /default\s+lan-vm\s+Running\s+Running\s+10\.244\./)
    assert.match(r.out, /NAMESPACE\s+NAME\s+PHASE\s+STATE\s+IPS/)
    assert.match(r.out, /my-app\s+app-vm\s+Running\s+Running\s+10\.244\./)
    // The boot examples: the cloud image and the ISO are imported (the CDI stand-in), then their VMs run.
    assert.include(r.out, "importing boot image")
    assert.match(r.out, /default\s+web-cloud\s+Running\s+Running\s+10\.244\./)
    assert.match(r.out, /default\s+debian-install\s+Running\s+Running\s+10\.244\./)
    // The VLAN example (ADR 0013): its NetworkConfiguration records the MAC the VM gets on vlan2101, and it runs.
    const mac =
      /CreateNetworkConfiguration NetworkConfiguration team-vlan\/vlan-vm .*interfaces=vlan2101=(02:12(?::[0-9a-f]{2}){4})/.exec(
        r.out
      )?.[1]
    assert.isDefined(mac)
    assert.include(r.out, `networks=vlan2101=vlan2101[${mac}]`)
    assert.match(r.out, /team-vlan\s+vlan-vm\s+Running\s+Running\s+10\.244\./)
    assert.include(r.out, "All 11 Machines are Running. Remote: kubevirt-provider: 9 namespaces, 14 PVCs, 11 VMs.")
  })

  it("refuses input without a KubevirtConfig, and bad live flags", async () => {
    assert.strictEqual((await run(["--embedded", "-f", "examples/machine-default-namespace.yaml"])).code, 1)
    assert.include((await run(["--workers", "0"])).err, "--workers must be a positive integer")
  })
})
