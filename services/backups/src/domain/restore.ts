import { CanopyError, ErrorCode, RestoreOptions, type EventOf, type PayloadOf, type restoreEvents, type RestoreRequested } from '@canopy/schema';
import { authorize, parseField, type Actor } from '@canopy/workspaces';
import { backupProgress, type BackupState } from './backup.js';
import { restoreName } from './naming.js';
import type { ClusterHealth, SkippedCluster, WorkspaceFacts } from './options.js';
import { aggregateRuns, type ClusterRun, type RunAggregate } from './progress.js';
import { figures, judgeReport, pendingRun } from './reports.js';

/** The events of a `restore-{restoreId}` stream. */
export type RestoreEvent = EventOf<(typeof restoreEvents)[number]>;
export type RestoreRequest = PayloadOf<typeof RestoreRequested>;

export interface RestoreState {
  request: RestoreRequest | undefined;
  runs: ReadonlyMap<string, ClusterRun>;
}

export const initialRestoreState: RestoreState = { request: undefined, runs: new Map() };

/** The restore options as users send them (unchecked): all three are required booleans. */
export interface RestoreOptionsInput {
  includeClusterResources: boolean;
  preserveNodePorts: boolean;
  restorePersistentVolumes: boolean;
}

/**
 * A restore of a finished workspace backup, by an admin or owner of its
 * workspace: every cluster still in the workspace that the backup holds a
 * file for is restored (if healthy); clusters removed since, clusters the
 * backup has no file for, clusters added after it and unhealthy ones are
 * listed as skipped with the reason. Nothing restorable is a CONFLICT.
 */
export function requestRestore(
  command: { restoreId: string; requestedAt: Date; options: RestoreOptionsInput },
  state: RestoreState,
  backup: BackupState,
  context: { workspace: WorkspaceFacts; health: ReadonlyMap<string, ClusterHealth>; actor: Actor },
): RestoreEvent[] {
  const { workspace } = context;
  authorize(context.actor, 'manageBackups', workspace.workspaceId);
  if (state.request) throw new CanopyError(ErrorCode.CONFLICT, `Restore ${command.restoreId} already exists.`, { restoreId: command.restoreId });
  const source = backup.request;
  if (!source || source.workspaceId !== workspace.workspaceId) {
    throw new CanopyError(ErrorCode.NOT_FOUND, 'This workspace has no such backup.', { field: 'backupId' });
  }
  const progress = backupProgress(backup, command.requestedAt);
  if (progress.status === 'Expired' || progress.status === 'Deleted') {
    throw new CanopyError(ErrorCode.CONFLICT, `Backup ${source.name} is ${progress.status.toLowerCase()}: its files are gone.`, { field: 'backupId', status: progress.status });
  }
  if (progress.status === 'Pending' || progress.status === 'InProgress') {
    throw new CanopyError(ErrorCode.CONFLICT, `Backup ${source.name} is still running (${progress.percent}%); restore it once it has finished.`, {
      field: 'backupId',
      status: progress.status,
    });
  }
  const options = parseField('options', RestoreOptions.strict(), command.options);

  const planned: { clusterId: string; clusterName: string }[] = [];
  const skipped: SkippedCluster[] = [];
  const inBackup = new Set<string>();
  for (const run of backup.runs.values()) {
    inBackup.add(run.clusterId);
    const cluster = workspace.clusters.get(run.clusterId);
    const health = context.health.get(run.clusterId) ?? { status: 'unreachable', message: 'No health report for the cluster.' };
    if (!cluster) skipped.push({ clusterId: run.clusterId, clusterName: run.clusterName, reason: 'Detached', message: 'The cluster has left the workspace since the backup.' });
    else if (run.phase !== 'Completed' && run.phase !== 'PartiallyFailed') {
      skipped.push({ clusterId: run.clusterId, clusterName: cluster.name, reason: 'NotBackedUp', message: `The backup of this cluster ${run.phase === 'FailedValidation' ? 'failed validation' : 'failed'}: there is no file to restore.` });
    } else if (health.status !== 'healthy') {
      skipped.push({ clusterId: run.clusterId, clusterName: cluster.name, reason: health.status === 'unhealthy' ? 'Unhealthy' : 'Unreachable', message: health.message });
    } else planned.push({ clusterId: run.clusterId, clusterName: cluster.name });
  }
  for (const skip of source.skipped) {
    inBackup.add(skip.clusterId);
    const cluster = workspace.clusters.get(skip.clusterId);
    if (!cluster) skipped.push({ clusterId: skip.clusterId, clusterName: skip.clusterName, reason: 'Detached', message: 'The cluster has left the workspace since the backup.' });
    else skipped.push({ clusterId: skip.clusterId, clusterName: cluster.name, reason: 'NotBackedUp', message: `The backup skipped this cluster (${skip.reason}): there is no file to restore.` });
  }
  for (const [clusterId, cluster] of workspace.clusters) {
    if (!inBackup.has(clusterId)) skipped.push({ clusterId, clusterName: cluster.name, reason: 'NotInBackup', message: 'The cluster joined the workspace after the backup.' });
  }
  const byName = (a: { clusterName: string | null; clusterId: string }, b: { clusterName: string | null; clusterId: string }) =>
    (a.clusterName ?? a.clusterId) < (b.clusterName ?? b.clusterId) ? -1 : 1;
  if (planned.length === 0) {
    throw new CanopyError(ErrorCode.CONFLICT, `None of the clusters of backup ${source.name} can be restored now.`, { field: 'backupId', skipped: skipped.sort(byName) });
  }
  return [
    {
      type: 'RestoreRequested',
      data: {
        organizationId: workspace.organizationId,
        workspaceId: workspace.workspaceId,
        restoreId: command.restoreId,
        backupId: source.backupId,
        backupName: source.name,
        name: restoreName(command.requestedAt, command.restoreId),
        requestedBy: context.actor.userId,
        requestedAt: command.requestedAt.toISOString(),
        options,
        planned: planned.sort(byName),
        skipped: skipped.sort(byName),
      },
    },
  ];
}

/** Records what a cluster's watcher saw of its Velero restore. */
export function recordRestoreReport(report: unknown, state: RestoreState): RestoreEvent[] {
  const request = state.request;
  if (!request) throw new CanopyError(ErrorCode.NOT_FOUND, 'This restore does not exist.', { field: 'restoreId' });
  const { report: r, outcome } = judgeReport(report, state.runs, 'restore');
  const base = { restoreId: request.restoreId, workspaceId: request.workspaceId, clusterId: r.clusterId, itemsRestored: r.itemsDone, ...figures(r) };
  const completedAt = r.completedAt ?? r.observedAt;
  switch (outcome.kind) {
    case 'none':
      return [];
    case 'progress':
      return [{ type: 'RestoreClusterProgressed', data: { ...base, phase: outcome.phase, observedAt: r.observedAt } }];
    case 'completed':
      return [{ type: 'RestoreClusterCompleted', data: { ...base, completedAt } }];
    case 'partiallyFailed':
      return [{ type: 'RestoreClusterPartiallyFailed', data: { ...base, completedAt, message: r.message ?? `${r.errors} item(s) could not be restored.` } }];
    case 'failed':
      return [{ type: 'RestoreClusterFailed', data: { ...base, completedAt, phase: outcome.phase, message: r.message ?? 'Velero reported the restore failed.' } }];
  }
}

export function evolveRestore(state: RestoreState, event: RestoreEvent): RestoreState {
  switch (event.type) {
    case 'RestoreRequested':
      return { request: event.data, runs: new Map(event.data.planned.map((cluster) => [cluster.clusterId, pendingRun(cluster.clusterId, cluster.clusterName)])) };
    case 'RestoreClusterProgressed':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: event.data.phase, observedAt: event.data.observedAt }));
    case 'RestoreClusterCompleted':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: 'Completed', completedAt: event.data.completedAt }));
    case 'RestoreClusterPartiallyFailed':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: 'PartiallyFailed', completedAt: event.data.completedAt, message: event.data.message }));
    case 'RestoreClusterFailed':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: event.data.phase, completedAt: event.data.completedAt, message: event.data.message }));
  }
}

export function restoreProgress(state: RestoreState, now: Date): RunAggregate {
  if (!state.request) throw new CanopyError(ErrorCode.NOT_FOUND, 'This restore does not exist.', { field: 'restoreId' });
  return aggregateRuns([...state.runs.values()], state.request.skipped.length, now);
}

function counts(data: { itemsRestored: number; totalItems: number; warnings: number; errors: number; startedAt: string | null }) {
  return { itemsDone: data.itemsRestored, totalItems: data.totalItems, warnings: data.warnings, errors: data.errors, startedAt: data.startedAt };
}

function withRun(state: RestoreState, clusterId: string, change: (run: ClusterRun) => ClusterRun): RestoreState {
  const run = state.runs.get(clusterId);
  if (!run) return state;
  return { ...state, runs: new Map(state.runs).set(clusterId, change(run)) };
}
