import type { ReadDomainEvent } from '@canopy/eventstore';
import { backupProgress, evolveBackup, type BackupEvent, type BackupState } from '../domain/backup.js';
import { isFinished } from '../domain/progress.js';
import { BackupProgressKind, BackupStatusValue } from './enums.js';
import { runToCluster, toProgress } from './mapping.js';
import type { BackupProgressItem } from './types.js';

const BACKUP_RUN_EVENTS = new Set<string>(Object.values(BackupProgressKind));

/** Whether the event is one of a backup's own (a `backup-` stream holds nothing else, but the locations' stream shares the prefix). */
export function isBackupEvent(event: { type: string }): boolean {
  return BACKUP_RUN_EVENTS.has(event.type);
}

/** Nothing more comes for a backup once every cluster finished, or its files are gone. */
export function isOver(state: BackupState): boolean {
  return state.request !== undefined && (state.gone !== undefined || [...state.runs.values()].every((run) => isFinished(run.phase)));
}

export function fold(state: BackupState, event: ReadDomainEvent): BackupState {
  return evolveBackup(state, { type: event.type, data: event.data } as BackupEvent);
}

/**
 * The progress item for an event of a backup, given the backup's state
 * right after it: the cluster it concerns, the status, the aggregate (its
 * estimate as of the event's recording), and whether the backup is over.
 */
export function progressItem(event: ReadDomainEvent, state: BackupState): BackupProgressItem {
  const request = state.request!;
  const progress = backupProgress(state, event.createdAt);
  const clusterId = (event.data as { clusterId?: unknown }).clusterId;
  const run = typeof clusterId === 'string' ? state.runs.get(clusterId) : undefined;
  const storagePrefix = run ? (request.planned.find((cluster) => cluster.clusterId === run.clusterId)?.storagePrefix ?? null) : null;
  return {
    cursor: event.position.toString(),
    kind: event.type as BackupProgressKind,
    backupId: request.backupId,
    backupName: request.name,
    workspaceId: request.workspaceId,
    recordedAt: event.createdAt.toISOString(),
    cluster: run ? runToCluster(run, storagePrefix) : null,
    status: progress.status as BackupStatusValue,
    progress: toProgress(progress),
    finished: isOver(state),
  };
}
