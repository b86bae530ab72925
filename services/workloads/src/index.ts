export { statusOf, sameStatus, type KubeObject, type ObservedStatus } from './status/status-of.js';
export { WorkloadChanges, workloadKey, type KnownWorkload, type WorkloadChange, type WorkloadRef } from './watch/changes.js';
export { startWorkloadWatcher, WATCHER_ACTOR, type ClusterWatchHealth, type KnownWorkloads, type WatcherLogger, type WorkloadWatcher, type WorkloadWatcherOptions } from './watch/watcher.js';
export { DEFAULT_RETRY, type RetryOptions } from './watch/resource-watch.js';
export { WATCHED_KINDS } from './watch/kinds.js';
export { WORKLOADS_PREFIX, workloadsStream } from './streams.js';
export { workloadsProjector } from './read-model/projector.js';
export {
  emptyCounts,
  knownWorkloads,
  MAX_WORKLOAD_PAGE,
  workloadByKey,
  workloadsPage,
  workloadStatusCounts,
  type StatusCounts,
  type WorkloadPage,
  type WorkloadRecord,
  type WorkloadsQuery,
} from './read-model/queries.js';
export { buildWorkloadsSchema, buildWorkloadsSubgraph, workloadsSubgraphSdl, WORKLOADS_SUBGRAPH } from './graphql/schema.js';
export { workloadReads, type WorkloadReadsOptions } from './graphql/reads.js';
export type { LiveWorkloadReads, WorkloadReads, WorkloadsContext } from './graphql/context.js';
