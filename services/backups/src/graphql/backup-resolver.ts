import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { restoreCursor } from '../read-model/queries.js';
import { visibleBackup, visibleRestore } from './access.js';
import { answer, commandContext, IdempotencyKey } from './commanding.js';
import { BackupsPageArgs, RestoreConnection, toConnection, type Connection } from './connections.js';
import type { BackupsContext } from './context.js';
import { BackupNowInput, RestoreOptionsInput } from './inputs.js';
import { toBackup, toBackupCluster, toProgress, toRestore, toRestoreCluster } from './mapping.js';
import { Backup, BackupCluster, BackupsChange, Restore, RestoreCluster, RunProgress, WorkspaceRef } from './types.js';

/** One backup: its detail (clusters, aggregate), its restores; and the mutations on backups. */
@Resolver(() => Backup)
export class BackupResolver {
  @Query(() => Backup, { description: 'NOT_FOUND unless the caller holds a role in its workspace.' })
  async backup(@Arg('id', () => ID) id: string, @Ctx() context: BackupsContext): Promise<Backup> {
    return toBackup(await visibleBackup(context.reads, id));
  }

  @FieldResolver(() => [BackupCluster], { description: 'Every planned cluster with its phase and figures, and every skipped one with the reason; by cluster name.' })
  async clusterDetails(@Root() backup: Backup, @Ctx() context: BackupsContext): Promise<BackupCluster[]> {
    return (await visibleBackup(context.reads, backup.id)).clusterDetails.map(toBackupCluster);
  }

  @FieldResolver(() => RunProgress, { description: 'The aggregate now: clusters done, failed, skipped, the overall percentage and the estimated time left.' })
  async progress(@Root() backup: Backup, @Ctx() context: BackupsContext): Promise<RunProgress> {
    return toProgress((await visibleBackup(context.reads, backup.id)).progress);
  }

  @FieldResolver(() => WorkspaceRef)
  workspace(@Root() backup: Backup): WorkspaceRef {
    return { id: backup.workspaceId };
  }

  @FieldResolver(() => RestoreConnection, { description: 'Its restores, newest first.' })
  async restores(@Root() backup: Backup, @Args(() => BackupsPageArgs) page: BackupsPageArgs, @Ctx() context: BackupsContext): Promise<Connection<Restore>> {
    await visibleBackup(context.reads, backup.id);
    const found = await context.reads.restoresPage({ workspaceId: backup.workspaceId, backupId: backup.id, first: page.first, ...(page.after == null ? {} : { after: page.after }) });
    return toConnection(found, toRestore, restoreCursor);
  }

  @Mutation(() => BackupsChange, { description: "Admins and owners: backs the workspace's clusters up now; `id` is the new backup's." })
  async backupNow(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('backup', () => BackupNowInput) input: BackupNowInput,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const result = await context.commands.backupNow(commandContext(context, idempotencyKey), workspaceId, {
      prefix: input.prefix,
      locationId: input.locationId,
      includeAllDisks: input.includeAllDisks,
      includeClusterResources: input.includeClusterResources,
      namespaces: input.namespaces,
      clusters: input.clusters ?? null,
      ...(input.expiry == null ? {} : { expiry: input.expiry }),
      ...(input.expiresAt == null ? {} : { expiresAt: input.expiresAt }),
    });
    return answer(context, result.backupId, result);
  }

  @Mutation(() => BackupsChange, { description: "Admins and owners: deletes the backup's files before its expiry." })
  async deleteBackup(
    @Arg('backupId', () => ID) backupId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    return answer(context, backupId, await context.commands.deleteBackup(commandContext(context, idempotencyKey), backupId));
  }

  @Mutation(() => BackupsChange, { description: 'Admins and owners: restores a finished backup onto every cluster still in the workspace; `id` is the new restore\'s.' })
  async restoreBackup(
    @Arg('backupId', () => ID) backupId: string,
    @Arg('options', () => RestoreOptionsInput) options: RestoreOptionsInput,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const result = await context.commands.restoreBackup(commandContext(context, idempotencyKey), backupId, {
      includeClusterResources: options.includeClusterResources,
      preserveNodePorts: options.preserveNodePorts,
      restorePersistentVolumes: options.restorePersistentVolumes,
    });
    return answer(context, result.restoreId, result);
  }
}

@Resolver(() => Restore)
export class RestoreResolver {
  @Query(() => Restore, { description: 'NOT_FOUND unless the caller holds a role in its workspace.' })
  async restore(@Arg('id', () => ID) id: string, @Ctx() context: BackupsContext): Promise<Restore> {
    return toRestore(await visibleRestore(context.reads, id));
  }

  @FieldResolver(() => [RestoreCluster])
  async clusterDetails(@Root() restore: Restore, @Ctx() context: BackupsContext): Promise<RestoreCluster[]> {
    return (await visibleRestore(context.reads, restore.id)).clusterDetails.map(toRestoreCluster);
  }

  @FieldResolver(() => RunProgress)
  async progress(@Root() restore: Restore, @Ctx() context: BackupsContext): Promise<RunProgress> {
    return toProgress((await visibleRestore(context.reads, restore.id)).progress);
  }

  @FieldResolver(() => Backup, { nullable: true, description: 'The backup restored.' })
  async backup(@Root() restore: Restore, @Ctx() context: BackupsContext): Promise<Backup | null> {
    const backup = await context.reads.backup(restore.backupId);
    return backup ? toBackup(backup) : null;
  }
}

@Resolver(() => BackupsChange)
export class BackupsChangeResolver {
  @FieldResolver(() => Boolean, {
    description: "Whether the read models reflect the change: waits (bounded) until they do. The caller's later reads wait for it anyway.",
  })
  async consistent(@Root() change: BackupsChange, @Ctx() context: BackupsContext): Promise<boolean> {
    return context.consistency ? context.consistency.waitFor(BigInt(change.position)) : true;
  }
}
