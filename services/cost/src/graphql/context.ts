import type { BreakdownDimension, BreakdownRow, ClusterIdle, ClusterPricing, CostAmounts, LatestNamespaceUsage, Period, UtilizationPoint, UtilizationQuery, WorkloadRef } from '@canopy/cost';
import type { WorkspaceRole } from '@canopy/schema';
import type { DesiredQuota } from '@canopy/workspace-read-models';
import type { ReadModelConsistency } from '@canopy/workspaces';
import type { CostCommands } from '../app/commands.js';

/**
 * What the cost subgraph's resolvers get for one request. The gateway
 * builds it from the cost commands, the cost and quotas read models and
 * the workspaces directory (`costReads`), and the read-your-writes tracker.
 */
export interface CostContext {
  caller: { userId: string };
  correlationId?: string;
  commands: CostCommands;
  /** Made per request. */
  reads: CostReads;
  /** Read-your-writes: a mutation records the caller's write; absent, reads do not wait. */
  consistency?: ReadModelConsistency;
}

/** What queries read for one caller. They check nothing themselves: resolvers check `roleIn` first. */
export interface CostReads {
  /** The caller's effective role in the workspace; undefined when none, or no such live workspace. */
  roleIn(workspaceId: string): Promise<WorkspaceRole | undefined>;
  /** The ids of the clusters the live workspace has attached, sorted. */
  clusterIds(workspaceId: string): Promise<string[]>;
  costTotals(workspaceId: string, period: Period): Promise<CostAmounts[]>;
  dailyCost(workspaceId: string, period: Period): Promise<(CostAmounts & { day: string })[]>;
  costBreakdown(workspaceId: string, period: Period, by: BreakdownDimension): Promise<BreakdownRow[]>;
  topWorkloads(workspaceId: string, period: Period, limit: number): Promise<(CostAmounts & { workload: WorkloadRef; rank: number })[]>;
  utilizationTrend(query: UtilizationQuery): Promise<UtilizationPoint[]>;
  costCsv(workspaceId: string, period: Period): Promise<string>;
  clusterIdle(clusterIds: readonly string[], period: Period): Promise<ClusterIdle[]>;
  clusterPricing(clusterIds: readonly string[]): Promise<Map<string, ClusterPricing>>;
  /** Every namespace × cluster of the workspace with the quota that holds there (the quotas read model). */
  desiredQuotas(workspaceId: string): Promise<DesiredQuota[]>;
  latestNamespaceUsage(workspaceId: string, clusterIds: readonly string[]): Promise<LatestNamespaceUsage>;
}
