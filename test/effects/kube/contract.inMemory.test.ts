/**
 * Runs the KubeApi contract against the in-memory layer.
 */
import { layerInMemory } from "../../../src/effects/kube/inMemoryApi.ts"
import { kubeApiContract } from "./contract.ts"

kubeApiContract("KubeApi contract: in-memory layer", () => layerInMemory())
