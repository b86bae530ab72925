import { createHash } from 'node:crypto';

/** Longest backup prefix: the backup's name adds `-<UTC time>-<6 characters>` (22) and stays within Kubernetes' 63. */
export const MAX_PREFIX_LENGTH = 40;

/** `20260124T031500Z` without separators, as object names allow: `20260124031500`. */
function compactTime(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Six characters derived from an id: two backups of one prefix taken in the same second still get different names. */
function tag(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 6);
}

/** The Velero backup's name on every cluster of a workspace backup: `<prefix>-<yyyymmddhhmmss>-<tag>`. */
export function backupName(prefix: string, requestedAt: Date, backupId: string): string {
  return `${prefix}-${compactTime(requestedAt)}-${tag(backupId)}`;
}

/** The Velero restore's name on every cluster of a restore. */
export function restoreName(requestedAt: Date, restoreId: string): string {
  return `restore-${compactTime(requestedAt)}-${tag(restoreId)}`;
}

/**
 * Where one cluster's file of a workspace backup goes in the location:
 * `<location prefix>/workspaces/<workspaceId>/clusters/<clusterId>`. Each
 * cluster's Velero writes under its own prefix, so the clusters of one
 * workspace backup share a name without sharing a file.
 */
export function storagePrefix(locationPrefix: string, workspaceId: string, clusterId: string): string {
  return [locationPrefix, 'workspaces', workspaceId, 'clusters', clusterId].filter((part) => part !== '').join('/');
}
