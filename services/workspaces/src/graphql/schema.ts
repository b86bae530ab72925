import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { OrganizationResolver } from './organization-resolver.js';
import { WorkspaceResolver } from './workspace-resolver.js';

/** The workspaces subgraph: organizations, workspaces, members and governance. */
export async function buildWorkspacesSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [OrganizationResolver, WorkspaceResolver], validate: false });
}
