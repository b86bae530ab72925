import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildTypeGraphQLSchema, federatedSubgraph } from '@canopy/workspaces';
import { BackupResolver, BackupsChangeResolver, RestoreResolver } from './backup-resolver.js';
import { BackupProgressResolver } from './progress-resolver.js';
import { ScheduleAndLocationResolver } from './schedule-resolver.js';
import { referenceResolvers, WorkspaceBackupsResolver } from './workspace-fields-resolver.js';

/** The subgraph's name in a supergraph. */
export const BACKUPS_SUBGRAPH = 'backups';

/** Backup locations, schedules, backups, restores and their progress, as type-graphql builds them (no federation). */
export function buildBackupsSchema(): Promise<GraphQLSchema> {
  return buildTypeGraphQLSchema(BACKUPS_SUBGRAPH, {
    resolvers: [WorkspaceBackupsResolver, BackupResolver, RestoreResolver, BackupsChangeResolver, ScheduleAndLocationResolver, BackupProgressResolver],
  });
}

/**
 * The backups subgraph (Apollo Federation 2): it extends the `Workspace`
 * entity (key `id`) with the workspace's backups, restores, schedules and
 * locations, and adds `backup`, `restore`, the mutations and the
 * `backupProgress` subscription. Its context is a `BackupsContext`.
 */
export async function buildBackupsSubgraph(): Promise<GraphQLSchema> {
  return federatedSubgraph(await buildBackupsSchema(), { Workspace: { __resolveReference: referenceResolvers.Workspace } });
}
