import { defineConfig } from "vitest/config"

// Tiers (README "Tests"):
// - unit: pure domain, in-memory effects and runtime, CLI. Fast; no cluster.
// - integration: real kube-apiservers (supervisor + remote) started once by test/harness/globalSetup.ts, with the
//   shared CRDs and the shipped RBAC. Needs Go (the binaries are built and cached by test/cluster/build.sh).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          // Property tests run 1000 cases (PROPERTY_RUNS); on 2 busy cores one may take longer than the default 5 s.
          testTimeout: 30_000,
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.integration.test.ts", "node_modules/**"]
        }
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.integration.test.ts"],
          globalSetup: ["test/harness/globalSetup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The clusters are shared: files run one after another so their load stays predictable on 2 cores.
          fileParallelism: false
        }
      }
    ]
  }
})
