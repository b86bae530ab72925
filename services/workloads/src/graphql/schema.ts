import 'reflect-metadata';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { buildTypeGraphQLSchema, federatedSubgraph } from '@canopy/workspaces';
import type { WorkloadsContext } from './context.js';
import { deliveredChange, WorkloadStatusResolver } from './workload-status-resolver.js';
import { WorkloadsResolver } from './workloads-resolver.js';
import { WorkspaceWithWorkloads } from './types.js';

/** The subgraph's name in a supergraph. */
export const WORKLOADS_SUBGRAPH = 'workloads';

/** The workloads types and resolvers as type-graphql builds them (no federation). */
export function buildWorkloadsSchema(): Promise<GraphQLSchema> {
  // Workspace is reached only through `_entities`: no field of this subgraph returns it.
  return buildTypeGraphQLSchema(WORKLOADS_SUBGRAPH, { resolvers: [WorkloadsResolver, WorkloadStatusResolver], orphanedTypes: [WorkspaceWithWorkloads] });
}

/**
 * The workloads subgraph (Apollo Federation 2): `Workspace` (key `id`,
 * the workspaces subgraph's entity) extended with `workloads` and
 * `workloadStatusCounts`, the `workload` query, the `workloadStatus`
 * subscription, and `Cluster` referenced by its key. Its context is a
 * `WorkloadsContext`.
 */
export async function buildWorkloadsSubgraph(): Promise<GraphQLSchema> {
  const subgraph = federatedSubgraph(await buildWorkloadsSchema(), {
    Workspace: {
      // Access is checked by each field (any role in the workspace), as the workspaces subgraph resolved the reference for the caller first.
      __resolveReference: (reference: { id: string }, _context: WorkloadsContext): WorkspaceWithWorkloads => ({ id: reference.id }),
    },
  });
  const workloadStatus = subgraph.getSubscriptionType()?.getFields()['workloadStatus'];
  if (!workloadStatus) throw new Error('the workloads subgraph lost its workloadStatus subscription');
  workloadStatus.resolve = deliveredChange;
  return subgraph;
}

export function workloadsSubgraphSdl(subgraph: GraphQLSchema): string {
  return printSubgraphSchema(subgraph);
}
