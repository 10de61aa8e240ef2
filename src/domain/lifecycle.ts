/**
 * Where a Machine is in its life, as the explicit 2×2 of finalizer × deletion (G5, kube-rs `FinalizerState`).
 * Domain layer: pure. The planner switches on it: a live Machine converges (adding the finalizer first when it is
 * missing), a deleted one with our finalizer is cleaned up, a deleted one without it is none of our business.
 */
import { FINALIZER } from "./labels.ts"
import { hasFinalizer, isDeleting, type Machine } from "./Machine.ts"

export type Lifecycle = "NoFinalizerLive" | "HasFinalizerLive" | "HasFinalizerDeleting" | "NoFinalizerDeleting"

export const lifecycle = (m: Machine): Lifecycle =>
  hasFinalizer(m, FINALIZER)
    ? isDeleting(m)
      ? "HasFinalizerDeleting"
      : "HasFinalizerLive"
    : isDeleting(m)
      ? "NoFinalizerDeleting"
      : "NoFinalizerLive"
