import { CanopyError, ErrorCode } from '@canopy/schema';
import { Arg, Ctx, FieldResolver, ID, Int, Resolver, Root } from 'type-graphql';
import { requireRole } from './access.js';
import type { CostContext } from './context.js';
import { CostBreakdownBy, UtilizationResolution } from './enums.js';
import { toBreakdownRow, toPricing, toQuotaUsage } from './mapping.js';
import { ClusterIdleCost, CostAmounts, CostBreakdownRow, CostClusterPricing, DailyCost, QuotaUsage, RankedWorkloadCost, UtilizationPoint, WorkspaceRef } from './types.js';

const FROM = { description: 'ISO 8601 instant, included.' } as const;
const TO = { description: 'ISO 8601 instant, excluded.' } as const;
const HOURS = 'The period is whole UTC hours, at most 732 days.';
const DAYS = 'The period is whole UTC days (midnights), at most 732 days.';

/**
 * A workspace's cost, utilization and quota usage. Every role in the
 * workspace reads them; anyone else is told the workspace does not exist.
 * Every figure is per currency; money is exact decimal strings.
 */
@Resolver(() => WorkspaceRef)
export class WorkspaceCostResolver {
  @FieldResolver(() => [CostAmounts], { description: `The workspace's cost over a period, one entry per currency. ${HOURS}` })
  async costTotals(@Root() workspace: WorkspaceRef, @Arg('from', FROM) from: string, @Arg('to', TO) to: string, @Ctx() context: CostContext): Promise<CostAmounts[]> {
    await requireRole(context.reads, workspace.id);
    return context.reads.costTotals(workspace.id, { from, to });
  }

  @FieldResolver(() => [DailyCost], { description: `Cost per UTC day and currency, oldest first; days without usage are absent. ${DAYS}` })
  async dailyCost(@Root() workspace: WorkspaceRef, @Arg('from', FROM) from: string, @Arg('to', TO) to: string, @Ctx() context: CostContext): Promise<DailyCost[]> {
    await requireRole(context.reads, workspace.id);
    return context.reads.dailyCost(workspace.id, { from, to });
  }

  @FieldResolver(() => [CostBreakdownRow], { description: `Cost by cluster, namespace or workload, largest first within each currency. ${HOURS}` })
  async costBreakdown(
    @Root() workspace: WorkspaceRef,
    @Arg('from', FROM) from: string,
    @Arg('to', TO) to: string,
    @Arg('by', () => CostBreakdownBy) by: CostBreakdownBy,
    @Ctx() context: CostContext,
  ): Promise<CostBreakdownRow[]> {
    await requireRole(context.reads, workspace.id);
    return (await context.reads.costBreakdown(workspace.id, { from, to }, by)).map(toBreakdownRow);
  }

  @FieldResolver(() => [RankedWorkloadCost], { description: `The most expensive workloads, per currency. ${HOURS}` })
  async topCostWorkloads(
    @Root() workspace: WorkspaceRef,
    @Arg('from', FROM) from: string,
    @Arg('to', TO) to: string,
    @Arg('limit', () => Int, { defaultValue: 10, description: '1 to 1000, per currency.' }) limit: number,
    @Ctx() context: CostContext,
  ): Promise<RankedWorkloadCost[]> {
    await requireRole(context.reads, workspace.id);
    return context.reads.topWorkloads(workspace.id, { from, to }, limit);
  }

  @FieldResolver(() => [UtilizationPoint], {
    description: 'Average CPU and memory used and requested per hour (whole hours, at most 31 days) or day (whole days), oldest first, of the workspace or one cluster, namespace or workload of it; buckets without samples are absent.',
  })
  async utilizationTrend(
    @Root() workspace: WorkspaceRef,
    @Arg('from', FROM) from: string,
    @Arg('to', TO) to: string,
    @Arg('resolution', () => UtilizationResolution, { defaultValue: UtilizationResolution.HOUR }) resolution: UtilizationResolution,
    @Arg('clusterId', () => ID, { nullable: true, defaultValue: null }) clusterId: string | null,
    @Arg('namespace', () => String, { nullable: true, defaultValue: null }) namespace: string | null,
    @Arg('workloadKind', () => String, { nullable: true, defaultValue: null, description: 'With workloadName and namespace: one workload.' }) workloadKind: string | null,
    @Arg('workloadName', () => String, { nullable: true, defaultValue: null }) workloadName: string | null,
    @Ctx() context: CostContext,
  ): Promise<UtilizationPoint[]> {
    await requireRole(context.reads, workspace.id);
    if ((workloadKind == null) !== (workloadName == null)) {
      throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'A workload is named by workloadKind and workloadName together.', { field: workloadKind == null ? 'workloadKind' : 'workloadName' });
    }
    return context.reads.utilizationTrend({
      workspaceId: workspace.id,
      from,
      to,
      resolution,
      ...(clusterId == null ? {} : { clusterId }),
      ...(namespace == null ? {} : { namespace }),
      ...(workloadKind == null || workloadName == null ? {} : { workload: { kind: workloadKind, name: workloadName } }),
    });
  }

  @FieldResolver(() => String, {
    description: `The finance export (RFC 4180 CSV): one record per UTC day, cluster, namespace, workload and currency, with the core-, GiB- and GPU-hours priced and each cost. ${DAYS.replace('732', '92')}`,
  })
  async costCsv(@Root() workspace: WorkspaceRef, @Arg('from', FROM) from: string, @Arg('to', TO) to: string, @Ctx() context: CostContext): Promise<string> {
    await requireRole(context.reads, workspace.id);
    return context.reads.costCsv(workspace.id, { from, to });
  }

  @FieldResolver(() => [QuotaUsage], {
    description: "Each namespace's quota on each of the workspace's clusters (its per-cluster override where one applies) beside what it used and requested in the cluster's latest sampled hour; by namespace, then cluster id.",
  })
  async quotaUsage(@Root() workspace: WorkspaceRef, @Ctx() context: CostContext): Promise<QuotaUsage[]> {
    await requireRole(context.reads, workspace.id);
    const quotas = await context.reads.desiredQuotas(workspace.id);
    const usage = await context.reads.latestNamespaceUsage(workspace.id, [...new Set(quotas.map((quota) => quota.clusterId))]);
    return toQuotaUsage(quotas, usage);
  }

  @FieldResolver(() => [CostClusterPricing], { description: "The price books and idle-sharing settings of the workspace's clusters, by cluster id." })
  async clusterPricing(@Root() workspace: WorkspaceRef, @Ctx() context: CostContext): Promise<CostClusterPricing[]> {
    await requireRole(context.reads, workspace.id);
    const clusterIds = await context.reads.clusterIds(workspace.id);
    const pricing = await context.reads.clusterPricing(clusterIds);
    return clusterIds.map((clusterId) => toPricing(clusterId, pricing.get(clusterId)));
  }

  @FieldResolver(() => [ClusterIdleCost], { description: `Capacity, allocation and idle cost of the workspace's clusters, by cluster id then currency. ${HOURS}` })
  async clusterIdleCost(@Root() workspace: WorkspaceRef, @Arg('from', FROM) from: string, @Arg('to', TO) to: string, @Ctx() context: CostContext): Promise<ClusterIdleCost[]> {
    await requireRole(context.reads, workspace.id);
    return context.reads.clusterIdle(await context.reads.clusterIds(workspace.id), { from, to });
  }
}

/** How a router resolves a `Workspace` reference here: to the workspace if the caller holds a role in it, else null. */
export const referenceResolvers = {
  async Workspace(reference: Record<string, unknown>, context: CostContext): Promise<WorkspaceRef | null> {
    const id = String(reference.id);
    return (await context.reads.roleIn(id)) ? { id } : null;
  },
};
