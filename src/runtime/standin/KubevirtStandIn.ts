/**
 * A stand-in for KubeVirt's controllers, for tests, `npm start` and `npm run dev:clusters`: it watches
 * VirtualMachines and writes a believable lifecycle: `status.printableStatus` Provisioning → Starting → Running, and a
 * VirtualMachineInstance (phase Running, the VM's first interface with its MAC, or one of the stand-in's, and an IP; a
 * volume status per PVC disk). On VM
 * deletion it deletes the VMI. A VM annotated `standin.kubevirt.io/fail: <PrintableStatus>` (e.g. ErrorUnschedulable)
 * gets that status and no VMI. A VM with `dataVolume` volumes stays Provisioning until CDI (its stand-in,
 * CdiStandIn.ts, started alongside) has imported them, and shows DataVolumeError when one failed. Runtime layer (a
 * development tool, not part of the operator).
 */
import { type Duration, Effect, FiberMap, Option } from "effect"
import type { KubeObject } from "../../domain/KubeObject.ts"
import { asArray, asRecord, asString } from "../../domain/manifests/jsonPath.ts"
import { Kinds, refOf } from "../../domain/ObjectRef.ts"
import type { KubeApiService } from "../../effects/KubeApi.ts"
import { conflictRetry } from "../../effects/retry.ts"
import { runInformer } from "../informer.ts"
import { runCdiStandIn } from "./CdiStandIn.ts"

export const FAIL_ANNOTATION = "standin.kubevirt.io/fail"

export interface StandInOptions {
  /** Time between lifecycle steps. Default 200 ms. */
  readonly step?: Duration.Input
}

const setPrintable = (api: KubeApiService, vm: KubeObject, printableStatus: string, ready: boolean) => {
  const ref = refOf("VirtualMachine", vm.metadata.name, vm.metadata.namespace)
  return Effect.gen(function* () {
    const fresh = yield* api.get(ref)
    if (Option.isNone(fresh) || fresh.value.metadata.deletionTimestamp !== undefined) return
    const status = asRecord(fresh.value.status)
    if (status.printableStatus === printableStatus && status.ready === ready) return
    yield* api.updateStatus(
      ref,
      { ...status, printableStatus, ready, created: true },
      { resourceVersion: fresh.value.metadata.resourceVersion ?? "" }
    )
  }).pipe(Effect.retry({ schedule: conflictRetry, while: (e) => e.reason._tag === "Conflict" }))
}

const vmiFor = (vm: KubeObject, ip: string, mac: string): KubeObject => {
  const tspec = asRecord(asRecord(asRecord(vm.spec).template).spec)
  const claims = new Map(
    asArray(tspec.volumes).map((v) => [
      asString(asRecord(v).name) ?? "",
      asString(asRecord(asRecord(v).persistentVolumeClaim).claimName) ?? asString(asRecord(asRecord(v).dataVolume).name)
    ])
  )
  const disks = asArray(asRecord(asRecord(tspec.domain).devices).disks).map((d) => asString(asRecord(d).name) ?? "")
  // The first interface as KubeVirt reports it: its name, and the MAC the VM asks for (else one of the stand-in's).
  const first = asRecord(asArray(asRecord(asRecord(tspec.domain).devices).interfaces)[0])
  const ifaceName = asString(first.name) ?? "default"
  const ifaceMac = asString(first.macAddress) ?? mac
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: vm.metadata.name,
      namespace: vm.metadata.namespace ?? "default",
      labels: {
        ...(asRecord(asRecord(asRecord(vm.spec).template).metadata).labels as Record<string, string> | undefined)
      }
    },
    spec: { domain: { devices: {} } },
    status: {
      phase: "Running",
      nodeName: "standin-node",
      interfaces: [
        {
          name: ifaceName,
          mac: ifaceMac,
          ipAddress: ip,
          ipAddresses: [ip],
          infoSource: "domain, guest-agent",
          linkState: "up"
        }
      ],
      volumeStatus: disks
        .filter((d) => claims.get(d) !== undefined)
        .map((d, i) => ({
          name: d,
          target: `vd${String.fromCharCode(97 + i)}`,
          persistentVolumeClaimInfo: {
            claimName: claims.get(d),
            volumeMode: "Block",
            accessModes: ["ReadWriteMany"],
            capacity: { storage: "10Gi" }
          }
        }))
    }
  }
}

/** The DataVolumes a VM's volumes name. */
const dataVolumesOf = (vm: KubeObject): Array<string> =>
  asArray(asRecord(asRecord(asRecord(vm.spec).template).spec).volumes).flatMap((v) => {
    const name = asString(asRecord(asRecord(v).dataVolume).name)
    return name === undefined ? [] : [name]
  })

/** Waits until every DataVolume of the VM has Succeeded; "failed" when one of them Failed. */
const importsDone = (api: KubeApiService, vm: KubeObject, step: Duration.Input) =>
  Effect.gen(function* () {
    for (;;) {
      const phases = yield* Effect.forEach(dataVolumesOf(vm), (name) =>
        Effect.map(api.get(refOf("DataVolume", name, vm.metadata.namespace)), (dv) =>
          Option.isSome(dv) ? asString(asRecord(dv.value.status).phase) : undefined
        )
      )
      if (phases.includes("Failed")) return "failed" as const
      if (phases.every((p) => p === "Succeeded")) return "done" as const
      yield* Effect.sleep(step)
    }
  })

/** Runs the stand-in (and the CDI stand-in) against one cluster until interrupted. */
export const runKubevirtStandIn = (api: KubeApiService, options: StandInOptions = {}) =>
  Effect.gen(function* () {
    const step = options.step ?? "200 millis"
    yield* Effect.forkScoped(runCdiStandIn(api, { step }))
    const lifecycles = yield* FiberMap.make<string>()
    let next = 10
    const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`

    const lifecycle = (vm: KubeObject) =>
      Effect.gen(function* () {
        const fail = vm.metadata.annotations?.[FAIL_ANNOTATION]
        if (fail !== undefined) return yield* setPrintable(api, vm, fail, false)
        const n = next++
        yield* setPrintable(api, vm, "Provisioning", false)
        yield* Effect.sleep(step)
        if ((yield* importsDone(api, vm, step)) === "failed")
          return yield* setPrintable(api, vm, "DataVolumeError", false)
        yield* setPrintable(api, vm, "Starting", false)
        yield* Effect.sleep(step)
        const ip = `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`
        const mac = `02:12:00:00:${(Math.floor(n / 256) % 256).toString(16).padStart(2, "0")}:${(n % 256).toString(16).padStart(2, "0")}`
        yield* api
          .create(refOf("VirtualMachineInstance", vm.metadata.name, vm.metadata.namespace), vmiFor(vm, ip, mac))
          .pipe(Effect.catchReason("KubeApiError", "AlreadyExists", () => Effect.void))
        yield* setPrintable(api, vm, "Running", true)
      }).pipe(Effect.catch((e) => Effect.logWarning(`stand-in: ${e.message}`)))

    const removeVmi = (vm: KubeObject) =>
      api.delete(refOf("VirtualMachineInstance", vm.metadata.name, vm.metadata.namespace)).pipe(
        Effect.asVoid,
        Effect.catch(() => Effect.void)
      )

    yield* runInformer(
      api,
      Kinds.VirtualMachine,
      {},
      {
        onEvent: (type, vm) =>
          Effect.gen(function* () {
            const key = keyOf(vm)
            if (type === "DELETED" || vm.metadata.deletionTimestamp !== undefined) {
              yield* FiberMap.remove(lifecycles, key)
              return yield* removeVmi(vm)
            }
            // Start a lifecycle once per VM (its own status writes come back as MODIFIED events).
            const printable = asString(asRecord(vm.status).printableStatus)
            const wantFail = vm.metadata.annotations?.[FAIL_ANNOTATION]
            if (
              wantFail !== undefined
                ? printable !== wantFail
                : printable === undefined && !(yield* FiberMap.has(lifecycles, key))
            )
              yield* FiberMap.run(lifecycles, key, lifecycle(vm))
          })
      },
      "standin/VirtualMachines"
    )
  }).pipe(Effect.scoped)
