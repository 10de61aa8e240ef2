/**
 * A limit on concurrent reconciles per remote cluster, so one hung cluster holds at most part of the workers (issue
 * "Hardening", item 2). Runtime layer: plain synchronous state owned by the operator loop (every call runs to the end
 * before another fiber runs, so no lock is needed).
 * A key whose cluster is at its limit is parked instead of occupying a worker; each reconcile of that cluster that
 * ends hands back the oldest parked key, which the worker queues again. A key is parked only while the cluster has a
 * reconcile in flight, so every parked key is handed back by one of them. With the circuit breaker (effects/kube/
 * circuitBreaker.ts) a hung cluster's reconciles end within a read deadline, then at once while it is open, so its
 * parked Machines still come round.
 */

export interface ClusterSlots {
  /** Takes one of `cluster`'s slots for `key`; false when the cluster is at its limit (the key is then parked). */
  readonly acquire: (cluster: string, key: string) => boolean
  /** Gives the slot back; the oldest key parked on `cluster`, if any, to be queued again. */
  readonly release: (cluster: string) => string | undefined
  /** Reconciles of `cluster` in flight. */
  readonly inFlight: (cluster: string) => number
  /** Keys waiting for a slot of `cluster`, oldest first. */
  readonly parked: (cluster: string) => ReadonlyArray<string>
  /** Every key parked on `cluster`, which is no longer limited (to be queued again). */
  readonly drain: (cluster: string) => ReadonlyArray<string>
}

/** The default limit: half the workers, rounded up (4 workers: 2 per cluster; 1 worker: 1). */
export const defaultClusterLimit = (workers: number): number => Math.max(1, Math.ceil(workers / 2))

export const makeClusterSlots = (limit: number): ClusterSlots => {
  const max = Math.max(1, Math.floor(limit))
  const running = new Map<string, number>()
  const waiting = new Map<string, Set<string>>()
  return {
    acquire: (cluster, key) => {
      const n = running.get(cluster) ?? 0
      if (n >= max) {
        const parked = waiting.get(cluster) ?? new Set<string>()
        parked.add(key)
        waiting.set(cluster, parked)
        return false
      }
      running.set(cluster, n + 1)
      waiting.get(cluster)?.delete(key)
      return true
    },
    release: (cluster) => {
      const n = (running.get(cluster) ?? 1) - 1
      if (n <= 0) running.delete(cluster)
      else running.set(cluster, n)
      const parked = waiting.get(cluster)
      const next = parked?.values().next()
      if (parked === undefined || next === undefined || next.done === true) return undefined
      parked.delete(next.value)
      if (parked.size === 0) waiting.delete(cluster)
      return next.value
    },
    inFlight: (cluster) => running.get(cluster) ?? 0,
    parked: (cluster) => [...(waiting.get(cluster) ?? [])],
    drain: (cluster) => {
      const keys = [...(waiting.get(cluster) ?? [])]
      waiting.delete(cluster)
      return keys
    }
  }
}
