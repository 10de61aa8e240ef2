/**
 * Model-based test (fast-check `fc.commands`) of the in-memory cluster against a plain model: create,
 * delete, patch (with fresh or stale resourceVersions), get, add/remove finalizer on a few names. After
 * every command the cluster's ConfigMaps must equal the model. The seed is logged for replay
 * (FC_SEED=<seed> npx vitest run test/effects/kube/InMemoryCluster.model.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Option, Result } from "effect"
import fc from "fast-check"
import type { KubeObject } from "../../../src/domain/KubeObject.ts"
import { ObjectRef } from "../../../src/domain/ObjectRef.ts"
import type { KubeApiErrorReason } from "../../../src/effects/KubeApiError.ts"
import { InMemoryCluster } from "../../../src/effects/kube/InMemoryCluster.ts"

const NS = "model"
const FINALIZER = "model.test/hold"
const NAMES = ["a", "b", "c"] as const
type Name = (typeof NAMES)[number]

interface ModelObject {
  readonly value: string
  readonly finalizer: boolean
  readonly deleting: boolean
  /** resourceVersions this object had before its current one: a patch with one of them must Conflict. */
  readonly pastVersions: ReadonlyArray<string>
  readonly version: string
}
interface Model {
  objects: Map<Name, ModelObject>
}
interface Real {
  readonly cluster: InMemoryCluster
  clock: number
}

const ref = (name: Name) => ObjectRef.make({ apiVersion: "v1", kind: "ConfigMap", namespace: NS, name })
const body = (name: Name, value: string, finalizer: boolean): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: NS, ...(finalizer ? { finalizers: [FINALIZER] } : {}) },
  data: { value }
})

const dataValue = (o: KubeObject) => (o.data as { readonly value?: string } | undefined)?.value

/** The cluster must hold exactly what the model holds. */
const assertSameState = (m: Model, r: Real) => {
  const actual = r.cluster.objects({ kind: "ConfigMap", namespace: NS }).map((o) => ({
    name: o.metadata.name,
    value: dataValue(o),
    finalizer: (o.metadata.finalizers ?? []).includes(FINALIZER),
    deleting: o.metadata.deletionTimestamp !== undefined,
    version: o.metadata.resourceVersion
  }))
  const expected = [...m.objects.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, o]) => ({ name, value: o.value, finalizer: o.finalizer, deleting: o.deleting, version: o.version }))
  assert.deepStrictEqual(actual, expected)
}

const expectFailure = <A>(result: Result.Result<A, KubeApiErrorReason>, tag: KubeApiErrorReason["_tag"]) => {
  assert.isTrue(Result.isFailure(result), `expected ${tag}, got success`)
  if (Result.isFailure(result)) assert.strictEqual(result.failure._tag, tag)
}

const expectSuccess = <A>(result: Result.Result<A, KubeApiErrorReason>): A => {
  if (Result.isFailure(result)) assert.fail(`expected success, got ${result.failure._tag}: ${result.failure.message}`)
  return (result as Result.Success<A, KubeApiErrorReason>).success
}

/** Moves the model object to a new version (remembering the old one), or keeps it when nothing changed. */
const advance = (before: ModelObject, after: Omit<ModelObject, "pastVersions" | "version">, version: string) =>
  version === before.version
    ? { ...after, pastVersions: before.pastVersions, version }
    : { ...after, pastVersions: [...before.pastVersions, before.version], version }

class Create implements fc.Command<Model, Real> {
  readonly name: Name
  readonly value: string
  readonly finalizer: boolean
  constructor(name: Name, value: string, finalizer: boolean) {
    this.name = name
    this.value = value
    this.finalizer = finalizer
  }
  check = () => true
  run(m: Model, r: Real) {
    const result = r.cluster.create(ref(this.name), body(this.name, this.value, this.finalizer), r.clock++)
    if (m.objects.has(this.name)) {
      expectFailure(result, "AlreadyExists")
    } else {
      const created = expectSuccess(result)
      m.objects.set(this.name, {
        value: this.value,
        finalizer: this.finalizer,
        deleting: false,
        pastVersions: [],
        version: created.metadata.resourceVersion!
      })
    }
    assertSameState(m, r)
  }
  toString = () => `create(${this.name}, ${this.value}, finalizer=${this.finalizer})`
}

class Delete implements fc.Command<Model, Real> {
  readonly name: Name
  constructor(name: Name) {
    this.name = name
  }
  check = () => true
  run(m: Model, r: Real) {
    const result = r.cluster.delete(ref(this.name), {}, r.clock++)
    const before = m.objects.get(this.name)
    if (before === undefined) {
      expectFailure(result, "NotFound")
    } else if (before.finalizer) {
      assert.strictEqual(expectSuccess(result)._tag, "Finalizing")
      const now = Option.getOrThrow(r.cluster.object(ref(this.name)))
      m.objects.set(this.name, advance(before, { ...before, deleting: true }, now.metadata.resourceVersion!))
    } else {
      assert.strictEqual(expectSuccess(result)._tag, "Deleted")
      m.objects.delete(this.name)
    }
    assertSameState(m, r)
  }
  toString = () => `delete(${this.name})`
}

class Patch implements fc.Command<Model, Real> {
  readonly name: Name
  readonly value: string
  /** Use the n-th past resourceVersion (a stale precondition) instead of the current one. */
  readonly stale: number | undefined
  constructor(name: Name, value: string, stale: number | undefined) {
    this.name = name
    this.value = value
    this.stale = stale
  }
  check = () => true
  run(m: Model, r: Real) {
    const before = m.objects.get(this.name)
    const past = before?.pastVersions ?? []
    const useStale = this.stale !== undefined && past.length > 0
    const version = before === undefined ? "1" : useStale ? past[this.stale! % past.length]! : before.version
    const result = r.cluster.patch(
      ref(this.name),
      { data: { value: this.value } },
      { resourceVersion: version },
      r.clock++
    )
    if (before === undefined) {
      expectFailure(result, "NotFound")
    } else if (useStale) {
      expectFailure(result, "Conflict")
    } else {
      const patched = expectSuccess(result)
      m.objects.set(this.name, advance(before, { ...before, value: this.value }, patched.metadata.resourceVersion!))
    }
    assertSameState(m, r)
  }
  toString = () => `patch(${this.name}, ${this.value}, stale=${this.stale})`
}

class SetFinalizer implements fc.Command<Model, Real> {
  readonly name: Name
  readonly present: boolean
  constructor(name: Name, present: boolean) {
    this.name = name
    this.present = present
  }
  check = () => true
  run(m: Model, r: Real) {
    const before = m.objects.get(this.name)
    const result = r.cluster.patch(
      ref(this.name),
      { metadata: { finalizers: this.present ? [FINALIZER] : null } },
      {},
      r.clock++
    )
    if (before === undefined) {
      expectFailure(result, "NotFound")
    } else if (!this.present && before.deleting) {
      expectSuccess(result)
      m.objects.delete(this.name)
    } else {
      const patched = expectSuccess(result)
      m.objects.set(
        this.name,
        advance(before, { ...before, finalizer: this.present }, patched.metadata.resourceVersion!)
      )
    }
    assertSameState(m, r)
  }
  toString = () => `${this.present ? "add" : "remove"}Finalizer(${this.name})`
}

class Get implements fc.Command<Model, Real> {
  readonly name: Name
  constructor(name: Name) {
    this.name = name
  }
  check = () => true
  run(m: Model, r: Real) {
    const got = expectSuccess(r.cluster.get(ref(this.name)))
    const expected = m.objects.get(this.name)
    assert.strictEqual(Option.isSome(got), expected !== undefined)
    if (Option.isSome(got) && expected !== undefined) {
      assert.strictEqual(dataValue(got.value), expected.value)
      assert.strictEqual(got.value.metadata.resourceVersion, expected.version)
      assert.strictEqual(got.value.metadata.deletionTimestamp !== undefined, expected.deleting)
    }
  }
  toString = () => `get(${this.name})`
}

const name = fc.constantFrom(...NAMES)
const value = fc.constantFrom("x", "y", "z")
const commands = fc.commands(
  [
    fc.tuple(name, value, fc.boolean()).map(([n, v, f]) => new Create(n, v, f)),
    name.map((n) => new Delete(n)),
    fc.tuple(name, value, fc.option(fc.nat(5), { nil: undefined })).map(([n, v, s]) => new Patch(n, v, s)),
    fc.tuple(name, fc.boolean()).map(([n, p]) => new SetFinalizer(n, p)),
    name.map((n) => new Get(n))
  ],
  { maxCommands: 40 }
)

const NUM_RUNS = 300
const SEED = process.env.FC_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FC_SEED)

describe("InMemoryCluster model", () => {
  it("behaves like the model for create/delete/patch/finalizers/get on a few names", () => {
    console.log(`InMemoryCluster model: fast-check seed ${SEED}, numRuns ${NUM_RUNS}`)
    fc.assert(
      fc.property(commands, (cmds) => {
        const setup = () => {
          const cluster = InMemoryCluster.make()
          cluster.seed([{ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }])
          return { model: { objects: new Map<Name, ModelObject>() }, real: { cluster, clock: 0 } }
        }
        fc.modelRun(setup, cmds)
      }),
      { numRuns: NUM_RUNS, seed: SEED }
    )
  })
})
