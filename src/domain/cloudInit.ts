/**
 * Cloud-init delivery (ADR 0010): the payload (`cloudInitPayload.ts`) goes into a remote Secret
 * `<machine>-cloudinit` with our labels and the payload's digest as an annotation; the VM's cloud-init volume names
 * the Secret, never the content. The step creates the Secret before the VM, patches it when the digest changes (the
 * guest sees it after a restart), and deletes it after the disks on Machine deletion. It is not watched: the remote
 * identity may not list or watch Secrets (least privilege), so a change by someone else is seen at the next
 * reconcile (a resync at the latest). Domain layer: pure.
 */
import type { Action } from "./Action.ts"
import type { CloudInitSecretSpec, ObservedSecret } from "./CloudInitSecretSpec.ts"
import type { PayloadSummary } from "./cloudInitPayload.ts"
import { advisory, error, info, waiting } from "./Diagnostic.ts"
import { isOwnedBy, ownerAnnotations, ownerLabels } from "./labels.ts"
import { isDeleting, type Machine } from "./Machine.ts"
import { CLOUD_INIT_DIGEST_ANNOTATION, observeSecret } from "./manifests/CloudInitSecret.ts"
import { refKey, refOf } from "./ObjectRef.ts"
import { getOne, type Reads } from "./reads.ts"
import { shortHash } from "./shortHash.ts"
import { halted, nothing, type RemoteStep, type StepResult } from "./step.ts"

const SUFFIX = "-cloudinit"

/** `<machine>-cloudinit`; a Machine name too long for the suffix keeps a prefix and a hash of the full name. */
export const cloudInitSecretName = (machineName: string): string =>
  machineName.length + SUFFIX.length <= 253
    ? `${machineName}${SUFFIX}`
    : `${machineName.slice(0, 253 - SUFFIX.length - 9).replace(/[-.]+$/, "")}-${shortHash(machineName)}${SUFFIX}`

/**
 * The Machine asks for cloud-init in any form (the CRD's block, SSH keys, the legacy user data), or its
 * NetworkNamespace is static (`staticIp`: the network-config goes into a cloud-init Secret, ADR 0013).
 */
export const hasCloudInit = (m: Machine, staticIp = false): boolean =>
  staticIp ||
  m.spec.cloudInit !== undefined ||
  (m.spec.sshKeys ?? []).some((k) => k.trim() !== "") ||
  (m.spec.userData ?? "") !== ""

/** The desired Secret for a payload: digests and sizes only. */
export const cloudInitSecretSpec = (machine: Machine, payload: PayloadSummary): CloudInitSecretSpec => ({
  name: cloudInitSecretName(machine.metadata.name),
  namespace: machine.metadata.namespace,
  labels: ownerLabels(machine.metadata.name),
  annotations: { ...ownerAnnotations(machine.metadata.name), [CLOUD_INIT_DIGEST_ANNOTATION]: payload.digest },
  kind: payload.kind,
  digest: payload.digest,
  userdata: payload.summary.userdata,
  ...(payload.summary.networkdata === undefined ? {} : { networkdata: payload.summary.networkdata })
})

/** The cloud-init Secret is read for a Machine with cloud-init, and on deletion; undefined otherwise. */
export const cloudInitSecretReads = (machine: Machine, staticIp = false): Reads<ObservedSecret> | undefined =>
  hasCloudInit(machine, staticIp) || isDeleting(machine)
    ? getOne(refOf("Secret", cloudInitSecretName(machine.metadata.name), machine.metadata.namespace), observeSecret)
    : undefined

export const cloudInitStep: RemoteStep = {
  scope: "remote",
  name: "cloudInit",
  converge: ({ machine: m, cluster, remote, desired }): StepResult => {
    const want = desired.cloudInit
    if (want === undefined) return nothing
    const ns = m.metadata.namespace
    const target = refOf("Secret", want.name, ns)
    const fact = remote.cloudInitSecret ?? {
      _tag: "Unknown" as const,
      reason: "the cloud-init Secret was not observed"
    }
    switch (fact._tag) {
      case "Unknown":
        return halted(
          waiting("CloudInitSecretUnknown", `cannot read Secret ${ns}/${want.name} on '${cluster}': ${fact.reason}`)
        )
      case "Absent":
        return {
          actions: [{ _tag: "CreateSecret", cluster, target, after: want, reason: "cloud-init Secret absent" }],
          diagnostics: []
        }
      case "Present": {
        const have = fact.value
        if (!isOwnedBy(have.labels, m.metadata.name))
          return {
            actions: [],
            diagnostics: [
              error(
                "NameClash",
                `Secret ${ns}/${want.name} on '${cluster}' exists and does not belong to Machine ${refKey(m.metadata)}`,
                "spec.cloudInit"
              )
            ],
            provides: [{ ready: false, waiting: [], gatesPatch: () => false }]
          }
        if (have.deleting)
          return {
            actions: [],
            diagnostics: [],
            provides: [
              {
                ready: false,
                waiting: [
                  waiting(
                    "CloudInitSecretTerminating",
                    `Secret ${ns}/${want.name} is being deleted; waiting to recreate it`
                  )
                ],
                gatesPatch: () => false
              }
            ]
          }
        if (have.annotations[CLOUD_INIT_DIGEST_ANNOTATION] === want.digest) return nothing
        const actions: ReadonlyArray<Action> = [
          {
            _tag: "PatchSecret",
            cluster,
            target,
            before: have.annotations[CLOUD_INIT_DIGEST_ANNOTATION] ?? "(none)",
            after: want,
            resourceVersion: have.resourceVersion,
            reason: "cloud-init content changed"
          }
        ]
        return {
          actions,
          diagnostics:
            remote.vm._tag === "Present"
              ? [
                  advisory(
                    "CloudInitChanged",
                    "the cloud-init Secret changes; the guest sees it after a restart",
                    "spec.cloudInit"
                  )
                ]
              : []
        }
      }
    }
  },
  // After the disks: our Secret goes, then the finalizer.
  cleanup: ({ machine: m, cluster, remote }): StepResult => {
    const fact = remote.cloudInitSecret
    if (fact === undefined || fact._tag === "Absent") return nothing
    const name = cloudInitSecretName(m.metadata.name)
    if (fact._tag === "Unknown")
      return halted(
        waiting(
          "CloudInitSecretUnknown",
          `cannot read Secret ${m.metadata.namespace}/${name} on '${cluster}': ${fact.reason}`
        )
      )
    if (!isOwnedBy(fact.value.labels, m.metadata.name)) return nothing
    if (fact.value.deleting) return halted(info("WaitingForCloudInitSecret", `Secret ${name} is being deleted`))
    return {
      actions: [
        {
          _tag: "DeleteSecret",
          cluster,
          target: refOf("Secret", name, m.metadata.namespace),
          resourceVersion: fact.value.resourceVersion,
          reason: "disks are gone; Machine is being deleted"
        }
      ],
      diagnostics: [],
      halt: true
    }
  }
}
