/**
 * The shipped manifests: the CRDs under deploy/crds are exactly the shared upstream ones (no drift), and the
 * Deployment runs non-root with probes on the health endpoints.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { loadAll } from "js-yaml"

const docs = (path: string) => loadAll(readFileSync(path, "utf8")) as Array<Record<string, any>>

describe("deploy/", () => {
  it.each(["machines.vitistack.io.yaml", "kubevirtconfigs.vitistack.io.yaml", "machineclasses.vitistack.io.yaml"])(
    "crds/%s equals the shared CRD",
    (f) => assert.strictEqual(readFileSync(`deploy/crds/${f}`, "utf8"), readFileSync(`../shared/crds/${f}`, "utf8"))
  )
  it("the Deployment runs as non-root, read-only, without privilege escalation, with liveness and readiness probes", () => {
    const d = docs("deploy/deployment.yaml").find((x) => x.kind === "Deployment")!
    const pod = d.spec.template.spec
    const c = pod.containers[0]
    assert.isTrue(pod.securityContext.runAsNonRoot)
    assert.deepStrictEqual(
      [
        c.securityContext.readOnlyRootFilesystem,
        c.securityContext.allowPrivilegeEscalation,
        c.securityContext.capabilities.drop
      ],
      [true, false, ["ALL"]]
    )
    assert.deepStrictEqual([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ["/healthz", "/readyz"])
    assert.include(c.args, "--leader-elect")
  })
})
