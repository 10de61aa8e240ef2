/**
 * Every watch the operator runs on each remote cluster, from the capabilities that declare them (`RemoteWatch.ts`).
 * Domain layer: pure data; `runtime/Operator.ts` runs them. Supervisor watches (Machines, KubevirtConfigs, their
 * Secrets) are the operator loop's own.
 */
import { bootMediaWatches } from "./bootMedia.ts"
import { diskWatches } from "./disks.ts"
import { networkWatches } from "./networks.ts"
import type { RemoteWatch } from "./RemoteWatch.ts"
import { virtualMachineWatches } from "./virtualMachine.ts"

export const REMOTE_WATCHES: ReadonlyArray<RemoteWatch> = [
  ...virtualMachineWatches,
  ...diskWatches,
  ...networkWatches,
  ...bootMediaWatches
]
