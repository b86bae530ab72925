import { z } from 'zod';
import { CanopyError, ErrorCode, type backupEvents, type BackupTrigger, type EventOf, type PayloadOf, type BackupRequested } from '@canopy/schema';
import { authorize, parseField, type Actor } from '@canopy/workspaces';
import { Expiry } from './duration.js';
import type { LocationsState } from './locations.js';
import { backupName } from './naming.js';
import { parseBackupOptions, planBackup, requireLocation, type BackupOptionsInput, type ClusterHealth, type WorkspaceFacts } from './options.js';
import { aggregateRuns, type ClusterRun, type RunAggregate, type RunStatus } from './progress.js';
import { figures, judgeReport, pendingRun } from './reports.js';
import type { BackupSchedule } from './schedules.js';

/** The events of a `backup-{backupId}` stream. */
export type BackupEvent = EventOf<(typeof backupEvents)[number]>;
export type BackupRequest = PayloadOf<typeof BackupRequested>;

export interface BackupState {
  /** Undefined until the backup is requested (a fresh stream). */
  request: BackupRequest | undefined;
  /** The planned clusters' runs, by cluster id. */
  runs: ReadonlyMap<string, ClusterRun>;
  /** Set once its files are gone: past its expiry, or deleted by hand. */
  gone: { kind: 'Expired'; expiresAt: string } | { kind: 'Deleted'; deletedBy: string } | undefined;
}

export const initialBackupState: BackupState = { request: undefined, runs: new Map(), gone: undefined };

/** Velero's default TTL, used when an on-demand backup names no expiry. */
export const DEFAULT_EXPIRY_SECONDS = 720 * 3600;

/** An on-demand backup as users send it: the options and at most one of a relative `expiry` (`720h`, `30d`) or an absolute `expiresAt`. */
export interface BackupNowInput extends BackupOptionsInput {
  expiry?: string;
  /** ISO 8601 date-time; must be in the future. */
  expiresAt?: string;
}

/** What planning a backup needs: the workspace, the locations it may use, and each cluster's health now. */
export interface PlanContext {
  workspace: WorkspaceFacts;
  locations: LocationsState;
  health: ReadonlyMap<string, ClusterHealth>;
}

const ExpiresAt = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-03-01T00:00:00Z' });

/**
 * An on-demand backup of a workspace, by an admin or owner: one Velero
 * backup per healthy cluster of the selection, each unhealthy or unreachable
 * cluster recorded as skipped with the reason.
 */
export function requestBackup(
  command: { backupId: string; requestedAt: Date; input: BackupNowInput },
  state: BackupState,
  context: PlanContext & { actor: Actor },
): BackupEvent[] {
  const { workspace } = context;
  authorize(context.actor, 'manageBackups', workspace.workspaceId);
  if (state.request) throw new CanopyError(ErrorCode.CONFLICT, `Backup ${command.backupId} already exists.`, { backupId: command.backupId });
  const options = parseBackupOptions(command.input, workspace, context.locations);
  const expiresAt = expiryOf(command.input, command.requestedAt);
  if (options.clusters === null && workspace.clusters.size === 0) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'The workspace has no cluster to back up; attach one first.', { field: 'clusters' });
  }
  return [requested(command.backupId, { kind: 'onDemand', requestedBy: context.actor.userId }, command.requestedAt, expiresAt, options, context)];
}

/**
 * The backup a schedule makes when a run falls due. The scheduler derives
 * the backup id from the schedule and the due time, so a run recorded
 * already (by this process or another) records nothing again.
 */
export function runSchedule(command: { backupId: string; schedule: BackupSchedule; dueAt: Date; requestedAt: Date }, state: BackupState, context: PlanContext): BackupEvent[] {
  if (state.request) return [];
  const { schedule } = command;
  const { prefix, locationId, includeAllDisks, includeClusterResources, namespaces, clusters } = schedule;
  const expiresAt = new Date(command.requestedAt.getTime() + schedule.ttlSeconds * 1000);
  const trigger: BackupTrigger = { kind: 'schedule', scheduleId: schedule.scheduleId, dueAt: command.dueAt.toISOString() };
  return [requested(command.backupId, trigger, command.requestedAt, expiresAt, { prefix, locationId, includeAllDisks, includeClusterResources, namespaces, clusters }, context)];
}

function requested(
  backupId: string,
  trigger: BackupTrigger,
  requestedAt: Date,
  expiresAt: Date,
  options: BackupRequest['options'],
  { workspace, locations, health }: PlanContext,
): BackupEvent {
  const location = requireLocation(locations, workspace.workspaceId, options.locationId);
  const plan = planBackup(options, location, workspace, health);
  return {
    type: 'BackupRequested',
    data: {
      organizationId: workspace.organizationId,
      workspaceId: workspace.workspaceId,
      backupId,
      name: backupName(options.prefix, requestedAt, backupId),
      trigger,
      requestedAt: requestedAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      location: { locationId: location.locationId, name: location.name, provider: location.provider, bucket: location.bucket, prefix: location.prefix },
      options,
      ...plan,
    },
  };
}

/** EXPIRY IN THE PAST is refused: a backup deleted before it is taken protects nothing. */
function expiryOf(input: BackupNowInput, requestedAt: Date): Date {
  if (input.expiry !== undefined && input.expiresAt !== undefined) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'Give either expiry (a duration such as 720h) or expiresAt (a date-time), not both.', { field: 'expiresAt' });
  }
  if (input.expiresAt !== undefined) {
    const expiresAt = new Date(parseField('expiresAt', ExpiresAt, input.expiresAt));
    if (expiresAt.getTime() <= requestedAt.getTime()) {
      throw new CanopyError(ErrorCode.BAD_USER_INPUT, `expiresAt ${input.expiresAt} is in the past; a backup must expire after it is taken.`, {
        field: 'expiresAt',
        now: requestedAt.toISOString(),
      });
    }
    return expiresAt;
  }
  const seconds = input.expiry === undefined ? DEFAULT_EXPIRY_SECONDS : parseField('expiry', Expiry, input.expiry);
  return new Date(requestedAt.getTime() + seconds * 1000);
}

/**
 * Records what a cluster's watcher saw of its Velero backup: progress, or
 * the cluster's outcome (completed, partially failed, failed). Reports about
 * a backup whose files are gone record nothing.
 */
export function recordBackupReport(report: unknown, state: BackupState): BackupEvent[] {
  const request = requireRequest(state);
  if (state.gone) return [];
  const judged = judgeReport(report, state.runs, 'backup');
  const { report: r, outcome } = judged;
  const base = { backupId: request.backupId, workspaceId: request.workspaceId, clusterId: r.clusterId, itemsBackedUp: r.itemsDone, ...figures(r) };
  const completedAt = r.completedAt ?? r.observedAt;
  switch (outcome.kind) {
    case 'none':
      return [];
    case 'progress':
      return [{ type: 'BackupClusterProgressed', data: { ...base, phase: outcome.phase, observedAt: r.observedAt } }];
    case 'completed':
      return [{ type: 'BackupClusterCompleted', data: { ...base, completedAt } }];
    case 'partiallyFailed':
      return [{ type: 'BackupClusterPartiallyFailed', data: { ...base, completedAt, message: r.message ?? `${r.errors} item(s) could not be backed up.` } }];
    case 'failed':
      return [{ type: 'BackupClusterFailed', data: { ...base, completedAt, phase: outcome.phase, message: r.message ?? 'Velero reported the backup failed.' } }];
  }
}

/** The expiry sweep's decision for one backup: expired once `now` has reached its expiry, once. */
export function expireBackup(now: Date, state: BackupState): BackupEvent[] {
  const request = requireRequest(state);
  if (state.gone || Date.parse(request.expiresAt) > now.getTime()) return [];
  return [{ type: 'BackupExpired', data: { workspaceId: request.workspaceId, backupId: request.backupId, name: request.name, expiresAt: request.expiresAt } }];
}

/** Deleting a backup by hand (admins and owners of its workspace); deleting one already gone changes nothing. */
export function deleteBackup(actor: Actor, state: BackupState): BackupEvent[] {
  const request = requireRequest(state);
  authorize(actor, 'manageBackups', request.workspaceId);
  if (state.gone) return [];
  return [{ type: 'BackupDeleted', data: { workspaceId: request.workspaceId, backupId: request.backupId, name: request.name, deletedBy: actor.userId } }];
}

export function evolveBackup(state: BackupState, event: BackupEvent): BackupState {
  switch (event.type) {
    case 'BackupRequested':
      return { ...state, request: event.data, runs: new Map(event.data.planned.map((cluster) => [cluster.clusterId, pendingRun(cluster.clusterId, cluster.clusterName)])) };
    case 'BackupClusterProgressed':
      return withRun(state, event.data.clusterId, (run) => ({
        ...run,
        ...counts(event.data),
        phase: event.data.phase,
        observedAt: event.data.observedAt,
      }));
    case 'BackupClusterCompleted':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: 'Completed', completedAt: event.data.completedAt }));
    case 'BackupClusterPartiallyFailed':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: 'PartiallyFailed', completedAt: event.data.completedAt, message: event.data.message }));
    case 'BackupClusterFailed':
      return withRun(state, event.data.clusterId, (run) => ({ ...run, ...counts(event.data), phase: event.data.phase, completedAt: event.data.completedAt, message: event.data.message }));
    case 'BackupExpired':
      return { ...state, gone: { kind: 'Expired', expiresAt: event.data.expiresAt } };
    case 'BackupDeleted':
      return { ...state, gone: { kind: 'Deleted', deletedBy: event.data.deletedBy } };
  }
}

/** A backup's status: its clusters' aggregate, or `Expired` / `Deleted` once its files are gone. */
export type BackupStatus = RunStatus | 'Expired' | 'Deleted';
export type BackupProgress = Omit<RunAggregate, 'status'> & { status: BackupStatus };

export function backupProgress(state: BackupState, now: Date): BackupProgress {
  const request = requireRequest(state);
  const aggregate = aggregateRuns([...state.runs.values()], request.skipped.length, now);
  return state.gone ? { ...aggregate, status: state.gone.kind } : aggregate;
}

function counts(data: { itemsBackedUp: number; totalItems: number; warnings: number; errors: number; startedAt: string | null }) {
  return { itemsDone: data.itemsBackedUp, totalItems: data.totalItems, warnings: data.warnings, errors: data.errors, startedAt: data.startedAt };
}

function withRun(state: BackupState, clusterId: string, change: (run: ClusterRun) => ClusterRun): BackupState {
  const run = state.runs.get(clusterId);
  if (!run) return state;
  return { ...state, runs: new Map(state.runs).set(clusterId, change(run)) };
}

function requireRequest(state: BackupState): BackupRequest {
  if (!state.request) throw new CanopyError(ErrorCode.NOT_FOUND, 'This backup does not exist.', { field: 'backupId' });
  return state.request;
}
