import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { HistoryResolver } from './history-resolver.js';
import { OrganizationResolver } from './organization-resolver.js';
import { OrganizationChangeResolver, WorkspaceChangeResolver, WorkspaceFieldsResolver } from './workspace-fields-resolver.js';
import { WorkspaceResolver } from './workspace-resolver.js';

/** The workspaces subgraph: organizations, workspaces, members and governance. */
export async function buildWorkspacesSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [OrganizationResolver, WorkspaceResolver, WorkspaceFieldsResolver, WorkspaceChangeResolver, OrganizationChangeResolver, HistoryResolver],
    validate: false,
  });
}
