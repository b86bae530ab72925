/**
 * The backup streams. `backup-locations-` starts with `backup-`: a reader
 * that tells streams apart checks it first (`streamOf`), and a subscription
 * filtered on `backup-` gets the locations' events too.
 */
export const LOCATIONS_PREFIX = 'backup-locations-';
export const SCHEDULES_PREFIX = 'backups-';
export const BACKUP_PREFIX = 'backup-';
export const RESTORE_PREFIX = 'restore-';

/** Every backup stream, for a subscription's `streamPrefixes` (`backup-` covers the locations). */
export const BACKUP_STREAM_PREFIXES = [SCHEDULES_PREFIX, BACKUP_PREFIX, RESTORE_PREFIX] as const;

/** An organization's backup locations (organization-wide and its workspaces' own). */
export const locationsStream = (organizationId: string): string => `${LOCATIONS_PREFIX}${organizationId}`;
/** A workspace's backup schedules. */
export const schedulesStream = (workspaceId: string): string => `${SCHEDULES_PREFIX}${workspaceId}`;
export const backupStream = (backupId: string): string => `${BACKUP_PREFIX}${backupId}`;
export const restoreStream = (restoreId: string): string => `${RESTORE_PREFIX}${restoreId}`;

export type BackupStreamKind = 'locations' | 'schedules' | 'backup' | 'restore';

/** Which backup stream this is, with its entity id; undefined for any other stream. */
export function streamOf(stream: string): { kind: BackupStreamKind; id: string } | undefined {
  if (stream.startsWith(LOCATIONS_PREFIX)) return { kind: 'locations', id: stream.slice(LOCATIONS_PREFIX.length) };
  if (stream.startsWith(SCHEDULES_PREFIX)) return { kind: 'schedules', id: stream.slice(SCHEDULES_PREFIX.length) };
  if (stream.startsWith(BACKUP_PREFIX)) return { kind: 'backup', id: stream.slice(BACKUP_PREFIX.length) };
  if (stream.startsWith(RESTORE_PREFIX)) return { kind: 'restore', id: stream.slice(RESTORE_PREFIX.length) };
  return undefined;
}
