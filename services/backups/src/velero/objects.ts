import { createHash } from 'node:crypto';
import type { CredentialsReference } from '@canopy/schema';
import type { VeleroObject } from '@canopy/kube';
import type { BackupRequest } from '../domain/backup.js';
import type { ClusterReport } from '../domain/reports.js';
import type { RestoreRequest } from '../domain/restore.js';

/**
 * The labels tying Velero's objects to Canopy's backups and restores (ids
 * longer than a label value allows are hashed there; the Backup and Restore
 * objects also carry the ids as annotations of the same keys, which the
 * watcher reads).
 */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  backupId: 'canopy.dev/backup-id',
  restoreId: 'canopy.dev/restore-id',
  workspaceId: 'canopy.dev/workspace-id',
  clusterId: 'canopy.dev/cluster-id',
  locationId: 'canopy.dev/location-id',
} as const;

export const MANAGED_BY = 'canopy';
/** The label selector of every Velero object Canopy made. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;
/** The field manager of Canopy's writes. */
export const FIELD_MANAGER = 'canopy';

const API_VERSION = 'velero.io/v1';

/** A label value: the value itself when it is one (at most 63 characters…), else a hash of it. */
function labelValue(value: string): string {
  return /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(value) ? value : createHash('sha256').update(value).digest('hex').slice(0, 40);
}

/**
 * The BackupStorageLocation for one cluster's files of one location:
 * `<location name>-<8 hex>`, the hex derived from where the files go
 * (provider, bucket, the cluster's prefix), so a location changed since an
 * older backup gets a new one and the older backup's stays as it was.
 */
export function storageLocationName(location: BackupRequest['location'], storagePrefix: string): string {
  const hash = createHash('sha256').update(`${location.provider}\u0000${location.bucket}\u0000${storagePrefix}`).digest('hex').slice(0, 8);
  return `${location.name.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

export function storageLocationObject(
  request: BackupRequest,
  storagePrefix: string,
  credentials: CredentialsReference | undefined,
  namespace: string,
): VeleroObject {
  const { location } = request;
  return {
    apiVersion: API_VERSION,
    kind: 'BackupStorageLocation',
    metadata: {
      name: storageLocationName(location, storagePrefix),
      namespace,
      labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.locationId]: labelValue(location.locationId) },
    },
    spec: {
      provider: location.provider,
      objectStorage: { bucket: location.bucket, prefix: storagePrefix },
      // A reference to the Secret Velero reads on the cluster; the credential itself never passes through Canopy.
      ...(credentials ? { credential: { name: credentials.secretName, key: credentials.key } } : {}),
    },
  };
}

/** Velero's `includeClusterResources`: `yes` true, `no` false, `auto` left out (Velero's nil: only the cluster-scoped objects the namespaced ones need, such as the volumes of their claims). */
export function clusterResourcesFlag(mode: string): boolean | undefined {
  return mode === 'yes' ? true : mode === 'no' ? false : undefined;
}

/** A Go duration as Velero's `ttl` takes it: `719h59m30s`. */
export function goDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m${seconds % 60}s`;
}

/**
 * One cluster's Velero Backup of a workspace backup: named as the workspace
 * backup (every cluster's Velero writes under its own prefix), labelled with
 * the backup, workspace and cluster ids; `ttl` is what is left until the
 * backup's expiry.
 */
export function backupObject(request: BackupRequest, planned: { clusterId: string; storagePrefix: string }, now: Date, namespace: string): VeleroObject {
  const storageLocation = storageLocationName(request.location, planned.storagePrefix);
  const includeClusterResources = clusterResourcesFlag(request.options.includeClusterResources);
  return {
    apiVersion: API_VERSION,
    kind: 'Backup',
    metadata: {
      name: request.name,
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.backupId]: labelValue(request.backupId),
        [LABELS.workspaceId]: labelValue(request.workspaceId),
        [LABELS.clusterId]: labelValue(planned.clusterId),
        'velero.io/storage-location': storageLocation,
      },
      annotations: { [LABELS.backupId]: request.backupId, [LABELS.clusterId]: planned.clusterId },
    },
    spec: {
      includedNamespaces: [...request.namespaces],
      storageLocation,
      snapshotVolumes: request.options.includeAllDisks,
      ...(includeClusterResources === undefined ? {} : { includeClusterResources }),
      ttl: goDuration(Date.parse(request.expiresAt) - now.getTime()),
    },
  };
}

/** One cluster's Velero Restore of a workspace restore, from the cluster's Velero Backup of the same workspace backup. */
export function restoreObject(request: RestoreRequest, backup: BackupRequest, clusterId: string, namespace: string): VeleroObject {
  return {
    apiVersion: API_VERSION,
    kind: 'Restore',
    metadata: {
      name: request.name,
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.restoreId]: labelValue(request.restoreId),
        [LABELS.backupId]: labelValue(request.backupId),
        [LABELS.workspaceId]: labelValue(request.workspaceId),
        [LABELS.clusterId]: labelValue(clusterId),
      },
      annotations: { [LABELS.restoreId]: request.restoreId, [LABELS.clusterId]: clusterId },
    },
    spec: {
      backupName: backup.name,
      includedNamespaces: [...backup.namespaces],
      includeClusterResources: request.options.includeClusterResources,
      preserveNodePorts: request.options.preserveNodePorts,
      restorePVs: request.options.restorePersistentVolumes,
    },
  };
}

/** Velero's way to delete a backup and its files: a DeleteBackupRequest named after the backup (so that asking twice is one request). */
export function deleteRequestObject(backup: VeleroObject, request: BackupRequest, clusterId: string, namespace: string): VeleroObject {
  const name = backup.metadata!.name!;
  return {
    apiVersion: API_VERSION,
    kind: 'DeleteBackupRequest',
    metadata: {
      name,
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.backupId]: labelValue(request.backupId),
        [LABELS.clusterId]: labelValue(clusterId),
        'velero.io/backup-name': name,
        ...(backup.metadata?.uid ? { 'velero.io/backup-uid': backup.metadata.uid } : {}),
      },
    },
    spec: { backupName: name },
  };
}

/** Whether a Velero object on the cluster is the one Canopy made for this id (`backupId` or `restoreId` label). */
export function isOurs(obj: VeleroObject, label: string, id: string): boolean {
  return obj.metadata?.labels?.[label] === labelValue(id);
}

/** The Canopy ids a Backup or Restore made by Canopy carries: the backup or restore, and the cluster. */
export function idsOf(obj: VeleroObject, kind: 'Backup' | 'Restore'): { id: string; clusterId: string } | undefined {
  const annotations = obj.metadata?.annotations ?? {};
  const id = kind === 'Restore' ? annotations[LABELS.restoreId] : annotations[LABELS.backupId];
  const clusterId = annotations[LABELS.clusterId];
  return id && clusterId ? { id, clusterId } : undefined;
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0);
const time = (value: unknown): string | null => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(Date.parse(value)).toISOString() : null);

/**
 * What a Velero Backup or Restore says, as a report for `recordBackupReport`
 * / `recordRestoreReport`; undefined until Velero has given it a phase.
 */
export function reportOf(obj: VeleroObject, kind: 'Backup' | 'Restore', clusterId: string, observedAt: Date): ClusterReport | undefined {
  const status = obj.status ?? {};
  const phase = status['phase'];
  if (typeof phase !== 'string' || phase === '') return undefined;
  const progress = (status['progress'] ?? {}) as Record<string, unknown>;
  const itemsDone = kind === 'Restore' ? progress['itemsRestored'] : progress['itemsBackedUp'];
  const reasons = [status['failureReason'], ...(Array.isArray(status['validationErrors']) ? status['validationErrors'] : [])].filter((m): m is string => typeof m === 'string' && m !== '');
  const report: ClusterReport = {
    clusterId,
    phase: phase as ClusterReport['phase'],
    itemsDone: count(itemsDone),
    totalItems: Math.max(count(progress['totalItems']), count(itemsDone)),
    warnings: count(status['warnings']),
    errors: count(status['errors']),
    startedAt: time(status['startTimestamp']),
    completedAt: time(status['completionTimestamp']),
    observedAt: observedAt.toISOString(),
  };
  if (reasons.length > 0) report.message = reasons.join('; ').slice(0, 2048);
  return report;
}

/** What changes a report: a report equal to the last one sent is not sent again. */
export function reportKey(report: ClusterReport): string {
  return [report.phase, report.itemsDone, report.totalItems, report.warnings, report.errors, report.message ?? ''].join('|');
}
