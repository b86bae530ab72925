import 'reflect-metadata';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { buildTypeGraphQLSchema, federatedSubgraph } from './subgraph-builder.js';
import { HistoryResolver } from './history-resolver.js';
import { OrganizationResolver } from './organization-resolver.js';
import { referenceResolvers } from './references.js';
import { ClusterFieldsResolver, OrganizationChangeResolver, WorkspaceChangeResolver, WorkspaceFieldsResolver } from './workspace-fields-resolver.js';
import { WorkspaceEventsResolver } from './workspace-events-resolver.js';
import { WorkspaceResolver } from './workspace-resolver.js';

/** The subgraph's name in a supergraph: what routers and `schema/graphql/<name>.graphql` call it. */
export const WORKSPACES_SUBGRAPH = 'workspaces';

/** Organizations, workspaces, members and governance, as type-graphql builds them (no federation). */
export function buildWorkspacesSchema(): Promise<GraphQLSchema> {
  return buildTypeGraphQLSchema(WORKSPACES_SUBGRAPH, {
    resolvers: [OrganizationResolver, WorkspaceResolver, WorkspaceFieldsResolver, ClusterFieldsResolver, WorkspaceChangeResolver, OrganizationChangeResolver, HistoryResolver, WorkspaceEventsResolver],
  });
}

/**
 * The workspaces subgraph (Apollo Federation 2): the same types and
 * resolvers, with `@key` on Workspace, Organization and Cluster, their
 * reference resolvers, and `_service`/`_entities`. Its context is a
 * `WorkspacesContext`, whether a gateway runs it in-process or it is served
 * alone over HTTP.
 */
export async function buildWorkspacesSubgraph(): Promise<GraphQLSchema> {
  return federatedSubgraph(await buildWorkspacesSchema(), referenceResolvers);
}

/** A subgraph schema's SDL with its federation directives (`@link`, `@key`): what a router composes. */
export function subgraphSdl(subgraph: GraphQLSchema): string {
  return printSubgraphSchema(subgraph);
}
