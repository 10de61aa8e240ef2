/**
 * Every way to get a KubeApi, in one place: the implementations (live, in-memory) with their layers, and the
 * decorators (read-only, fault injection, instrumentation). Effects layer (cluster service). `src/runtime` reaches
 * `src/effects/kube` only through this file (a Biome rule), so the ways to build a client stay few and visible;
 * effects code and tests may import the implementation files directly.
 */
import { Layer } from "effect"
import { KubeApi } from "../KubeApi.ts"
import type { KubeconfigError } from "./KubeconfigError.ts"
import { type LiveOptions, makeLiveApi, makeLiveApiInCluster } from "./liveApi.ts"

export { withCircuitBreaker } from "./circuitBreaker.ts"
export {
  type FaultConfig,
  FaultInjector,
  type FaultKind,
  type FaultRule,
  layerFaulty,
  withFaults
} from "./FaultInjection.ts"
export { InMemoryCluster, type InMemoryClusterOptions } from "./InMemoryCluster.ts"
export { ClusterState, layerInMemory, layerInMemoryFrom, makeInMemoryApi } from "./inMemoryApi.ts"
export { instrumented, type KubeApiRecorder } from "./instrumented.ts"
export type { KindRef } from "./KindTable.ts"
export { type LiveOptions, makeLiveApi, makeLiveApiFromKubeconfigFile, makeLiveApiInCluster } from "./liveApi.ts"
export { type RateLimit, rateLimited } from "./rateLimited.ts"
export { layerReadOnly, readOnly } from "./readOnly.ts"

/**
 * A real cluster from an untrusted, self-contained kubeconfig (a Secret's; see `loadSecretKubeconfig`). Fails with
 * `KubeconfigError` when the YAML is unusable, names a local file, has `exec`/`auth-provider` (unless `allowExecAuth`)
 * or connects insecurely (unless `allowInsecure`).
 */
export const layerLive = (kubeconfigYaml: string, options?: LiveOptions): Layer.Layer<KubeApi, KubeconfigError> =>
  Layer.effect(KubeApi, makeLiveApi(kubeconfigYaml, options))

/** A real cluster from the pod's service account (in-cluster config). */
export const layerLiveInCluster = (options?: LiveOptions): Layer.Layer<KubeApi, KubeconfigError> =>
  Layer.effect(KubeApi, makeLiveApiInCluster(options))
