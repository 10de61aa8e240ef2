// Smoke test of the real-apiserver harness: RBAC from deploy/rbac is enforced, tokens rotate,
// the controller-manager finalizes namespaces, and every shared CRD is Established.
import { randomBytes } from "node:crypto"
import { describe, expect, inject, it } from "vitest"
import { crdFiles } from "../harness/crds.ts"
import { type KubectlResult, runKubectl } from "../harness/kubectl.ts"

const clusters = inject("clusters")

const k = (kubeconfig: string, args: readonly string[]): Promise<KubectlResult> =>
  runKubectl(clusters.kubectl, kubeconfig, args, { check: false })

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString("hex")}`

const expectForbidden = (r: KubectlResult): void => {
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/forbidden/i)
}

describe("remote cluster: operator is least-privilege on namespaces", () => {
  const { remote } = clusters

  it("may create a namespace", async () => {
    const ns = unique("rbac-create")
    const r = await k(remote.operatorKubeconfig, ["create", "namespace", ns])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const got = await k(remote.operatorKubeconfig, ["get", "namespace", ns, "-o", "jsonpath={.metadata.name}"])
    expect(got.stdout).toBe(ns)
  })

  it("may not delete a namespace", async () => {
    const ns = unique("rbac-delete")
    expect((await k(remote.operatorKubeconfig, ["create", "namespace", ns])).code).toBe(0)
    expectForbidden(await k(remote.operatorKubeconfig, ["delete", "namespace", ns, "--wait=false"]))
    // still there
    expect((await k(remote.adminKubeconfig, ["get", "namespace", ns])).code).toBe(0)
  })

  it("may not label or patch a namespace", async () => {
    const ns = unique("rbac-patch")
    expect((await k(remote.operatorKubeconfig, ["create", "namespace", ns])).code).toBe(0)
    expectForbidden(await k(remote.operatorKubeconfig, ["label", "namespace", ns, "owner=operator"]))
    expectForbidden(
      await k(remote.operatorKubeconfig, [
        "patch",
        "namespace",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"annotations":{"a":"b"}}}'
      ])
    )
    const cani = await k(remote.operatorKubeconfig, ["auth", "can-i", "update", "namespaces"])
    expect(cani.stdout.trim()).toBe("no")
  })

  it("may manage VirtualMachines, PVCs, DataVolumes and Secrets by name, but only read VMIs and never list Secrets", async () => {
    const can = async (verb: string, resource: string): Promise<string> =>
      (await k(remote.operatorKubeconfig, ["auth", "can-i", verb, resource, "-n", "default"])).stdout.trim()
    expect(await can("delete", "virtualmachines.kubevirt.io")).toBe("yes")
    expect(await can("create", "persistentvolumeclaims")).toBe("yes")
    expect(await can("watch", "virtualmachineinstances.kubevirt.io")).toBe("yes")
    expect(await can("delete", "virtualmachineinstances.kubevirt.io")).toBe("no")
    expect(await can("create", "network-attachment-definitions.k8s.cni.cncf.io")).toBe("no")
    expect(await can("update", "virtualmachines.kubevirt.io")).toBe("no")
    expect(await can("update", "persistentvolumeclaims")).toBe("no")
    expect(await can("create", "datavolumes.cdi.kubevirt.io")).toBe("yes")
    // Patch: only to add our labels to the Go operator's ISO DataVolume (ADR 0014); still no update.
    expect(await can("patch", "datavolumes.cdi.kubevirt.io")).toBe("yes")
    expect(await can("update", "datavolumes.cdi.kubevirt.io")).toBe("no")
    expect(await can("list", "storageprofiles.cdi.kubevirt.io")).toBe("yes")
    // The cloud-init Secret: by name only. The remote identity can never enumerate the cluster's Secrets.
    expect(await can("create", "secrets")).toBe("yes")
    expect(await can("get", "secrets")).toBe("yes")
    expect(await can("list", "secrets")).toBe("no")
    expect(await can("watch", "secrets")).toBe("no")
  })

  it("may read KubeVirt resources for the health check (ADR 0012), not change them", async () => {
    const can = async (verb: string): Promise<string> =>
      (
        await k(remote.operatorKubeconfig, ["auth", "can-i", verb, "kubevirts.kubevirt.io", "--all-namespaces"])
      ).stdout.trim()
    expect(await can("list")).toBe("yes")
    expect(await can("patch")).toBe("no")
    expect(await can("delete")).toBe("no")
  })
})

describe("supervisor cluster: operator role", () => {
  const { supervisor } = clusters

  it("may read Machines and patch their status, but not create namespaces or delete Machines", async () => {
    const can = async (verb: string, resource: string, sub?: string): Promise<string> =>
      (
        await k(supervisor.operatorKubeconfig, [
          "auth",
          "can-i",
          verb,
          resource,
          "-n",
          "default",
          ...(sub !== undefined ? [`--subresource=${sub}`] : [])
        ])
      ).stdout.trim()
    expect(await can("watch", "machines.vitistack.io")).toBe("yes")
    expect(await can("patch", "machines.vitistack.io", "status")).toBe("yes")
    expect(await can("delete", "machines.vitistack.io")).toBe("no")
    expect(await can("create", "leases.coordination.k8s.io")).toBe("yes")
    expect(await can("list", "secrets")).toBe("yes")
    expect(await can("create", "secrets")).toBe("no")
    // Vitistack networking (ADR 0013): NetworkNamespaces read; NetworkConfigurations created and patched, never
    // updated or deleted (the garbage collector deletes them with their Machine).
    expect(await can("watch", "networknamespaces.vitistack.io")).toBe("yes")
    expect(await can("create", "networknamespaces.vitistack.io")).toBe("no")
    expect(await can("list", "networkconfigurations.vitistack.io")).toBe("yes")
    expect(await can("create", "networkconfigurations.vitistack.io")).toBe("yes")
    expect(await can("patch", "networkconfigurations.vitistack.io")).toBe("yes")
    expect(await can("update", "networkconfigurations.vitistack.io")).toBe("no")
    expect(await can("delete", "networkconfigurations.vitistack.io")).toBe("no")
    expect(await can("patch", "networkconfigurations.vitistack.io", "status")).toBe("no")
    expectForbidden(await k(supervisor.operatorKubeconfig, ["create", "namespace", unique("sup")]))
  })

  it("may create its MachineProvider and write its status, read Vitistacks, and change neither otherwise", async () => {
    const can = async (verb: string, resource: string, sub?: string): Promise<string> =>
      (
        await k(supervisor.operatorKubeconfig, [
          "auth",
          "can-i",
          verb,
          resource,
          ...(sub !== undefined ? [`--subresource=${sub}`] : [])
        ])
      ).stdout.trim()
    expect(await can("create", "machineproviders.vitistack.io")).toBe("yes")
    expect(await can("patch", "machineproviders.vitistack.io", "status")).toBe("yes")
    expect(await can("patch", "machineproviders.vitistack.io")).toBe("no")
    expect(await can("delete", "machineproviders.vitistack.io")).toBe("no")
    expect(await can("get", "vitistacks.vitistack.io")).toBe("yes")
    expect(await can("update", "vitistacks.vitistack.io")).toBe("no")
  })
})

describe("credentials", () => {
  it("rotated token authenticates as the same user; tokens do not cross clusters", async () => {
    const whoami = async (kc: string): Promise<KubectlResult> =>
      k(kc, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])
    for (const c of [clusters.supervisor, clusters.remote]) {
      expect((await whoami(c.operatorKubeconfig)).stdout).toBe("operator")
      expect((await whoami(c.operatorRotatedKubeconfig)).stdout).toBe("operator")
      expect(c.operatorTokens.primary).not.toBe(c.operatorTokens.rotated)
    }
    // the remote's token against the supervisor's server: 401
    const r = await k(clusters.remote.operatorKubeconfig, [
      "get",
      "namespaces",
      `--server=${clusters.supervisor.server}`,
      "--insecure-skip-tls-verify=true",
      "--certificate-authority="
    ])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/Unauthorized|must be logged in|provide credentials/i)
  })
})

describe("control plane", () => {
  it("kube-controller-manager finalizes deleted namespaces", async () => {
    const { remote } = clusters
    const ns = unique("kcm")
    expect((await k(remote.adminKubeconfig, ["create", "namespace", ns])).code).toBe(0)
    const del = await k(remote.adminKubeconfig, ["delete", "namespace", ns, "--timeout=90s"])
    expect(del.stderr).toBe("")
    expect(del.code).toBe(0)
    const gone = await k(remote.adminKubeconfig, ["get", "namespace", ns])
    expect(gone.stderr).toMatch(/NotFound|not found/)
  }, 120_000)

  it("every shared CRD is Established on both clusters", async () => {
    const expected = crdFiles()
      .map((f) => f.replace(/^.*\//, "").replace(/\.ya?ml$/, ""))
      .sort()
    expect(expected.length).toBeGreaterThan(0)
    expect([...clusters.crds].sort()).toEqual(expected)
    for (const c of [clusters.supervisor, clusters.remote]) {
      const r = await k(c.adminKubeconfig, ["get", "crd", "-o", "json"])
      expect(r.code).toBe(0)
      const list = JSON.parse(r.stdout) as {
        items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[]
      }
      const established = list.items
        .filter((i) => i.status?.conditions?.some((cond) => cond.type === "Established" && cond.status === "True"))
        .map((i) => i.metadata.name)
        .sort()
      expect(established).toEqual(expect.arrayContaining(expected))
    }
  })
})
