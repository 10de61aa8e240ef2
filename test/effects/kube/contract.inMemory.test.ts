/**
 * Runs the KubeApi contract against the in-memory layer.
 */
import { KubeApi } from "../../../src/effects/KubeApi.ts"
import { kubeApiContract } from "./contract.ts"

kubeApiContract("KubeApi contract: in-memory layer", () => KubeApi.layerInMemory())
