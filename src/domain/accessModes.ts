/**
 * Access modes for plain PVCs from the CDI StorageProfile of the class in use (reference F15, ADR 0010): the first
 * claim property set with the wanted volume mode, ReadWriteMany preferred (live migration), else its first mode;
 * no CDI, no profile or no matching set falls back to `PVC_ACCESS_MODE`. DataVolumes need none of this: CDI's
 * `storage` API fills them from the same profile. Domain layer: pure.
 */
import { type Diagnostic, info, waiting } from "./Diagnostic.ts"
import type { StorageFacts } from "./ObservedState.ts"

export type AccessModeChoice =
  | {
      readonly _tag: "Chosen"
      readonly modes: ReadonlyArray<string>
      /** For the plan: where the modes came from. */
      readonly why: string
      readonly diagnostics: ReadonlyArray<Diagnostic>
    }
  | { readonly _tag: "Blocked"; readonly diagnostics: ReadonlyArray<Diagnostic> }

/**
 * The access modes for a new PVC of `volumeMode` in `storageClass` (the configured class; undefined: the remote
 * default). An unreadable class or profile blocks creation: access modes cannot be changed once the PVC exists.
 */
export const chooseAccessModes = (
  storage: StorageFacts,
  storageClass: string | undefined,
  volumeMode: string,
  fallback: string
): AccessModeChoice => {
  const fallbackWith = (why: string, reason: "StorageProfileMissing" | "StorageProfileNoMatch"): AccessModeChoice => ({
    _tag: "Chosen",
    modes: [fallback],
    why: `PVC_ACCESS_MODE (${why})`,
    diagnostics: [info(reason, `${why}; PVCs use PVC_ACCESS_MODE ${fallback}`)]
  })
  let className = storageClass
  if (className === undefined) {
    if (storage.defaultClass._tag === "Unknown")
      return {
        _tag: "Blocked",
        diagnostics: [
          waiting("StorageUnknown", `cannot read the remote StorageClasses: ${storage.defaultClass.reason}`)
        ]
      }
    className = storage.defaultClass._tag === "Present" ? (storage.defaultClass.value ?? undefined) : undefined
    if (className === undefined)
      return fallbackWith("the remote cluster has no default StorageClass", "StorageProfileMissing")
  }
  switch (storage.profile._tag) {
    case "Unknown":
      return {
        _tag: "Blocked",
        diagnostics: [waiting("StorageUnknown", `cannot read StorageProfile '${className}': ${storage.profile.reason}`)]
      }
    case "Absent":
      return fallbackWith(`no CDI StorageProfile '${className}'`, "StorageProfileMissing")
    case "Present": {
      const set = storage.profile.value.find(
        (s) => (s.volumeMode ?? "Filesystem") === volumeMode && s.accessModes.length > 0
      )
      if (set === undefined)
        return fallbackWith(
          `StorageProfile '${className}' lists no ${volumeMode} access modes`,
          "StorageProfileNoMatch"
        )
      const mode = set.accessModes.includes("ReadWriteMany") ? "ReadWriteMany" : set.accessModes[0]!
      return { _tag: "Chosen", modes: [mode], why: `StorageProfile ${className}`, diagnostics: [] }
    }
  }
}
