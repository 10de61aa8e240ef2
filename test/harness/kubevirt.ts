// KubeVirt "installed" on a test cluster: the KubeVirt resource as virt-operator leaves it once deployed (phase
// Deployed, Available), which the operator's health check reads (ADR 0012). The remote gets it at start-up; the
// supervisor (which also serves the KubeVirt CRDs) does not, so it can act as a remote without KubeVirt.
import { deployedKubevirt, KUBEVIRT_NAMESPACE } from "../../src/runtime/standin/kubevirtInstallation.ts"
import { kubectl } from "./kubectl.ts"

export async function installKubevirt(adminKubeconfig: string): Promise<void> {
  const { status, ...kubevirt } = deployedKubevirt()
  const list = {
    apiVersion: "v1",
    kind: "List",
    items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: KUBEVIRT_NAMESPACE } }, kubevirt]
  }
  await kubectl(adminKubeconfig, ["apply", "--server-side", "--field-manager=kcluster-harness", "-f", "-"], {
    input: JSON.stringify(list)
  })
  await kubectl(adminKubeconfig, [
    "patch",
    "kubevirts.kubevirt.io",
    "kubevirt",
    "-n",
    KUBEVIRT_NAMESPACE,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status })
  ])
}
