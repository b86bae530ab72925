import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { composeSupergraph } from '@canopy/schema/graphql';
import { BACKUPS_SUBGRAPH, buildBackupsSubgraph } from '@canopy/backups';
import { buildWorkspacesSubgraph, subgraphSdl, WORKSPACES_SUBGRAPH } from '@canopy/workspaces';
import { buildCostSubgraph, COST_SUBGRAPH } from '../src/index.js';

describe('the cost subgraph in a supergraph', () => {
  it('composes with the workspaces and backups subgraphs: Workspace gains its cost fields, and no type name collides', async () => {
    const cost = await buildCostSubgraph();
    const composed = composeSupergraph([
      { name: WORKSPACES_SUBGRAPH, url: 'http://localhost:4001/graphql', sdl: subgraphSdl(await buildWorkspacesSubgraph()) },
      { name: BACKUPS_SUBGRAPH, url: 'http://localhost:4002/graphql', sdl: subgraphSdl(await buildBackupsSubgraph()) },
      { name: COST_SUBGRAPH, url: 'http://localhost:4003/graphql', sdl: subgraphSdl(cost) },
    ]);
    expect(composed.apiSdl).toContain('setPriceBook(input: PriceBookInput!): PricingChange!');
    expect(composed.apiSdl).toContain('scalar Decimal');
    expect(composed.supergraphSdl).toMatch(/costTotals\([^)]*\): \[CostAmounts!\]! @join__field\(graph: COST\)/);
    expect(Object.keys((cost.getType('Workspace') as unknown as { getFields(): object }).getFields()).sort()).toEqual([
      'clusterIdleCost',
      'clusterPricing',
      'costBreakdown',
      'costCsv',
      'costTotals',
      'dailyCost',
      'id',
      'quotaUsage',
      'topCostWorkloads',
      'utilizationTrend',
    ]);
  });
});
