import 'reflect-metadata';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type PubSub } from 'type-graphql';
import { HistoryResolver } from './history-resolver.js';
import { OrganizationResolver } from './organization-resolver.js';
import { referenceResolvers } from './references.js';
import { OrganizationChangeResolver, WorkspaceChangeResolver, WorkspaceFieldsResolver } from './workspace-fields-resolver.js';
import { WorkspaceEventsResolver } from './workspace-events-resolver.js';
import { WorkspaceResolver } from './workspace-resolver.js';

type SubgraphResolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

/** The subgraph's name in a supergraph: what routers and `schema/graphql/<name>.graphql` call it. */
export const WORKSPACES_SUBGRAPH = 'workspaces';

/** The Federation version the subgraph links: 2.3 is understood by every Federation 2 router (Apollo Router and Gateway, Hive Gateway, Cosmo). */
const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

/** Organizations, workspaces, members and governance, as type-graphql builds them (no federation). */
export async function buildWorkspacesSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [OrganizationResolver, WorkspaceResolver, WorkspaceFieldsResolver, WorkspaceChangeResolver, OrganizationChangeResolver, HistoryResolver, WorkspaceEventsResolver],
    validate: false,
    pubSub: NO_TOPICS,
  });
}

/** type-graphql wants a PubSub once a resolver has a @Subscription, though ours bring their own `subscribe` (the log's event feed) and use no topics. */
const NO_TOPICS: PubSub = {
  publish() {
    throw new Error('The workspaces subgraph publishes no topics: subscriptions follow the log.');
  },
  subscribe() {
    throw new Error('The workspaces subgraph publishes no topics: subscriptions follow the log.');
  },
};

/**
 * The workspaces subgraph (Apollo Federation 2): the same types and
 * resolvers, with `@key` on Workspace, Organization and Cluster, their
 * reference resolvers, and `_service`/`_entities`. Its context is a
 * `WorkspacesContext`, whether a gateway runs it in-process or it is served
 * alone over HTTP.
 */
export async function buildWorkspacesSubgraph(): Promise<GraphQLSchema> {
  const schema = await buildWorkspacesSchema();
  const resolvers: Record<string, object> = { ...createResolversMap(schema) };
  for (const [type, reference] of Object.entries(referenceResolvers)) resolvers[type] = { ...resolvers[type], ...reference };
  return buildSubgraphSchema({ typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`), resolvers: resolvers as SubgraphResolvers });
}

/** A subgraph schema's SDL with its federation directives (`@link`, `@key`): what a router composes. */
export function subgraphSdl(subgraph: GraphQLSchema): string {
  return printSubgraphSchema(subgraph);
}
