import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildTypeGraphQLSchema, federatedSubgraph } from '@canopy/workspaces';
import { PricingResolver } from './pricing-resolver.js';
import { WorkspaceRef } from './types.js';
import { referenceResolvers, WorkspaceCostResolver } from './workspace-fields-resolver.js';

/** The subgraph's name in a supergraph. */
export const COST_SUBGRAPH = 'cost';

/** Cost, utilization, quota usage and pricing, as type-graphql builds them (no federation). */
export function buildCostSchema(): Promise<GraphQLSchema> {
  // Nothing here returns a Workspace: it is reached through the router's `_entities` only.
  return buildTypeGraphQLSchema(COST_SUBGRAPH, { resolvers: [WorkspaceCostResolver, PricingResolver], orphanedTypes: [WorkspaceRef] });
}

/**
 * The cost subgraph (Apollo Federation 2): it extends the `Workspace`
 * entity (key `id`) with the workspace's cost, utilization, quota usage and
 * its clusters' pricing, and adds `defaultPriceBook` and the mutations
 * `setPriceBook` and `setIdleSharing`. Its context is a `CostContext`.
 */
export async function buildCostSubgraph(): Promise<GraphQLSchema> {
  return federatedSubgraph(await buildCostSchema(), { Workspace: { __resolveReference: referenceResolvers.Workspace } });
}
