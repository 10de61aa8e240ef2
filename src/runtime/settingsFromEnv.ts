/**
 * Reads the operator's Settings from the environment, with the Go operator's variable names and defaults
 * (DEFAULT_KUBEVIRT_CONFIG, PVC_VOLUME_MODE, PVC_ACCESS_MODE, STORAGE_CLASS_NAME, CPU_MODEL). Runtime layer.
 * A bad value is an error naming the variable, never a silent default.
 */
import { Schema } from "effect"
import { AccessMode, defaultSettings, Settings, VolumeMode } from "../domain/Settings.ts"

export const settingsFromEnv = (
  env: Readonly<Record<string, string | undefined>>
): Settings | { readonly error: string } => {
  const pick = <A>(name: string, schema: Schema.Codec<A, any>, fallback: A): A | { readonly error: string } => {
    const raw = env[name]
    if (raw === undefined || raw === "") return fallback
    return Schema.is(schema)(raw) ? (raw as A) : { error: `${name}=${raw} is not one of the allowed values` }
  }
  const volumeMode = pick("PVC_VOLUME_MODE", VolumeMode, defaultSettings.pvcVolumeMode)
  const accessMode = pick("PVC_ACCESS_MODE", AccessMode, defaultSettings.pvcAccessMode)
  if (typeof volumeMode === "object") return volumeMode
  if (typeof accessMode === "object") return accessMode
  const opt = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name])
  const defaultKubevirtConfig = opt("DEFAULT_KUBEVIRT_CONFIG")
  const storageClassName = opt("STORAGE_CLASS_NAME")
  return Settings.make({
    pvcVolumeMode: volumeMode,
    pvcAccessMode: accessMode,
    cpuModel: opt("CPU_MODEL") ?? defaultSettings.cpuModel,
    ...(defaultKubevirtConfig === undefined ? {} : { defaultKubevirtConfig }),
    ...(storageClassName === undefined ? {} : { storageClassName })
  })
}
