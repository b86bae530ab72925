import type { RecordedEvent } from '@canopy/eventstore';
import type { Projector, ReadModelTx } from '@canopy/projections';
import { backupEvents, canopyEventRegistry, restoreEvents } from '@canopy/schema';
import type { BackupEvent } from '../domain/backup.js';
import { aggregateRuns, type ClusterPhase, type ClusterRun } from '../domain/progress.js';
import type { RestoreEvent } from '../domain/restore.js';
import { BACKUP_PREFIX, RESTORE_PREFIX } from '../app/streams.js';

const registry = canopyEventRegistry();

/**
 * The backups and restores of every workspace, as the queries page through
 * them: one row per backup (its request, status and aggregate figures) with
 * one row per cluster (planned with its progress, or skipped with the
 * reason), and the same for restores. Rows outlive their workspace
 * (deleting a workspace keeps its backups). The status and figures are
 * those of `aggregateRuns`, recomputed from the cluster rows at each event;
 * the estimated time left depends on the time of the query and is computed
 * then (`queries.ts`).
 */
export const backupsProjector: Projector = {
  name: 'backups',
  version: 1,
  filter: { streamPrefixes: [BACKUP_PREFIX, RESTORE_PREFIX], eventTypes: [...backupEvents, ...restoreEvents].map((contract) => contract.type) },
  tables: (s) => `
    CREATE TABLE ${s}.backups (
      backup_id text PRIMARY KEY,
      organization_id text NOT NULL,
      workspace_id text NOT NULL,
      name text NOT NULL,
      -- NULL for an on-demand backup.
      schedule_id text,
      requested_by text,
      requested_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      location jsonb NOT NULL,
      options jsonb NOT NULL,
      namespaces jsonb NOT NULL,
      status text NOT NULL,
      percent integer NOT NULL,
      clusters_planned integer NOT NULL,
      clusters_done integer NOT NULL,
      clusters_failed integer NOT NULL,
      clusters_skipped integer NOT NULL,
      items_done bigint NOT NULL,
      total_items bigint NOT NULL,
      warnings bigint NOT NULL,
      errors bigint NOT NULL,
      started_at timestamptz,
      finished_at timestamptz,
      -- When it expired or was deleted (the event's occurredAt), and who deleted it.
      gone_at timestamptz,
      deleted_by text
    );
    CREATE TABLE ${s}.backup_clusters (
      backup_id text NOT NULL,
      cluster_id text NOT NULL,
      cluster_name text,
      skip_reason text,
      storage_prefix text,
      phase text,
      items_done bigint NOT NULL DEFAULT 0,
      total_items bigint NOT NULL DEFAULT 0,
      warnings bigint NOT NULL DEFAULT 0,
      errors bigint NOT NULL DEFAULT 0,
      started_at timestamptz,
      observed_at timestamptz,
      completed_at timestamptz,
      message text,
      PRIMARY KEY (backup_id, cluster_id)
    );
    CREATE TABLE ${s}.restores (
      restore_id text PRIMARY KEY,
      organization_id text NOT NULL,
      workspace_id text NOT NULL,
      backup_id text NOT NULL,
      backup_name text NOT NULL,
      name text NOT NULL,
      requested_by text NOT NULL,
      requested_at timestamptz NOT NULL,
      options jsonb NOT NULL,
      status text NOT NULL,
      percent integer NOT NULL,
      clusters_planned integer NOT NULL,
      clusters_done integer NOT NULL,
      clusters_failed integer NOT NULL,
      clusters_skipped integer NOT NULL,
      items_done bigint NOT NULL,
      total_items bigint NOT NULL,
      warnings bigint NOT NULL,
      errors bigint NOT NULL,
      started_at timestamptz,
      finished_at timestamptz
    );
    CREATE TABLE ${s}.restore_clusters (
      restore_id text NOT NULL,
      cluster_id text NOT NULL,
      cluster_name text,
      skip_reason text,
      phase text,
      items_done bigint NOT NULL DEFAULT 0,
      total_items bigint NOT NULL DEFAULT 0,
      warnings bigint NOT NULL DEFAULT 0,
      errors bigint NOT NULL DEFAULT 0,
      started_at timestamptz,
      observed_at timestamptz,
      completed_at timestamptz,
      message text,
      PRIMARY KEY (restore_id, cluster_id)
    );
  `,
  // Pages are newest first: (requested_at, id) descending, after a cursor.
  indexes: (s) => `
    CREATE INDEX IF NOT EXISTS backups_by_workspace ON ${s}.backups (workspace_id, requested_at DESC, backup_id DESC);
    CREATE INDEX IF NOT EXISTS backups_by_workspace_status ON ${s}.backups (workspace_id, status, requested_at DESC, backup_id DESC);
    CREATE INDEX IF NOT EXISTS backups_by_workspace_schedule ON ${s}.backups (workspace_id, schedule_id, requested_at DESC, backup_id DESC);
    CREATE INDEX IF NOT EXISTS restores_by_workspace ON ${s}.restores (workspace_id, requested_at DESC, restore_id DESC);
    CREATE INDEX IF NOT EXISTS restores_by_backup ON ${s}.restores (backup_id, requested_at DESC, restore_id DESC);
  `,
  async apply(tx, recorded, s) {
    const event = decode(recorded);
    if (recorded.stream.startsWith(RESTORE_PREFIX)) await applyRestore(tx, s, event as RestoreEvent);
    else await applyBackup(tx, s, event as BackupEvent, occurredAt(recorded));
  },
};

/** When the command that wrote the event decided it (its metadata), else when the log recorded it. */
function occurredAt(recorded: RecordedEvent): Date {
  const stamped = (recorded.metadata as { occurredAt?: unknown }).occurredAt;
  return typeof stamped === 'string' ? new Date(stamped) : recorded.createdAt;
}

function decode(recorded: RecordedEvent): { type: string; data: unknown } {
  const metadata = recorded.metadata as { schemaVersion?: unknown };
  const version = typeof metadata.schemaVersion === 'number' ? metadata.schemaVersion : 1;
  return { type: recorded.type, data: registry.upcast(recorded.type, version, recorded.data) };
}

const CLUSTER_FIGURES = 'phase = $3, items_done = $4, total_items = $5, warnings = $6, errors = $7, started_at = $8';

async function applyBackup(tx: ReadModelTx, s: string, event: BackupEvent, recordedAt: Date): Promise<void> {
  switch (event.type) {
    case 'BackupRequested': {
      const d = event.data;
      await tx.query(
        `INSERT INTO ${s}.backups (backup_id, organization_id, workspace_id, name, schedule_id, requested_by, requested_at, expires_at, location, options, namespaces,
                                   status, percent, clusters_planned, clusters_done, clusters_failed, clusters_skipped, items_done, total_items, warnings, errors)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'Pending', 0, $12, 0, 0, $13, 0, 0, 0, 0)`,
        [
          d.backupId,
          d.organizationId,
          d.workspaceId,
          d.name,
          d.trigger.kind === 'schedule' ? d.trigger.scheduleId : null,
          d.trigger.kind === 'onDemand' ? d.trigger.requestedBy : null,
          d.requestedAt,
          d.expiresAt,
          JSON.stringify(d.location),
          JSON.stringify(d.options),
          JSON.stringify(d.namespaces),
          d.planned.length,
          d.skipped.length,
        ],
      );
      for (const cluster of d.planned) {
        await tx.query(`INSERT INTO ${s}.backup_clusters (backup_id, cluster_id, cluster_name, storage_prefix, phase) VALUES ($1, $2, $3, $4, 'Pending')`, [
          d.backupId,
          cluster.clusterId,
          cluster.clusterName,
          cluster.storagePrefix,
        ]);
      }
      for (const cluster of d.skipped) {
        await tx.query(`INSERT INTO ${s}.backup_clusters (backup_id, cluster_id, cluster_name, skip_reason, message) VALUES ($1, $2, $3, $4, $5)`, [
          d.backupId,
          cluster.clusterId,
          cluster.clusterName,
          cluster.reason,
          cluster.message,
        ]);
      }
      await refreshBackup(tx, s, d.backupId);
      return;
    }
    case 'BackupClusterProgressed': {
      const d = event.data;
      await tx.query(`UPDATE ${s}.backup_clusters SET ${CLUSTER_FIGURES}, observed_at = $9 WHERE backup_id = $1 AND cluster_id = $2`, [
        d.backupId,
        d.clusterId,
        d.phase,
        d.itemsBackedUp,
        d.totalItems,
        d.warnings,
        d.errors,
        d.startedAt,
        d.observedAt,
      ]);
      return refreshBackup(tx, s, d.backupId);
    }
    case 'BackupClusterCompleted':
    case 'BackupClusterPartiallyFailed':
    case 'BackupClusterFailed': {
      const d = event.data;
      const phase = event.type === 'BackupClusterCompleted' ? 'Completed' : event.type === 'BackupClusterPartiallyFailed' ? 'PartiallyFailed' : event.data.phase;
      const message = event.type === 'BackupClusterCompleted' ? null : event.data.message;
      await tx.query(`UPDATE ${s}.backup_clusters SET ${CLUSTER_FIGURES}, completed_at = $9, message = $10 WHERE backup_id = $1 AND cluster_id = $2`, [
        d.backupId,
        d.clusterId,
        phase,
        d.itemsBackedUp,
        d.totalItems,
        d.warnings,
        d.errors,
        d.startedAt,
        d.completedAt,
        message,
      ]);
      return refreshBackup(tx, s, d.backupId);
    }
    case 'BackupExpired':
      await tx.query(`UPDATE ${s}.backups SET status = 'Expired', gone_at = $2 WHERE backup_id = $1`, [event.data.backupId, recordedAt.toISOString()]);
      return;
    case 'BackupDeleted':
      await tx.query(`UPDATE ${s}.backups SET status = 'Deleted', gone_at = $2, deleted_by = $3 WHERE backup_id = $1`, [
        event.data.backupId,
        recordedAt.toISOString(),
        event.data.deletedBy,
      ]);
      return;
  }
}

async function applyRestore(tx: ReadModelTx, s: string, event: RestoreEvent): Promise<void> {
  switch (event.type) {
    case 'RestoreRequested': {
      const d = event.data;
      await tx.query(
        `INSERT INTO ${s}.restores (restore_id, organization_id, workspace_id, backup_id, backup_name, name, requested_by, requested_at, options,
                                    status, percent, clusters_planned, clusters_done, clusters_failed, clusters_skipped, items_done, total_items, warnings, errors)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'Pending', 0, $10, 0, 0, $11, 0, 0, 0, 0)`,
        [d.restoreId, d.organizationId, d.workspaceId, d.backupId, d.backupName, d.name, d.requestedBy, d.requestedAt, JSON.stringify(d.options), d.planned.length, d.skipped.length],
      );
      for (const cluster of d.planned) {
        await tx.query(`INSERT INTO ${s}.restore_clusters (restore_id, cluster_id, cluster_name, phase) VALUES ($1, $2, $3, 'Pending')`, [
          d.restoreId,
          cluster.clusterId,
          cluster.clusterName,
        ]);
      }
      for (const cluster of d.skipped) {
        await tx.query(`INSERT INTO ${s}.restore_clusters (restore_id, cluster_id, cluster_name, skip_reason, message) VALUES ($1, $2, $3, $4, $5)`, [
          d.restoreId,
          cluster.clusterId,
          cluster.clusterName,
          cluster.reason,
          cluster.message,
        ]);
      }
      return refreshRestore(tx, s, d.restoreId);
    }
    case 'RestoreClusterProgressed': {
      const d = event.data;
      await tx.query(`UPDATE ${s}.restore_clusters SET ${CLUSTER_FIGURES}, observed_at = $9 WHERE restore_id = $1 AND cluster_id = $2`, [
        d.restoreId,
        d.clusterId,
        d.phase,
        d.itemsRestored,
        d.totalItems,
        d.warnings,
        d.errors,
        d.startedAt,
        d.observedAt,
      ]);
      return refreshRestore(tx, s, d.restoreId);
    }
    case 'RestoreClusterCompleted':
    case 'RestoreClusterPartiallyFailed':
    case 'RestoreClusterFailed': {
      const d = event.data;
      const phase = event.type === 'RestoreClusterCompleted' ? 'Completed' : event.type === 'RestoreClusterPartiallyFailed' ? 'PartiallyFailed' : event.data.phase;
      const message = event.type === 'RestoreClusterCompleted' ? null : event.data.message;
      await tx.query(`UPDATE ${s}.restore_clusters SET ${CLUSTER_FIGURES}, completed_at = $9, message = $10 WHERE restore_id = $1 AND cluster_id = $2`, [
        d.restoreId,
        d.clusterId,
        phase,
        d.itemsRestored,
        d.totalItems,
        d.warnings,
        d.errors,
        d.startedAt,
        d.completedAt,
        message,
      ]);
      return refreshRestore(tx, s, d.restoreId);
    }
  }
}

/** A cluster row as the queries and the aggregate read it. */
export interface ClusterRow {
  cluster_id: string;
  cluster_name: string | null;
  skip_reason: string | null;
  phase: string | null;
  items_done: string | number;
  total_items: string | number;
  warnings: string | number;
  errors: string | number;
  started_at: Date | string | null;
  observed_at: Date | string | null;
  completed_at: Date | string | null;
  message: string | null;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** The planned clusters of a backup or restore as the domain's runs. */
export function runsOf(rows: readonly ClusterRow[]): ClusterRun[] {
  return rows
    .filter((row) => row.skip_reason === null)
    .map((row) => ({
      clusterId: row.cluster_id,
      clusterName: row.cluster_name ?? row.cluster_id,
      phase: row.phase as ClusterPhase,
      itemsDone: Number(row.items_done),
      totalItems: Number(row.total_items),
      warnings: Number(row.warnings),
      errors: Number(row.errors),
      startedAt: iso(row.started_at),
      observedAt: iso(row.observed_at),
      completedAt: iso(row.completed_at),
      message: row.message,
    }));
}

async function refreshBackup(tx: ReadModelTx, s: string, backupId: string): Promise<void> {
  const rows = await tx.query<ClusterRow>(`SELECT * FROM ${s}.backup_clusters WHERE backup_id = $1`, [backupId]);
  await writeAggregate(tx, `${s}.backups`, 'backup_id', backupId, rows, "AND status NOT IN ('Expired', 'Deleted')");
}

async function refreshRestore(tx: ReadModelTx, s: string, restoreId: string): Promise<void> {
  const rows = await tx.query<ClusterRow>(`SELECT * FROM ${s}.restore_clusters WHERE restore_id = $1`, [restoreId]);
  await writeAggregate(tx, `${s}.restores`, 'restore_id', restoreId, rows, '');
}

/** Stores the aggregate's figures; a backup whose files are gone keeps that status. */
async function writeAggregate(tx: ReadModelTx, table: string, key: string, id: string, rows: readonly ClusterRow[], keepGone: string): Promise<void> {
  const skipped = rows.filter((row) => row.skip_reason !== null).length;
  const aggregate = aggregateRuns(runsOf(rows), skipped, new Date(0));
  const { clusters } = aggregate;
  await tx.query(
    `UPDATE ${table} SET status = CASE WHEN true ${keepGone} THEN $2 ELSE status END, percent = $3, clusters_planned = $4, clusters_done = $5, clusters_failed = $6,
            clusters_skipped = $7, items_done = $8, total_items = $9, warnings = $10, errors = $11, started_at = $12, finished_at = $13
      WHERE ${key} = $1`,
    [id, aggregate.status, aggregate.percent, clusters.planned, clusters.done, clusters.failed, clusters.skipped, aggregate.itemsDone, aggregate.totalItems, aggregate.warnings, aggregate.errors, aggregate.startedAt, aggregate.finishedAt],
  );
}
