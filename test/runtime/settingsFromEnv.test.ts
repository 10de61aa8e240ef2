/** Settings from the environment: the Go operator's names and defaults; a bad value is a SettingsError naming it. */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { defaultSettings } from "../../src/domain/Settings.ts"
import { settingsFromEnv } from "../../src/runtime/settingsFromEnv.ts"

describe("settingsFromEnv", () => {
  it("nothing set: the defaults", () => {
    assert.deepStrictEqual(settingsFromEnv({}), Result.succeed(defaultSettings))
  })

  it("reads every variable", () => {
    const s = settingsFromEnv({
      DEFAULT_KUBEVIRT_CONFIG: "remote-a",
      PVC_VOLUME_MODE: "Filesystem",
      PVC_ACCESS_MODE: "ReadWriteOnce",
      STORAGE_CLASS_NAME: "fast",
      CPU_MODEL: "host-passthrough"
    })
    assert.isTrue(Result.isSuccess(s))
    if (Result.isSuccess(s))
      assert.deepStrictEqual(
        [
          s.success.defaultKubevirtConfig,
          s.success.pvcVolumeMode,
          s.success.pvcAccessMode,
          s.success.storageClassName,
          s.success.cpuModel
        ],
        ["remote-a", "Filesystem", "ReadWriteOnce", "fast", "host-passthrough"]
      )
  })

  it("a value outside the allowed set is a SettingsError naming the variable and the value", () => {
    const s = settingsFromEnv({ PVC_ACCESS_MODE: "Sometimes" })
    assert.isTrue(Result.isFailure(s))
    if (Result.isFailure(s)) {
      assert.strictEqual(s.failure._tag, "SettingsError")
      assert.strictEqual(s.failure.message, "PVC_ACCESS_MODE=Sometimes is not one of the allowed values")
    }
  })

  it("adoption of the Go operator's objects (ADR 0014): off by default; on, with its MANAGED_BY (default kubevirt-operator)", () => {
    const adoptOf = (env: Record<string, string>) => {
      const s = settingsFromEnv(env)
      return Result.isSuccess(s) ? s.success.adoptGoOperator : `error: ${s.failure.message}`
    }
    assert.isUndefined(adoptOf({}))
    assert.isUndefined(adoptOf({ GO_OPERATOR_MANAGED_BY: "legacy-ops" }))
    assert.isUndefined(adoptOf({ ADOPT_GO_OPERATOR: "false" }))
    assert.strictEqual(adoptOf({ ADOPT_GO_OPERATOR: "true" }), "kubevirt-operator")
    assert.strictEqual(adoptOf({ ADOPT_GO_OPERATOR: "true", GO_OPERATOR_MANAGED_BY: "legacy-ops" }), "legacy-ops")
    assert.strictEqual(
      adoptOf({ ADOPT_GO_OPERATOR: "yes" }),
      "error: ADOPT_GO_OPERATOR=yes is not one of the allowed values"
    )
    assert.strictEqual(
      adoptOf({ ADOPT_GO_OPERATOR: "true", GO_OPERATOR_MANAGED_BY: "not a label" }),
      "error: GO_OPERATOR_MANAGED_BY=not a label is not one of the allowed values"
    )
  })
})
