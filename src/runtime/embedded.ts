/**
 * The embedded default behind `npm start`: the real operator loop against in-memory supervisor and remote clusters
 * seeded from example files, with the KubeVirt stand-in making VMs run. It prints the plans, then a table of the
 * Machines (phase, state, IPs) whenever it changes, and ends once every Machine is Running (or keeps running).
 * Runtime layer.
 */
import { Duration, Effect, Fiber, Layer } from "effect"
import type { Documents } from "../domain/documents.ts"
import type { KubeObject } from "../domain/KubeObject.ts"
import { namespaceManifest } from "../domain/manifests/Namespace.ts"
import { Kinds } from "../domain/ObjectRef.ts"
import { freshCluster, planDocuments, SYSTEM_NAMESPACES } from "../domain/planDocuments.ts"
import { inScope } from "../domain/planner.ts"
import { renderPlans } from "../domain/render.ts"
import type { Settings } from "../domain/Settings.ts"
import { Remotes, Supervisor } from "../effects/Clusters.ts"
import { EventRecorder } from "../effects/EventRecorder.ts"
import { InMemoryCluster, makeInMemoryApi } from "../effects/kube/clients.ts"
import { runOperator } from "./Operator.ts"
import { runKubevirtStandIn } from "./standin/KubevirtStandIn.ts"
import { kubevirtInstallation } from "./standin/kubevirtInstallation.ts"

export interface EmbeddedOptions {
  readonly documents: Documents
  readonly settings: Settings
  readonly keepRunning: boolean
  /** Give up (exit 1) if not every Machine is Running by then. */
  readonly timeout: Duration.Input
  readonly out: (line: string) => void
}

const column = (rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()
    )
    .join("\n")
}

/** The Machine table: NAMESPACE, NAME, PHASE, STATE, IPS, MESSAGE. */
export const machineTable = (machines: ReadonlyArray<KubeObject>): string =>
  column([
    ["NAMESPACE", "NAME", "PHASE", "STATE", "IPS", "MESSAGE"],
    ...machines.map((m) => {
      const s = (m.status ?? {}) as Record<string, unknown>
      const ips = Array.isArray(s.publicIPAddresses) ? s.publicIPAddresses.join(",") : ""
      return [
        m.metadata.namespace ?? "",
        m.metadata.name,
        String(s.phase ?? "-"),
        String(s.state ?? "-"),
        ips || "-",
        String(s.message ?? "")
      ]
    })
  ])

/** Runs the embedded default; succeeds with true when every in-scope Machine reached Running. */
export const runEmbedded = (options: EmbeddedOptions) =>
  Effect.gen(function* () {
    const { documents, settings, out } = options
    // NetworkAttachmentDefinitions in the example files (a remote cluster owner's objects) are put on every remote,
    // in `default` when they name no namespace; other non-operator documents (Namespaces) are not used here.
    const remoteObjects = documents.objects
      .filter(
        (o) =>
          o.kind === Kinds.NetworkAttachmentDefinition.kind &&
          o.apiVersion === Kinds.NetworkAttachmentDefinition.apiVersion
      )
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? "default" } }))
    // The embedded remote is a KubeVirt cluster with CDI: a default StorageClass and its StorageProfile.
    const storage: ReadonlyArray<KubeObject> = [
      {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: "local", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
        provisioner: "example.com/local"
      },
      {
        apiVersion: "cdi.kubevirt.io/v1beta1",
        kind: "StorageProfile",
        metadata: { name: "local" },
        spec: {},
        status: { claimPropertySets: [{ accessModes: ["ReadWriteMany"], volumeMode: "Block" }] }
      }
    ]
    // Secrets and ConfigMaps in the example files are the supervisor's (cloud-init sources of Machines), and so are
    // NetworkNamespaces and NetworkConfigurations (vitistack networking, ADR 0013).
    const sources = documents.objects.filter(
      (o) =>
        o.kind === "Secret" ||
        o.kind === "ConfigMap" ||
        o.kind === Kinds.NetworkNamespace.kind ||
        o.kind === Kinds.NetworkConfiguration.kind
    )
    const plans = planDocuments(documents, [...freshCluster(), ...storage, ...remoteObjects], settings)
    out(
      `Plans (what the operator will do, from a fresh remote cluster with CDI${remoteObjects.length > 0 ? ` holding ${remoteObjects.length} NetworkAttachmentDefinition(s) from the examples` : ""}):\n`
    )
    out(renderPlans(plans))
    out("")

    const supervisor = InMemoryCluster.make()
    const clusterNames = documents.kubevirtConfigs.map((c) => c.metadata.name)
    const remotes = Object.fromEntries(clusterNames.map((n) => [n, InMemoryCluster.make()]))
    const namespaces = new Set<string>([
      ...SYSTEM_NAMESPACES,
      ...documents.machines.map((m) => m.metadata.namespace),
      ...documents.kubevirtConfigs.map((c) => c.spec.secretNamespace)
    ])
    supervisor.seed([
      ...[...namespaces].map((n) => namespaceManifest(n, {})),
      ...documents.machineClasses.map(
        (c) => ({ apiVersion: "vitistack.io/v1alpha1", kind: "MachineClass", ...structuredClone(c) }) as KubeObject
      ),
      ...documents.kubevirtConfigs.map(
        (c) => ({ apiVersion: "vitistack.io/v1alpha1", kind: "KubevirtConfig", ...structuredClone(c) }) as KubeObject
      ),
      ...sources.map((o) => ({
        ...structuredClone(o),
        metadata: { ...o.metadata, namespace: o.metadata.namespace ?? "default" }
      })),
      ...documents.machines.map(
        (m) =>
          ({
            apiVersion: "vitistack.io/v1alpha1",
            kind: "Machine",
            ...structuredClone({ metadata: m.metadata, spec: m.spec })
          }) as KubeObject
      )
    ])
    // Each remote has KubeVirt deployed (its KubeVirt resource), as the health check requires, and CDI's storage.
    for (const r of Object.values(remotes))
      r.seed([
        ...freshCluster(),
        ...kubevirtInstallation(),
        ...storage.map((o) => structuredClone(o)),
        ...remoteObjects.map((o) => structuredClone(o))
      ])
    const layer = Layer.provideMerge(
      Layer.merge(
        EventRecorder.layer,
        Remotes.layerFromMap(Object.fromEntries(Object.entries(remotes).map(([n, c]) => [n, makeInMemoryApi(c)])))
      ),
      Supervisor.layer(makeInMemoryApi(supervisor))
    )
    const tracked = documents.machines.filter(inScope).map((m) => `${m.metadata.namespace}/${m.metadata.name}`)
    const snapshot = () => supervisor.objects({ kind: Kinds.Machine.kind })
    const allRunning = () =>
      tracked.every((k) =>
        snapshot().some(
          (m) =>
            `${m.metadata.namespace}/${m.metadata.name}` === k &&
            (m.status as { phase?: string } | undefined)?.phase === "Running"
        )
      )

    const operator = yield* Effect.forkChild(runOperator({ settings, workers: 4 }).pipe(Effect.provide(layer)))
    const standins = yield* Effect.forEach(Object.values(remotes), (r) =>
      Effect.forkChild(runKubevirtStandIn(makeInMemoryApi(r), { step: "300 millis" }))
    )
    let last = ""
    const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const limit = Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
    for (;;) {
      const table = machineTable(snapshot())
      if (table !== last) {
        const elapsed = ((yield* Effect.clockWith((c) => c.currentTimeMillis)) - started) / 1000
        out(`[${elapsed.toFixed(1)}s]\n${table}\n`)
        last = table
      }
      if (!options.keepRunning && allRunning()) break
      if (!options.keepRunning && (yield* Effect.clockWith((c) => c.currentTimeMillis)) - started > limit) break
      yield* Effect.sleep("100 millis")
    }
    const ok = allRunning()
    const remoteSummary = Object.entries(remotes)
      .map(
        ([n, r]) =>
          `${n}: ${r.objects({ kind: "Namespace" }).length} namespaces, ${r.objects({ kind: "PersistentVolumeClaim" }).length} PVCs, ${r.objects({ kind: "VirtualMachine" }).length} VMs`
      )
      .join("; ")
    out(
      ok
        ? `All ${tracked.length} Machines are Running. Remote: ${remoteSummary}.`
        : `Not every Machine is Running after ${Duration.format(Duration.fromInputUnsafe(options.timeout))}.`
    )
    yield* Fiber.interrupt(operator)
    yield* Effect.forEach(standins, Fiber.interrupt)
    return ok
  })
