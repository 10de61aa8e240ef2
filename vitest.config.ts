import { defineConfig } from "vitest/config"

// Tiers (README "Tests"): `unit` is pure domain + in-memory effects; `integration` runs against real
// kube-apiservers started by test/harness (added with the real-apiserver work).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.integration.test.ts", "node_modules/**"]
        }
      }
    ]
  }
})
