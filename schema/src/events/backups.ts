import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { SecretKeyName } from './governance.js';
import { Id, KubernetesName, KubernetesSubdomain, UserId } from './primitives.js';

/**
 * Workspace backups and restores (Velero on each cluster of the workspace).
 *
 * Streams:
 * - `backup-locations-{organizationId}`: the organization's backup locations,
 *   organization-wide ones and each workspace's own, so that the names a
 *   workspace sees are unique by optimistic concurrency on one stream;
 * - `backups-{workspaceId}`: the workspace's backup schedules;
 * - `backup-{backupId}`: one workspace backup, from its request (with the
 *   clusters planned and skipped) through each cluster's progress and outcome
 *   to its expiry or deletion;
 * - `restore-{restoreId}`: one restore, likewise.
 */

const Timestamp = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Message = z.string().max(2048);

/** Velero's object-store plugins: `aws` also serves S3-compatible stores (MinIO, Ceph, …). */
export const BackupProvider = z.enum(['aws', 'gcp', 'azure']);
export type BackupProvider = z.infer<typeof BackupProvider>;

/** A bucket (S3, GCS) or container (Azure) name: lower-case letters, digits, '.' and '-', 3 to 63 characters. */
export const BucketName = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, "must be a bucket name: lower-case letters, digits, '.' and '-', starting and ending with a letter or digit");

/** A path inside the bucket ('' for its root): segments of letters, digits, '.', '_' and '-' joined by '/'. */
export const ObjectPrefix = z
  .string()
  .max(256, 'must be at most 256 characters')
  .regex(/^(?:(?!\.{1,2}(?:\/|$))[A-Za-z0-9._-]+(?:\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._-]+)*)?$/, "must be a path in the bucket: segments of letters, digits, '.', '_' and '-' joined by '/', without a leading or trailing '/'");

/**
 * Where a location's credentials are: a key of a Kubernetes Secret that
 * Velero reads on each cluster. The credential itself never reaches Canopy.
 */
export const CredentialsReference = z.strictObject({ secretName: KubernetesSubdomain, key: SecretKeyName });
export type CredentialsReference = z.infer<typeof CredentialsReference>;

const LocationFields = {
  organizationId: Id,
  locationId: Id,
  /** The workspace that owns the location; null for an organization-wide one, visible to all its workspaces. */
  workspaceId: Id.nullable(),
  name: KubernetesName,
  provider: BackupProvider,
  bucket: BucketName,
  prefix: ObjectPrefix,
  credentials: CredentialsReference,
};

export const BackupLocationAdded = defineEvent({ type: 'BackupLocationAdded', payload: z.object(LocationFields) });

/** The location as it is after the change (every field). */
export const BackupLocationChanged = defineEvent({ type: 'BackupLocationChanged', payload: z.object(LocationFields) });

export const BackupLocationRemoved = defineEvent({
  type: 'BackupLocationRemoved',
  payload: z.object({ organizationId: Id, locationId: Id, workspaceId: Id.nullable(), name: KubernetesName }),
});

/**
 * Cluster-scoped resources in a backup: `yes` all of them, `no` none, `auto`
 * the persistent volumes bound to claims in the chosen namespaces and no
 * other cluster-scoped object.
 */
export const ClusterResourcesMode = z.enum(['yes', 'no', 'auto']);
export type ClusterResourcesMode = z.infer<typeof ClusterResourcesMode>;

/** A backup's namespaces: names, `/regex/` to include or `~/regex/` to exclude, matched against the workspace's namespaces. */
export const BackupNamespaceSelector = z.string().min(1).max(256);

/** What a backup takes, on-demand or by schedule. */
export const BackupOptions = z.object({
  /** Names the backup files: `<prefix>-<UTC time>-<id>`. */
  prefix: KubernetesName,
  locationId: Id,
  /** Volume snapshots of every persistent volume backed up. */
  includeAllDisks: z.boolean(),
  includeClusterResources: ClusterResourcesMode,
  namespaces: z.array(BackupNamespaceSelector).min(1).max(50),
  /** Clusters of the workspace to back up; null: every cluster the workspace has when the backup runs. */
  clusters: z.array(Id).min(1).max(100).nullable(),
});
export type BackupOptions = z.infer<typeof BackupOptions>;

const ScheduleFields = {
  workspaceId: Id,
  scheduleId: Id,
  /** Five-field cron (minute hour day-of-month month day-of-week), in UTC. */
  cron: z.string().min(1).max(256),
  /** How long each backup's files are kept (Velero's TTL). */
  ttlSeconds: z.number().int().positive(),
  ...BackupOptions.shape,
};

export const BackupScheduleCreated = defineEvent({
  type: 'BackupScheduleCreated',
  payload: z.object({ ...ScheduleFields, createdBy: UserId }),
});

/** The schedule as it is after the change (every field). */
export const BackupScheduleChanged = defineEvent({ type: 'BackupScheduleChanged', payload: z.object(ScheduleFields) });

export const BackupSchedulePaused = defineEvent({ type: 'BackupSchedulePaused', payload: z.object({ workspaceId: Id, scheduleId: Id }) });

/** Runs missed while paused are not made up. */
export const BackupScheduleResumed = defineEvent({ type: 'BackupScheduleResumed', payload: z.object({ workspaceId: Id, scheduleId: Id }) });

/** The schedule's backups stay until they expire. */
export const BackupScheduleDeleted = defineEvent({
  type: 'BackupScheduleDeleted',
  payload: z.object({ workspaceId: Id, scheduleId: Id, prefix: KubernetesName }),
});

/** Why a cluster of the workspace is not backed up (or restored). */
export const ClusterSkipReason = z.enum([
  /** The cluster reports itself unhealthy. */
  'Unhealthy',
  /** Canopy cannot reach the cluster. */
  'Unreachable',
  /** The schedule names a cluster that has left the workspace (a backup), or the cluster left since the backup (a restore). */
  'Detached',
  /** The namespaces chosen match none of the workspace's namespaces. */
  'NoNamespaces',
  /** A restore: the backup holds no file for this cluster (it was skipped, or failed). */
  'NotBackedUp',
  /** A restore: the cluster joined the workspace after the backup. */
  'NotInBackup',
]);
export type ClusterSkipReason = z.infer<typeof ClusterSkipReason>;

export const SkippedCluster = z.object({
  clusterId: Id,
  /** Null when the cluster has left the workspace and its name is no longer known. */
  clusterName: KubernetesName.nullable(),
  reason: ClusterSkipReason,
  message: Message,
});

export const BackupTrigger = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('onDemand'), requestedBy: UserId }),
  z.object({ kind: z.literal('schedule'), scheduleId: Id, dueAt: Timestamp }),
]);
export type BackupTrigger = z.infer<typeof BackupTrigger>;

/**
 * A workspace backup: one Velero backup (one file) per planned cluster, all
 * named `name`, each under its cluster's `storagePrefix` in the location;
 * the clusters not backed up are listed with the reason.
 */
export const BackupRequested = defineEvent({
  type: 'BackupRequested',
  payload: z.object({
    organizationId: Id,
    workspaceId: Id,
    backupId: Id,
    name: KubernetesName,
    trigger: BackupTrigger,
    requestedAt: Timestamp,
    /** Past it, the backup's files are deleted (`BackupExpired`). */
    expiresAt: Timestamp,
    /** The location as it was when the backup was taken. */
    location: z.object({ locationId: Id, name: KubernetesName, provider: BackupProvider, bucket: BucketName, prefix: ObjectPrefix }),
    options: BackupOptions,
    /** The workspace's namespaces the options selected, backed up on every planned cluster. */
    namespaces: z.array(KubernetesName).max(10_000),
    planned: z.array(z.object({ clusterId: Id, clusterName: KubernetesName, storagePrefix: z.string().min(1).max(1024) })).max(100),
    skipped: z.array(SkippedCluster).max(100),
  }),
});

/** Velero's Backup and Restore phases before an outcome. */
export const RunningPhase = z.enum(['New', 'InProgress', 'WaitingForPluginOperations', 'Finalizing']);
export type RunningPhase = z.infer<typeof RunningPhase>;
/** Velero's failure phases: the object was refused (`FailedValidation`) or the run failed. */
export const FailedPhase = z.enum(['FailedValidation', 'Failed']);
export type FailedPhase = z.infer<typeof FailedPhase>;

const ClusterRun = {
  workspaceId: Id,
  clusterId: Id,
  totalItems: Count,
  warnings: Count,
  errors: Count,
  /** When Velero started the run on the cluster (its status.startTimestamp); null before. */
  startedAt: Timestamp.nullable(),
};

const Progress = { ...ClusterRun, phase: RunningPhase, /** When the watcher read these figures from the cluster. */ observedAt: Timestamp };
const Finished = { ...ClusterRun, completedAt: Timestamp };

export const BackupClusterProgressed = defineEvent({
  type: 'BackupClusterProgressed',
  payload: z.object({ backupId: Id, ...Progress, itemsBackedUp: Count }),
});

export const BackupClusterCompleted = defineEvent({
  type: 'BackupClusterCompleted',
  payload: z.object({ backupId: Id, ...Finished, itemsBackedUp: Count }),
});

/** The cluster's file was written, but some items could not be backed up (`errors`). */
export const BackupClusterPartiallyFailed = defineEvent({
  type: 'BackupClusterPartiallyFailed',
  payload: z.object({ backupId: Id, ...Finished, itemsBackedUp: Count, message: Message }),
});

export const BackupClusterFailed = defineEvent({
  type: 'BackupClusterFailed',
  payload: z.object({ backupId: Id, ...Finished, itemsBackedUp: Count, phase: FailedPhase, message: Message }),
});

/** The backup passed its expiry: its files are deleted from the location. */
export const BackupExpired = defineEvent({
  type: 'BackupExpired',
  payload: z.object({ workspaceId: Id, backupId: Id, name: KubernetesName, expiresAt: Timestamp }),
});

/** Deleted by hand before its expiry: its files are deleted from the location. */
export const BackupDeleted = defineEvent({
  type: 'BackupDeleted',
  payload: z.object({ workspaceId: Id, backupId: Id, name: KubernetesName, deletedBy: UserId }),
});

export const RestoreOptions = z.object({
  /** Restore the cluster-scoped resources the backup holds. */
  includeClusterResources: z.boolean(),
  /** Keep the node ports of NodePort services as backed up. */
  preserveNodePorts: z.boolean(),
  /** Restore persistent volumes (from snapshots or file copies). */
  restorePersistentVolumes: z.boolean(),
});
export type RestoreOptions = z.infer<typeof RestoreOptions>;

/** A restore of a workspace backup onto every cluster still in the workspace that it holds a file for; the others are listed with the reason. */
export const RestoreRequested = defineEvent({
  type: 'RestoreRequested',
  payload: z.object({
    organizationId: Id,
    workspaceId: Id,
    restoreId: Id,
    backupId: Id,
    backupName: KubernetesName,
    /** Velero's Restore object on each planned cluster. */
    name: KubernetesName,
    requestedBy: UserId,
    requestedAt: Timestamp,
    options: RestoreOptions,
    planned: z.array(z.object({ clusterId: Id, clusterName: KubernetesName })).max(100),
    skipped: z.array(SkippedCluster).max(100),
  }),
});

export const RestoreClusterProgressed = defineEvent({
  type: 'RestoreClusterProgressed',
  payload: z.object({ restoreId: Id, ...Progress, itemsRestored: Count }),
});

export const RestoreClusterCompleted = defineEvent({
  type: 'RestoreClusterCompleted',
  payload: z.object({ restoreId: Id, ...Finished, itemsRestored: Count }),
});

export const RestoreClusterPartiallyFailed = defineEvent({
  type: 'RestoreClusterPartiallyFailed',
  payload: z.object({ restoreId: Id, ...Finished, itemsRestored: Count, message: Message }),
});

export const RestoreClusterFailed = defineEvent({
  type: 'RestoreClusterFailed',
  payload: z.object({ restoreId: Id, ...Finished, itemsRestored: Count, phase: FailedPhase, message: Message }),
});

export const backupLocationEvents = [BackupLocationAdded, BackupLocationChanged, BackupLocationRemoved] as const;
export const backupScheduleEvents = [BackupScheduleCreated, BackupScheduleChanged, BackupSchedulePaused, BackupScheduleResumed, BackupScheduleDeleted] as const;
export const backupEvents = [
  BackupRequested,
  BackupClusterProgressed,
  BackupClusterCompleted,
  BackupClusterPartiallyFailed,
  BackupClusterFailed,
  BackupExpired,
  BackupDeleted,
] as const;
export const restoreEvents = [RestoreRequested, RestoreClusterProgressed, RestoreClusterCompleted, RestoreClusterPartiallyFailed, RestoreClusterFailed] as const;
