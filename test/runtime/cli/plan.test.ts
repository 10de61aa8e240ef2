/**
 * The offline `plan` command end to end through its entry function: text and JSON output, exit codes, snapshot
 * input, and bad input reported with the document and the field. Image URLs with credentials are printed masked in
 * both outputs (ADR 0018).
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { TRACE_SCHEMA, traceLine } from "../../../src/domain/decisionTrace.ts"
import { decodePlanSetJson } from "../../../src/domain/Plan.ts"
import { PLANNER_VERSION } from "../../../src/domain/planHash.ts"
import { plan as planMachine } from "../../../src/domain/planner.ts"
import { defaultSettings } from "../../../src/domain/Settings.ts"
import { runPlan } from "../../../src/runtime/cli/plan.ts"
import { aCluster } from "../../fixtures/aCluster.ts"
import { aMachine } from "../../fixtures/aMachine.ts"

const dir = mkdtempSync(join(tmpdir(), "plan-cli-"))
const file = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const run = async (args: Array<string>, env: Record<string, string> = {}) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const code = await runPlan(args, { out: (s) => out.push(s), err: (s) => err.push(s), env })
  return { code, out: out.join("\n"), err: err.join("\n") }
}

const CONFIG = `apiVersion: vitistack.io/v1alpha1
kind: KubevirtConfig
metadata: { name: remote-a }
spec: { name: remote-a, secretNamespace: vitistack, kubeconfigSecretRef: remote-a }
`
const machine = (name: string, ns: string, extra = "") => `---
apiVersion: vitistack.io/v1alpha1
kind: Machine
metadata: { name: ${name}, namespace: ${ns} }
spec:
  provider: kubevirt
${extra}`

describe("plan -f", async () => {
  it("prints Terraform-style lines and the summary, exit 2 when changes are pending", async () => {
    const r = await run(["-f", file("one.yaml", CONFIG + machine("web", "my-app"))])
    assert.strictEqual(r.code, 2)
    assert.include(r.out, "+ EnsureNamespace Namespace my-app @remote-a labels=managed-by:vitistack-kubevirt-operator")
    assert.include(r.out, "+ CreateVirtualMachine VirtualMachine my-app/web @remote-a")
    assert.match(r.out, /Plan: 3 to add, 2 to change, 0 to destroy\.$/)
  })

  it("two Machines in one namespace ensure it once", async () => {
    const r = await run(["-f", file("two.yaml", CONFIG + machine("web", "shared") + machine("db", "shared"))])
    assert.strictEqual(r.out.split("\n").filter((l) => l.includes("EnsureNamespace")).length, 1)
  })

  it("--output json decodes back to the same plan as the text describes", async () => {
    const r = await run(["-f", file("j.yaml", CONFIG + machine("web", "default")), "-o", "json"])
    const decoded = decodePlanSetJson(JSON.parse(r.out))
    assert.deepStrictEqual(
      decoded.plans[0]?.actions.map((a) => a._tag),
      ["AddFinalizer", "PersistPlacement", "CreatePvc", "CreateVirtualMachine"]
    )
  })

  it("an image URL's credentials are masked in the text and in the JSON (which decodes, with the masked URL)", async () => {
    const url = "https://robot:Zqpassw0rd@b.s3.example/noble.qcow2?X-Amz-Expires=600&X-Amz-Signature=Zqsig"
    const shown = "https://[redacted]:[redacted]@b.s3.example/noble.qcow2?X-Amz-Expires=600&X-Amz-Signature=[redacted]"
    const m = machine(
      "web",
      "default",
      `  os: { imageID: "${url}" }\n  disks: [{ name: root, sizeGB: 20, boot: true }]\n`
    )
    const f = file("secret.yaml", CONFIG + m)
    const text = await run(["-f", f])
    assert.include(text.out, `image=${shown}`)
    const json = await run(["-f", f, "-o", "json"])
    for (const out of [text.out, json.out]) for (const secret of ["Zqpassw0rd", "Zqsig"]) assert.notInclude(out, secret)
    const dv = decodePlanSetJson(JSON.parse(json.out)).plans[0]?.actions.find((a) => a._tag === "CreateDataVolume")
    assert.deepStrictEqual(dv?._tag === "CreateDataVolume" ? dv.after.source : undefined, { _tag: "Http", url: shown })
  })

  it("exit 0 when the snapshot already holds everything (converged, placed Machine)", async () => {
    const placed = `---
apiVersion: vitistack.io/v1alpha1
kind: Machine
metadata:
  name: web
  namespace: default
  finalizers: [machine.vitistack.io/finalizer]
  annotations: { vitistack.io/kubevirt-config: remote-a }
spec: { provider: kubevirt }
`
    const json = await run(["-f", file("p.yaml", CONFIG + placed), "-o", "json"])
    assert.strictEqual(json.code, 2)
    // Build the snapshot from what the plan would create, rendered as the remote objects.
    const snapshot = `apiVersion: v1
kind: Namespace
metadata: { name: default }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: web, namespace: default, resourceVersion: "3", labels: { managed-by: vitistack-kubevirt-operator, source-machine: web } }
spec: { accessModes: [ReadWriteMany], volumeMode: Block, resources: { requests: { storage: 10Gi } } }
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: { name: web, namespace: default, resourceVersion: "4", labels: { managed-by: vitistack-kubevirt-operator, source-machine: web } }
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        cpu: { cores: 2, sockets: 1, threads: 1, model: host-model, features: [{ name: ht, policy: disable }] }
        memory: { guest: 2Gi }
        devices: { disks: [{ name: root, disk: { bus: virtio }, bootOrder: 1 }] }
      volumes: [{ name: root, persistentVolumeClaim: { claimName: web } }]
`
    const r = await run(["-f", file("p2.yaml", CONFIG + placed), "--observed", file("snap.yaml", snapshot)])
    assert.strictEqual(r.code, 0, r.out)
    assert.include(r.out, "(no changes)")
    assert.include(r.out, "Plan: 0 to add, 0 to change, 0 to destroy.")
  })

  it("a Machine the planner cannot satisfy exits 1 and names the field", async () => {
    const r = await run(["-f", file("bad.yaml", CONFIG + machine("web", "default", "  machineClass: nope\n"))])
    assert.strictEqual(r.code, 1)
    assert.include(r.out, "! Error MachineClassNotFound [spec.machineClass]: MachineClass 'nope' does not exist")
  })

  it("a malformed document exits 1 naming the file, document, object and field", async () => {
    const p = file("malformed.yaml", CONFIG + machine("web", "default", "  cpu: { cores: many }\n"))
    const r = await run(["-f", p])
    assert.strictEqual(r.code, 1)
    assert.include(r.err, `${p}#1 (Machine default/web): spec.cpu.cores: Expected number`)
  })

  it("unreadable input, unknown flags and mixed modes exit 1 with a message", async () => {
    assert.include((await run(["--kubeconfig", "k", "-f", "x"])).err, "use either -f or --kubeconfig")
    assert.include((await run(["--kubeconfig", "k"])).err, "give one NAMESPACE/NAME or --all")
    assert.include((await run(["--kubeconfig", join(dir, "nope"), "--all"])).err, "cannot read kubeconfig")
    assert.include((await run(["-f", join(dir, "missing.yaml")])).err, "missing.yaml: cannot read")
    assert.strictEqual((await run(["--frobnicate"])).code, 1)
    assert.include((await run(["-f", file("y.yaml", "a: [")])).err, "not valid YAML/JSON")
  })

  it("hostile YAML (an alias bomb, deep nesting, a bad second document) exits 1 naming the file and document", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for (let i = 1; i < 9; i++)
      levels.push(
        `l${i}: &l${i} [${Array(10)
          .fill(i === 1 ? "*a" : `*l${i - 1}`)
          .join(", ")}]`
      )
    const bomb = file("bomb.yaml", `${CONFIG}---\n${levels.join("\n")}\n`)
    const r = await run(["-f", bomb])
    assert.strictEqual(r.code, 1)
    assert.include(r.err, `${bomb}#1: not valid YAML/JSON`)
    assert.include(r.err, "aliases")
    const deep = file("deep.yaml", `${"[".repeat(200)}${"]".repeat(200)}\n`)
    assert.include((await run(["-f", deep])).err, `${deep}#0: not valid YAML/JSON: nesting exceeded`)
    const second = file("second.yaml", `${CONFIG}---\nkind: Machine\nmetadata: {name: [\n`)
    const r2 = await run(["-f", second])
    assert.strictEqual(r2.code, 1)
    assert.include(r2.err, `${second}#1: not valid YAML/JSON`)
  })

  it("values that slip through (issue 'Hardening', item 5) exit 1 naming file, document and field; nothing planned", async () => {
    const cls = (quantity: string) =>
      `---\napiVersion: vitistack.io/v1alpha1\nkind: MachineClass\nmetadata: { name: odd }\nspec: { enabled: true, cpu: { cores: 2 }, memory: { quantity: "${quantity}" } }\n`
    for (const q of ["1e400", "-2Gi"]) {
      const r = await run([
        "-f",
        file(`q${q}.yaml`, CONFIG + cls(q) + machine("web", "default", "  machineClass: odd\n"))
      ])
      assert.strictEqual(r.code, 1, q)
      assert.include(r.out, `! Error InvalidMachineClass [spec.machineClass]: MachineClass 'odd' spec.memory.quantity:`)
      assert.notInclude(r.out, "CreateVirtualMachine")
    }
    const huge = await run(["-f", file("mem.yaml", CONFIG + machine("web", "default", "  memory: 1e308\n"))])
    assert.strictEqual(huge.code, 1)
    assert.include(huge.out, "! Error InvalidMemory [spec.memory]")
    assert.notInclude(huge.out, "CreateVirtualMachine")

    const foreign = file(
      "capi.yaml",
      `${CONFIG}---\napiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata: { name: web }\nspec: {}\n`
    )
    const f = await run(["-f", foreign])
    assert.strictEqual(f.code, 1)
    assert.include(f.err, `${foreign}#1 (Machine web): apiVersion: 'cluster.x-k8s.io/v1beta1'`)
    assert.strictEqual(f.out, "")

    const twice = file("twice.yaml", CONFIG + machine("web", "default") + machine("web", "default"))
    const t = await run(["-f", twice])
    assert.strictEqual(t.code, 1)
    assert.include(t.err, `${twice}#2 (Machine default/web): duplicate of ${twice}#1`)
    assert.strictEqual(t.out, "")
  })

  it("two Machines whose PVC names collide (a with disk b, and a-b): an Error on both naming the fields, no remote action", async () => {
    const r = await run([
      "-f",
      file(
        "collide.yaml",
        CONFIG +
          machine("a", "team", "  disks: [{ name: root, sizeGB: 10, boot: true }, { name: b, sizeGB: 5 }]\n") +
          machine("a-b", "team") +
          machine("c", "team")
      ),
      "-o",
      "json"
    ])
    assert.strictEqual(r.code, 1)
    const plans = decodePlanSetJson(JSON.parse(r.out)).plans
    const byName = (n: string) => plans.find((p) => p.machine.name === n)!
    for (const [n, field] of [
      ["a", "spec.disks[1].name"],
      ["a-b", "metadata.name"]
    ] as const) {
      assert.deepStrictEqual(
        byName(n)
          .diagnostics.filter((d) => d.severity === "Error")
          .map((d) => [d.reason, d.field]),
        [["PvcNameCollision", field]]
      )
      assert.deepStrictEqual(
        byName(n).actions.map((a) => a._tag),
        ["AddFinalizer"]
      )
    }
    // The Machine that collides with nobody is planned, and it ensures the namespace the blocked ones did not.
    assert.deepStrictEqual(
      byName("c").actions.map((a) => a._tag),
      ["AddFinalizer", "PersistPlacement", "EnsureNamespace", "CreatePvc", "CreateVirtualMachine"]
    )
  })

  it("tenancy from the KubevirtConfig's annotations: an outside namespace exits 1; a selector reads the Namespace documents", async () => {
    const restricted = (annotations: string) => `apiVersion: vitistack.io/v1alpha1
kind: KubevirtConfig
metadata: { name: remote-a, annotations: { ${annotations} } }
spec: { name: remote-a, secretNamespace: vitistack, kubeconfigSecretRef: remote-a }
`
    const listed = await run([
      "-f",
      file("t1.yaml", restricted(`vitistack.io/allowed-namespaces: "team-a"`) + machine("web", "team-b"))
    ])
    assert.strictEqual(listed.code, 1)
    assert.include(
      listed.out,
      "! Error NamespaceNotAllowed [metadata.namespace]: namespace 'team-b' may not use KubevirtConfig 'remote-a'"
    )
    assert.notInclude(listed.out, "EnsureNamespace")
    const selector = restricted(`vitistack.io/allowed-namespace-selector: "tenant=blue"`)
    const ns = (labels: string) =>
      `---\napiVersion: v1\nkind: Namespace\nmetadata: { name: team-b, labels: { ${labels} } }\n`
    const blue = await run(["-f", file("t2.yaml", selector + ns("tenant: blue") + machine("web", "team-b"))])
    assert.strictEqual(blue.code, 2, blue.out)
    const red = await run(["-f", file("t3.yaml", selector + ns("tenant: red") + machine("web", "team-b"))])
    assert.strictEqual(red.code, 1)
    const unknown = await run(["-f", file("t4.yaml", selector + machine("web", "team-b"))])
    assert.include(unknown.out, "TenancyUnknown")
    assert.include(unknown.out, "no Namespace document 'team-b' was given")
  })

  it("instanceType is accepted as machineClass with a warning", async () => {
    const cls =
      "---\napiVersion: vitistack.io/v1alpha1\nkind: MachineClass\nmetadata: { name: small }\nspec: { enabled: true, cpu: { cores: 3 }, memory: { quantity: 4Gi } }\n"
    const r = await run(["-f", file("it.yaml", CONFIG + cls + machine("web", "default", "  instanceType: small\n"))])
    assert.strictEqual(r.code, 2)
    assert.include(r.out, "cpu=3x1x1 memory=4Gi")
    assert.include(r.out, "Warning InstanceTypeAlias")
  })

  it("settings come from the Go operator's variables; a bad value is an error naming it", async () => {
    const p = file("env.yaml", CONFIG + machine("web", "default"))
    assert.include(
      (await run(["-f", p], { PVC_VOLUME_MODE: "Filesystem", STORAGE_CLASS_NAME: "fast" })).out,
      "volumeMode=Filesystem accessModes=ReadWriteMany storageClass=fast"
    )
    assert.include((await run(["-f", p], { PVC_ACCESS_MODE: "Sometimes" })).err, "PVC_ACCESS_MODE=Sometimes")
  })

  it("--adopt-go-operator (or ADOPT_GO_OPERATOR): the Go operator's objects in the snapshot are adopted, not a clash", async () => {
    const placed = `---
apiVersion: vitistack.io/v1alpha1
kind: Machine
metadata:
  name: web
  namespace: default
  finalizers: [machine.vitistack.io/finalizer]
  annotations: { vitistack.io/kubevirt-config: remote-a }
spec: { provider: kubevirt }
`
    const go = "{ vitistack.io/managed-by: kubevirt-operator, vitistack.io/source-machine: web }"
    const snapshot = file(
      "go.yaml",
      `apiVersion: v1
kind: Namespace
metadata: { name: default }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: web, namespace: default, resourceVersion: "3", labels: ${go} }
spec: { accessModes: [ReadWriteMany], volumeMode: Block, resources: { requests: { storage: 10Gi } } }
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: { name: web, namespace: default, resourceVersion: "4", labels: ${go} }
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        cpu: { cores: 2, sockets: 1, threads: 1, model: host-model }
        memory: { guest: 2Gi }
        devices: { disks: [{ name: root, disk: { bus: virtio }, bootOrder: 1 }] }
      volumes: [{ name: root, persistentVolumeClaim: { claimName: web } }]
`
    )
    const machines = file("go-m.yaml", CONFIG + placed)
    const off = await run(["-f", machines, "--observed", snapshot])
    assert.strictEqual(off.code, 1)
    assert.include(off.out, "NameClash")
    for (const r of [
      await run(["-f", machines, "--observed", snapshot, "--adopt-go-operator"]),
      await run(["-f", machines, "--observed", snapshot], { ADOPT_GO_OPERATOR: "true" })
    ]) {
      assert.strictEqual(r.code, 2, r.err)
      assert.include(
        r.out,
        "~ AdoptVirtualMachine VirtualMachine default/web @remote-a labels +managed-by=vitistack-kubevirt-operator,+source-machine=web"
      )
      assert.include(r.out, "~ AdoptPvc PersistentVolumeClaim default/web @remote-a")
      assert.include(
        r.out,
        "! Info AdoptionFollowUp: once adopted, VirtualMachine default/web is patched like any of ours"
      )
      assert.match(r.out, /Plan: 0 to add, 2 to change, 0 to destroy\.$/)
    }
  })

  it("the shipped examples plan cleanly (exit 2, no errors)", async () => {
    const r = await run(["-f", "examples/"])
    assert.strictEqual(r.code, 2, r.err)
    assert.notInclude(r.out, "! Error")
    // The cloud-image example's cloud-init Secret: shown as a digest and a size, never its content, in text or JSON.
    assert.match(
      r.out,
      /CreateSecret Secret default\/web-cloud-cloudinit @kubevirt-provider kind=NoCloud userdata=sha256:[0-9a-f]{8} \(\d+ B\)/
    )
    // The VLAN example (ADR 0013): its network and MAC, recorded in its NetworkConfiguration; against a fresh remote
    // the VM waits for the NAD.
    assert.match(
      r.out,
      /\+ CreateNetworkConfiguration NetworkConfiguration team-vlan\/vlan-vm name=vlan-vm networkNamespace=team-vlan\/vlan-2101 interfaces=vlan2101=02:12(:[0-9a-f]{2}){4}/
    )
    assert.include(
      r.out,
      "Warning NetworkAttachmentMissing [spec.network.networkNamespaceName]: NetworkAttachmentDefinition team-vlan/vlan2101"
    )
    const json = await run(["-f", "examples/", "-o", "json"])
    for (const text of [r.out, json.out]) {
      assert.notInclude(text, "systemctl enable")
      assert.notInclude(text, "ExampleKeyOnlyForTheExampleFile")
    }
  })
})

describe("plan --replay", () => {
  const traceFile = (name: string, lines: ReadonlyArray<string>) => file(name, `${lines.join("\n")}\n`)
  const recorded = () => {
    const machine = aMachine().build()
    const observed = aCluster().build(machine)
    return traceLine({
      schema: TRACE_SCHEMA,
      machine: "default/vm-a",
      plannerVersion: PLANNER_VERSION,
      input: { machine, observed, settings: defaultSettings, now: "2026-12-01T00:00:00Z" },
      plan: planMachine({ machine, observed, settings: defaultSettings }),
      timings: { observe: 1, plan: 0, execute: 1, total: 2 }
    })
  }

  it("a trace the planner recorded replays with zero differences: exit 0", async () => {
    const r = await run(["--replay", traceFile("same.jsonl", [recorded(), recorded()])])
    assert.strictEqual(r.code, 0)
    assert.include(r.out, "Machine default/vm-a: 2 decision(s), all the same")
    assert.match(r.out, /Replay: 2 decision\(s\), 0 differ\.$/)
  })

  it("a decision that differs is listed under its Machine: exit 2; JSON says the same", async () => {
    const t = JSON.parse(recorded())
    // As if an older planner had planned nothing for it.
    const edited = JSON.stringify({ ...t, plan: { ...t.plan, actions: [] } })
    const path = traceFile("diff.jsonl", [recorded(), edited])
    const r = await run(["--replay", path])
    assert.strictEqual(r.code, 2)
    assert.include(r.out, "Machine default/vm-a: 2 decision(s), 1 differ")
    assert.include(r.out, "+ + CreateVirtualMachine VirtualMachine default/vm-a @remote-a")
    const j = await run(["--replay", path, "-o", "json"])
    assert.strictEqual(JSON.parse(j.out).differing, 1)
  })

  it("a line of another schema version is an error naming the line: exit 1", async () => {
    const bad = JSON.stringify({ ...JSON.parse(recorded()), schema: "kubevirt-operator/decision-trace/v9" })
    const r = await run(["--replay", traceFile("bad.jsonl", [recorded(), bad])])
    assert.strictEqual(r.code, 1)
    assert.include(r.err, "bad.jsonl:2: schema")
  })
})
