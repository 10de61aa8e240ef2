// vitest globalSetup: starts the `supervisor` and `remote` clusters once per run and provides
// their coordinates to tests as inject('clusters').
//
// KCLUSTER_ATTACH=<file> attaches to clusters already started by `npm run dev:clusters`
// (it prints the file) instead of starting new ones.
import type { TestProject } from "vitest/node"
import { type ClustersContext, readContextFile, startEnvironment } from "./environment.ts"

declare module "vitest" {
  export interface ProvidedContext {
    clusters: ClustersContext
  }
}

export type { ClusterContext, ClustersContext } from "./environment.ts"

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const attach = process.env.KCLUSTER_ATTACH
  if (attach !== undefined && attach !== "") {
    project.provide("clusters", readContextFile(attach))
    return async () => {}
  }
  const started = Date.now()
  const env = await startEnvironment()
  process.stderr.write(
    `[kcluster] supervisor ${env.context.supervisor.server}, remote ${env.context.remote.server} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`
  )
  project.provide("clusters", env.context)
  return async () => {
    await env.stop()
  }
}
