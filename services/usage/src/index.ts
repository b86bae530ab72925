export { aggregateUsage, clusterCapacity, evenShares, GPU_RESOURCE, isCounted, WorkloadResolver, type ClusterSnapshot, type NodeLike, type OwnedLike, type PodLike, type PodMetricsLike, type WorkloadRef } from './aggregate.js';
export { clusterTargets, type ClusterTarget } from './targets.js';
export {
  DEFAULT_CLUSTER_TIMEOUT_MS,
  DEFAULT_USAGE_INTERVAL_MS,
  startUsageCollector,
  type CollectionReport,
  type SkipReason,
  type UsageCollector,
  type UsageCollectorOptions,
  type UsageLogger,
} from './collector.js';
