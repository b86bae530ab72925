import { CanopyError, ErrorCode, type WorkspaceRole } from '@canopy/schema';
import { workspaceNotFound } from '@canopy/workspaces';
import type { BackupDetail, RestoreDetail } from '../read-model/queries.js';
import type { BackupsReads } from './context.js';

/** The caller's role in the workspace; NOT_FOUND when they hold none (every role may see the workspace's backups). */
export async function requireRole(reads: BackupsReads, workspaceId: string): Promise<WorkspaceRole> {
  const role = await reads.roleIn(workspaceId);
  if (!role) throw workspaceNotFound(workspaceId);
  return role;
}

/** A backup the caller may see (a role in its workspace); otherwise NOT_FOUND, whether it exists or not. */
export async function visibleBackup(reads: BackupsReads, backupId: string): Promise<BackupDetail> {
  const backup = await reads.backup(backupId);
  if (!backup || !(await reads.roleIn(backup.workspaceId))) {
    throw new CanopyError(ErrorCode.NOT_FOUND, `Backup ${backupId} does not exist or you have no role in its workspace.`, { field: 'backupId', backupId });
  }
  return backup;
}

export async function visibleRestore(reads: BackupsReads, restoreId: string): Promise<RestoreDetail> {
  const restore = await reads.restore(restoreId);
  if (!restore || !(await reads.roleIn(restore.workspaceId))) {
    throw new CanopyError(ErrorCode.NOT_FOUND, `Restore ${restoreId} does not exist or you have no role in its workspace.`, { field: 'restoreId', restoreId });
  }
  return restore;
}
