/**
 * How a watch cache holds an object: its slim form as one JSON string, with the few fields the cache itself looks at
 * beside it (resourceVersion, uid, the index label's value). Effects layer. A string costs about half the memory of
 * the object it encodes (V8 keeps each nested object, array and property of a parsed object on the heap), and the
 * caches hold every Machine and every remote object of ours (ADR 0017, "Memory diet"). A read parses it again
 * (about 10–20 µs for a Machine): each reader gets its own copy, so no reader can change what the cache holds.
 */
import type { KubeObject } from "../../domain/KubeObject.ts"

export class StoredObject {
  readonly text: string
  readonly resourceVersion: string | undefined
  readonly uid: string | undefined
  /** The value of the cache's index label, if it has one and the object carries it. */
  readonly indexValue: string | undefined

  constructor(o: KubeObject, indexLabel: string | undefined) {
    this.text = JSON.stringify(o)
    this.resourceVersion = o.metadata.resourceVersion
    this.uid = o.metadata.uid
    this.indexValue = indexLabel === undefined ? undefined : o.metadata.labels?.[indexLabel]
  }

  /** A fresh copy of the object. */
  object(): KubeObject {
    return JSON.parse(this.text) as KubeObject
  }
}
