/**
 * Reads the operator's Settings from the environment, with the Go operator's variable names and defaults
 * (DEFAULT_KUBEVIRT_CONFIG, PVC_VOLUME_MODE, PVC_ACCESS_MODE, STORAGE_CLASS_NAME, CPU_MODEL,
 * DISABLE_CPU_HT_FEATURE, MAC_SET, NETWORK_ATTACHMENT_DEFINITION_CNI_VERSION, IP_SOURCE; and this operator's
 * CREATE_NETWORK_ATTACHMENTS, and adoption of the Go operator's objects: ADOPT_GO_OPERATOR, GO_OPERATOR_MANAGED_BY,
 * ADR 0014; REQUIRE_APPROVAL, ADR 0015). Runtime layer.
 * A bad value is a `SettingsError` naming the variable, never a silent default.
 */
import { Result, Schema } from "effect"
import { GO_MANAGED_BY_DEFAULT, isLabelValue } from "../domain/adoption.ts"
import { parseMacSet } from "../domain/macAddress.ts"
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
    const adopt = yield* pick("ADOPT_GO_OPERATOR", Schema.Literals(["true", "false"]), "false")
    // The Go operator's MANAGED_BY: a label value (what its labels carry), checked even while adoption is off.
    const goManagedBy = opt("GO_OPERATOR_MANAGED_BY") ?? GO_MANAGED_BY_DEFAULT
    if (!isLabelValue(goManagedBy))
      return yield* Result.fail(new SettingsError({ variable: "GO_OPERATOR_MANAGED_BY", value: goManagedBy }))
    const createNads = yield* pick("CREATE_NETWORK_ATTACHMENTS", Schema.Literals(["true", "false"]), "false")
    const ipSource = yield* pick("IP_SOURCE", Schema.Literals(["vmi", "networkconfiguration"]), "vmi")
    // MAC_SET: hex, `0x` allowed, its last two digits (the Go operator's reading); anything else is refused here
    // rather than silently replaced by the default as the Go operator does.
    const macSet = yield* pick("MAC_SET", Schema.String.check(Schema.isPattern(/^(0x)?[0-9a-fA-F]+$/)), "12")
    const cniVersion = opt("NETWORK_ATTACHMENT_DEFINITION_CNI_VERSION")
    const requireApproval = yield* pick("REQUIRE_APPROVAL", Schema.Literals(["true", "false"]), "false")
    return Settings.make({
      pvcVolumeMode: volumeMode,
      pvcAccessMode: accessMode,
      cpuModel: opt("CPU_MODEL") ?? defaultSettings.cpuModel,
      ...(disableHt === "false" ? { disableCpuHtFeature: false } : {}),
      ...(requireApproval === "true" ? { requireApproval: true } : {}),
      ...(defaultKubevirtConfig === undefined ? {} : { defaultKubevirtConfig }),
      ...(storageClassName === undefined ? {} : { storageClassName }),
      ...(macSet === "12" ? {} : { macSet: parseMacSet(macSet) }),
      ...(createNads === "true" ? { createNetworkAttachments: true } : {}),
      ...(cniVersion === undefined ? {} : { nadCniVersion: cniVersion }),
      ...(ipSource === "networkconfiguration" ? { ipSource } : {}),
      ...(adopt === "true" ? { adoptGoOperator: goManagedBy } : {})
    })
  })
