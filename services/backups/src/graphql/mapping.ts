import { cronEvaluator, nextRun } from '../domain/cron.js';
import { formatDuration } from '../domain/duration.js';
import type { BackupLocation as LocationRecord } from '../domain/locations.js';
import type { ClusterRun, RunAggregate } from '../domain/progress.js';
import type { BackupSchedule as ScheduleRecord } from '../domain/schedules.js';
import type { BackupSummary, ClusterDetail, RestoreSummary } from '../read-model/queries.js';
import { BackupProviderValue, BackupStatusValue, BackupTriggerValue, ClusterPhaseValue, ClusterResourcesValue, RestoreStatusValue, SkipReasonValue } from './enums.js';
import type { Backup, BackupCluster, BackupLocation, BackupSchedule, Restore, RestoreCluster, RunProgress } from './types.js';

const iso = (at: Date | null): string | null => (at === null ? null : at.toISOString());

export function toBackup(summary: BackupSummary): Backup {
  return {
    id: summary.backupId,
    name: summary.name,
    workspaceId: summary.workspaceId,
    organizationId: summary.organizationId,
    trigger: summary.scheduleId === null ? BackupTriggerValue.ON_DEMAND : BackupTriggerValue.SCHEDULE,
    scheduleId: summary.scheduleId,
    requestedBy: summary.requestedBy,
    requestedAt: summary.requestedAt.toISOString(),
    expiresAt: summary.expiresAt.toISOString(),
    location: { id: summary.location.locationId, ...summary.location, provider: summary.location.provider as BackupProviderValue },
    includeAllDisks: summary.options.includeAllDisks,
    includeClusterResources: summary.options.includeClusterResources as ClusterResourcesValue,
    namespaceSelectors: summary.options.namespaces,
    namespaces: summary.namespaces,
    clusterSelection: summary.options.clusters,
    status: summary.status as BackupStatusValue,
    percent: summary.percent,
    clusters: summary.clusters,
    itemsDone: summary.itemsDone,
    totalItems: summary.totalItems,
    warnings: summary.warnings,
    errors: summary.errors,
    startedAt: iso(summary.startedAt),
    finishedAt: iso(summary.finishedAt),
    goneAt: iso(summary.goneAt),
    deletedBy: summary.deletedBy,
  };
}

export function toRestore(summary: RestoreSummary): Restore {
  return {
    id: summary.restoreId,
    name: summary.name,
    workspaceId: summary.workspaceId,
    backupId: summary.backupId,
    backupName: summary.backupName,
    requestedBy: summary.requestedBy,
    requestedAt: summary.requestedAt.toISOString(),
    ...summary.options,
    status: summary.status as RestoreStatusValue,
    percent: summary.percent,
    clusters: summary.clusters,
    itemsDone: summary.itemsDone,
    totalItems: summary.totalItems,
    warnings: summary.warnings,
    errors: summary.errors,
    startedAt: iso(summary.startedAt),
    finishedAt: iso(summary.finishedAt),
  };
}

export function toRestoreCluster(detail: ClusterDetail): RestoreCluster {
  return {
    clusterId: detail.clusterId,
    clusterName: detail.clusterName,
    phase: detail.phase as ClusterPhaseValue | null,
    skipReason: detail.skipReason as SkipReasonValue | null,
    message: detail.message,
    itemsDone: detail.itemsDone,
    totalItems: detail.totalItems,
    warnings: detail.warnings,
    errors: detail.errors,
    startedAt: iso(detail.startedAt),
    observedAt: iso(detail.observedAt),
    completedAt: iso(detail.completedAt),
  };
}

export function toBackupCluster(detail: ClusterDetail & { storagePrefix: string | null }): BackupCluster {
  return { ...toRestoreCluster(detail), storagePrefix: detail.storagePrefix };
}

/** A planned cluster's run as the domain folds it from the backup's events. */
export function runToCluster(run: ClusterRun, storagePrefix: string | null): BackupCluster {
  return {
    clusterId: run.clusterId,
    clusterName: run.clusterName,
    phase: run.phase as ClusterPhaseValue,
    skipReason: null,
    message: run.message,
    itemsDone: run.itemsDone,
    totalItems: run.totalItems,
    warnings: run.warnings,
    errors: run.errors,
    startedAt: run.startedAt,
    observedAt: run.observedAt,
    completedAt: run.completedAt,
    storagePrefix,
  };
}

export function toProgress(aggregate: Omit<RunAggregate, 'status'>): RunProgress {
  return {
    clusters: { ...aggregate.clusters },
    percent: aggregate.percent,
    itemsDone: aggregate.itemsDone,
    totalItems: aggregate.totalItems,
    warnings: aggregate.warnings,
    errors: aggregate.errors,
    estimatedSecondsLeft: aggregate.estimatedSecondsLeft,
    startedAt: aggregate.startedAt,
    finishedAt: aggregate.finishedAt,
  };
}

export function toSchedule(workspaceId: string, schedule: ScheduleRecord, now: Date): BackupSchedule {
  const next = schedule.paused ? undefined : nextRun(cronEvaluator(schedule.cron), now);
  return {
    id: schedule.scheduleId,
    workspaceId,
    prefix: schedule.prefix,
    locationId: schedule.locationId,
    cron: schedule.cron,
    expiry: formatDuration(schedule.ttlSeconds),
    expirySeconds: schedule.ttlSeconds,
    paused: schedule.paused,
    createdBy: schedule.createdBy,
    includeAllDisks: schedule.includeAllDisks,
    includeClusterResources: schedule.includeClusterResources as ClusterResourcesValue,
    namespaces: schedule.namespaces,
    clusters: schedule.clusters,
    nextRunAt: next ? next.toISOString() : null,
  };
}

export function toLocation(location: LocationRecord): BackupLocation {
  return {
    id: location.locationId,
    name: location.name,
    provider: location.provider as BackupProviderValue,
    bucket: location.bucket,
    prefix: location.prefix,
    credentials: { ...location.credentials },
    workspaceId: location.workspaceId,
  };
}
