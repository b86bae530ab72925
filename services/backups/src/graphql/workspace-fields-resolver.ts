import { Arg, Args, Ctx, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { backupCursor, restoreCursor } from '../read-model/queries.js';
import { requireRole } from './access.js';
import { BackupConnection, BackupsPageArgs, RestoreConnection, toConnection, type Connection } from './connections.js';
import type { BackupsContext } from './context.js';
import { BackupStatusValue } from './enums.js';
import { toBackup, toLocation, toRestore, toSchedule } from './mapping.js';
import { BackupLocation, BackupSchedule, WorkspaceRef, type Backup, type Restore } from './types.js';

/** The workspace's backups, restores, schedules and locations: every role in the workspace sees them; anyone else is told the workspace does not exist. */
@Resolver(() => WorkspaceRef)
export class WorkspaceBackupsResolver {
  @FieldResolver(() => BackupConnection, { description: 'Newest first; filtered by status, by schedule, or to on-demand backups.' })
  async backups(
    @Root() workspace: WorkspaceRef,
    @Args(() => BackupsPageArgs) page: BackupsPageArgs,
    @Arg('status', () => [BackupStatusValue], { nullable: true, defaultValue: null, description: 'Only backups in one of these statuses.' }) status: BackupStatusValue[] | null,
    @Arg('scheduleId', () => ID, { nullable: true, defaultValue: null, description: "Only this schedule's backups." }) scheduleId: string | null,
    @Arg('onDemand', () => Boolean, { nullable: true, defaultValue: null, description: 'true: only on-demand backups (scheduleId then is not given).' }) onDemand: boolean | null,
    @Ctx() context: BackupsContext,
  ): Promise<Connection<Backup>> {
    await requireRole(context.reads, workspace.id);
    const found = await context.reads.backupsPage({
      workspaceId: workspace.id,
      first: page.first,
      ...(page.after == null ? {} : { after: page.after }),
      ...(status === null ? {} : { statuses: status }),
      ...(onDemand ? { scheduleId: null } : scheduleId === null ? {} : { scheduleId }),
    });
    return toConnection(found, toBackup, backupCursor);
  }

  @FieldResolver(() => RestoreConnection, { description: 'Newest first; optionally the restores of one backup.' })
  async restores(
    @Root() workspace: WorkspaceRef,
    @Args(() => BackupsPageArgs) page: BackupsPageArgs,
    @Arg('backupId', () => ID, { nullable: true, defaultValue: null }) backupId: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<Connection<Restore>> {
    await requireRole(context.reads, workspace.id);
    const found = await context.reads.restoresPage({
      workspaceId: workspace.id,
      first: page.first,
      ...(page.after == null ? {} : { after: page.after }),
      ...(backupId === null ? {} : { backupId }),
    });
    return toConnection(found, toRestore, restoreCursor);
  }

  @FieldResolver(() => [BackupSchedule], { description: 'By prefix.' })
  async backupSchedules(@Root() workspace: WorkspaceRef, @Ctx() context: BackupsContext): Promise<BackupSchedule[]> {
    await requireRole(context.reads, workspace.id);
    const now = context.reads.now();
    return (await context.reads.schedules(workspace.id)).map((schedule) => toSchedule(workspace.id, schedule, now));
  }

  @FieldResolver(() => [BackupLocation], { description: "The locations the workspace may use: the organization's and its own, by name." })
  async backupLocations(@Root() workspace: WorkspaceRef, @Ctx() context: BackupsContext): Promise<BackupLocation[]> {
    await requireRole(context.reads, workspace.id);
    return (await context.reads.locations(workspace.id)).map(toLocation);
  }
}

/** How a router resolves a `Workspace` reference here: to the workspace if the caller holds a role in it, else null (as the workspaces subgraph does). */
export const referenceResolvers = {
  async Workspace(reference: Record<string, unknown>, context: BackupsContext): Promise<WorkspaceRef | null> {
    const id = String(reference.id);
    return (await context.reads.roleIn(id)) ? { id } : null;
  },
};
