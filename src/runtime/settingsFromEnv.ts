/**
 * Reads the operator's Settings from the environment, with the Go operator's variable names and defaults
 * (DEFAULT_KUBEVIRT_CONFIG, PVC_VOLUME_MODE, PVC_ACCESS_MODE, STORAGE_CLASS_NAME, CPU_MODEL,
 * DISABLE_CPU_HT_FEATURE), and REQUIRE_APPROVAL (ADR 0015). Runtime layer.
 * A bad value is a `SettingsError` naming the variable, never a silent default.
 */
import { Result, Schema } from "effect"
import { AccessMode, defaultSettings, Settings, VolumeMode } from "../domain/Settings.ts"

/** An environment variable holds a value the operator cannot use. */
export class SettingsError extends Schema.TaggedError<SettingsError>()("SettingsError", {
  variable: Schema.String,
  value: Schema.String
}) {
  override get message(): string {
    return `${this.variable}=${this.value} is not one of the allowed values`
  }
}

export const settingsFromEnv = (
  env: Readonly<Record<string, string | undefined>>
): Result.Result<Settings, SettingsError> =>
  Result.gen(function* () {
    const pick = <A>(name: string, schema: Schema.Codec<A, any>, fallback: A): Result.Result<A, SettingsError> => {
      const raw = env[name]
      if (raw === undefined || raw === "") return Result.succeed(fallback)
      return Schema.is(schema)(raw)
        ? Result.succeed(raw as A)
        : Result.fail(new SettingsError({ variable: name, value: raw }))
    }
    const volumeMode = yield* pick("PVC_VOLUME_MODE", VolumeMode, defaultSettings.pvcVolumeMode)
    const accessMode = yield* pick("PVC_ACCESS_MODE", AccessMode, defaultSettings.pvcAccessMode)
    const opt = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name])
    const defaultKubevirtConfig = opt("DEFAULT_KUBEVIRT_CONFIG")
    const storageClassName = opt("STORAGE_CLASS_NAME")
    const disableHt = yield* pick("DISABLE_CPU_HT_FEATURE", Schema.Literals(["true", "false"]), "true")
    const requireApproval = yield* pick("REQUIRE_APPROVAL", Schema.Literals(["true", "false"]), "false")
    return Settings.make({
      pvcVolumeMode: volumeMode,
      pvcAccessMode: accessMode,
      cpuModel: opt("CPU_MODEL") ?? defaultSettings.cpuModel,
      ...(disableHt === "false" ? { disableCpuHtFeature: false } : {}),
      ...(requireApproval === "true" ? { requireApproval: true } : {}),
      ...(defaultKubevirtConfig === undefined ? {} : { defaultKubevirtConfig }),
      ...(storageClassName === undefined ? {} : { storageClassName })
    })
  })
