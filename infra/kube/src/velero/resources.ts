import type { ResourceType } from '../resources.js';

/** Velero's API group. */
export const VELERO_GROUP = 'velero.io';
export const VELERO_API_VERSION = 'velero.io/v1';
/** Where Velero's objects live: the namespace Velero is installed in. */
export const VELERO_NAMESPACE = 'velero';

const velero = (kind: string, plural: string, shortNames?: string[]): ResourceType => ({
  group: VELERO_GROUP,
  version: 'v1',
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced: true,
  ...(shortNames ? { shortNames } : {}),
  categories: ['velero'],
  status: true,
  generation: true,
});

/** The `velero.io/v1` kinds the simulated Velero serves (as Velero's CRDs define them: namespaced, with a status subresource). */
export const VELERO_RESOURCES: readonly ResourceType[] = [
  velero('BackupStorageLocation', 'backupstoragelocations', ['bsl']),
  velero('Backup', 'backups'),
  velero('Restore', 'restores'),
  velero('Schedule', 'schedules'),
  velero('DeleteBackupRequest', 'deletebackuprequests'),
];
