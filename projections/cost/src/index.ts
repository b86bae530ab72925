export { costProjector } from './cost-projector.js';
export { costStreams, decode } from './events.js';
export {
  allocate,
  CLUSTER_MEASURES,
  WORKLOAD_MEASURES,
  type Allocation,
  type ClusterHour,
  type ClusterMeasures,
  type UsageSample,
  type WorkloadHour,
  type WorkloadMeasures,
} from './model/allocation.js';
export { UsageSum, type UsageTotals } from './model/usage-sum.js';
export { CostLedger, recompute, type CostEvent } from './model/ledger.js';
export { apportion, formatMicros, nanosToPrice, priceToNanos, roundHalfEven } from './model/money.js';
export { rollUp, RollupTotals, type RollupTable } from './model/rollup.js';
export { ClusterSettings } from './model/settings.js';
export { DEFAULT_PRICE_BOOK, priceBookOf, Timeline, type PriceBook } from './model/timeline.js';
export {
  clusterIdle,
  clusterPricing,
  COST_CSV_HEADER,
  costBreakdown,
  costCsv,
  costTotals,
  dailyCost,
  latestNamespaceUsage,
  topWorkloads,
  utilizationTrend,
  type BreakdownDimension,
  type BreakdownRow,
  type ClusterIdle,
  type ClusterPricing,
  type CostAmounts,
  type LatestNamespaceUsage,
  type NamespaceUsage,
  type PriceBookEntry,
  type Resolution,
  type UtilizationPoint,
  type UtilizationQuery,
  type WorkloadRef,
  type WorkspacePeriod,
} from './reader.js';
export { MAX_PERIOD_DAYS, type Period } from './period.js';
export { toCsv, type CsvField } from './csv.js';
