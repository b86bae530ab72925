import { clusterIdle, clusterPricing, costBreakdown, costCsv, costTotals, dailyCost, latestNamespaceUsage, topWorkloads, utilizationTrend } from '@canopy/cost';
import type { ReadModelTx } from '@canopy/projections';
import type { WorkspaceRole } from '@canopy/schema';
import { desiredQuotas } from '@canopy/workspace-read-models';
import { effectiveRole, type WorkspaceView } from '@canopy/workspaces';
import type { CostReads } from './context.js';

/** Where the reads go. */
export interface CostReadSource {
  /** The read models' database. */
  db: ReadModelTx;
  /** The schema the `cost` projector is served from right now (`runner.activeSchema('cost')`: blue/green moves it). */
  schema(): string;
  /** The schema of the workspaces' `quotas` projector (`runner.activeSchema('quotas')`). */
  quotasSchema(): string;
  /** The workspaces service's directory: a workspace's clusters and (unless `roleIn` is given) who holds which role. */
  workspaces: { workspace(workspaceId: string): WorkspaceView | undefined };
  /** The caller's effective role, when it should come from elsewhere (the workspaces read models, for the same read-your-writes as the workspaces subgraph). */
  roleIn?(workspaceId: string): Promise<WorkspaceRole | undefined>;
  /** Awaited before every read-model query (read-your-writes). */
  ready?(): Promise<unknown>;
}

/** The caller's reads for one request, over the cost reader (`@canopy/cost`) and the quotas read model. */
export function costReads(source: CostReadSource, userId: string): CostReads {
  const { db, workspaces } = source;
  const read = async <T>(query: (schema: string) => Promise<T>): Promise<T> => {
    await source.ready?.();
    return query(source.schema());
  };
  return {
    async roleIn(workspaceId) {
      if (source.roleIn) return source.roleIn(workspaceId);
      const view = workspaces.workspace(workspaceId);
      return view && effectiveRole(view, userId);
    },
    async clusterIds(workspaceId) {
      return [...(workspaces.workspace(workspaceId)?.state.clusters.keys() ?? [])].sort();
    },
    costTotals: (workspaceId, period) => read((s) => costTotals(db, s, { workspaceId, ...period })),
    dailyCost: (workspaceId, period) => read((s) => dailyCost(db, s, { workspaceId, ...period })),
    costBreakdown: (workspaceId, period, by) => read((s) => costBreakdown(db, s, { workspaceId, ...period, by })),
    topWorkloads: (workspaceId, period, limit) => read((s) => topWorkloads(db, s, { workspaceId, ...period, limit })),
    utilizationTrend: (query) => read((s) => utilizationTrend(db, s, query)),
    costCsv: (workspaceId, period) => read((s) => costCsv(db, s, { workspaceId, ...period })),
    clusterIdle: (clusterIds, period) => read((s) => clusterIdle(db, s, { clusterIds, ...period })),
    clusterPricing: (clusterIds) => read((s) => clusterPricing(db, s, clusterIds)),
    async desiredQuotas(workspaceId) {
      await source.ready?.();
      return desiredQuotas(db, source.quotasSchema(), workspaceId);
    },
    latestNamespaceUsage: (workspaceId, clusterIds) => read((s) => latestNamespaceUsage(db, s, { workspaceId, clusterIds })),
  };
}
