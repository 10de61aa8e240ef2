/**
 * Executors of CreateNetworkAttachmentDefinition and DeleteNetworkAttachmentDefinition on the in-memory remote
 * (ADR 0013): the create writes the Go operator's bridge config and tolerates an existing NAD (never modified); the
 * delete carries the observed resourceVersion, so a NAD changed since is kept, and NotFound is success.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { refOf } from "../../../src/domain/ObjectRef.ts"
import { executeCreateNetworkAttachmentDefinition } from "../../../src/effects/executors/CreateNetworkAttachmentDefinition.ts"
import { executeDeleteNetworkAttachmentDefinition } from "../../../src/effects/executors/DeleteNetworkAttachmentDefinition.ts"
import { onVirtualTime } from "../../fixtures/virtualTime.ts"
import { nadObject, namespaceObject, twoClusters } from "../../fixtures/world.ts"

const target = refOf("NetworkAttachmentDefinition", "vlan7", "team-a")
const create = {
  _tag: "CreateNetworkAttachmentDefinition",
  cluster: "remote-a",
  target,
  after: {
    name: "vlan7",
    namespace: "team-a",
    labels: { "managed-by": "vitistack-kubevirt-operator", "vitistack.io/vlan-id": "7" },
    vlanId: 7,
    cniVersion: "1.0.0"
  },
  reason: "test"
} as const

describe("NetworkAttachmentDefinition executors", () => {
  it.effect("create: the bridge config with the VLAN and our labels; an existing NAD is success and untouched", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a")])
    return Effect.gen(function* () {
      yield* executeCreateNetworkAttachmentDefinition(create)
      const [o] = w.remote.objects({ kind: "NetworkAttachmentDefinition" })
      assert.deepStrictEqual(o?.metadata.labels, create.after.labels)
      assert.strictEqual(
        (o!.spec as any).config,
        '{"cniVersion":"1.0.0","name":"br0","plugins":[{"type":"bridge","bridge":"br0","ipam":{},"vlan":7}]}'
      )
      const other = twoClusters()
      other.remote.seed([namespaceObject("team-a"), nadObject("vlan7", "team-a")])
      yield* executeCreateNetworkAttachmentDefinition(create).pipe(Effect.provide(other.layer))
      assert.deepStrictEqual(other.remote.objects({ kind: "NetworkAttachmentDefinition" })[0]?.spec, { config: "{}" })
    }).pipe(Effect.provide(w.layer))
  })

  it.effect("delete: with the observed resourceVersion; a changed NAD stays (Conflict); a gone one is success", () => {
    const w = twoClusters()
    w.remote.seed([namespaceObject("team-a"), nadObject("vlan7", "team-a")])
    const rv = w.remote.objects({ kind: "NetworkAttachmentDefinition" })[0]!.metadata.resourceVersion!
    const del = (resourceVersion: string) =>
      executeDeleteNetworkAttachmentDefinition({
        _tag: "DeleteNetworkAttachmentDefinition",
        cluster: "remote-a",
        target,
        resourceVersion,
        reason: "test"
      })
    return Effect.gen(function* () {
      const stale = yield* onVirtualTime(Effect.flip(del("1")))
      assert.strictEqual(stale._tag === "KubeApiError" ? stale.reason._tag : stale._tag, "Conflict")
      assert.strictEqual(w.remote.objects({ kind: "NetworkAttachmentDefinition" }).length, 1)
      yield* del(rv)
      assert.strictEqual(w.remote.objects({ kind: "NetworkAttachmentDefinition" }).length, 0)
      yield* del(rv)
    }).pipe(Effect.provide(w.layer))
  })
})
