import type { ReadModelTx } from '@canopy/projections';
import { CanopyError, ErrorCode, type BackupOptions, type ClusterSkipReason, type RestoreOptions } from '@canopy/schema';
import type { BackupStatus } from '../domain/backup.js';
import { aggregateRuns, type ClusterPhase, type RunAggregate, type RunStatus } from '../domain/progress.js';
import { runsOf, type ClusterRow } from './projector.js';

/**
 * The queries the backups API reads. They take a workspace (or ids) and
 * check nothing: the resolver first checks that the caller has a role in the
 * workspace (every role may see its backups) and, for lookups by id, that
 * the rows found belong to a workspace the caller may see.
 */

export interface BackupSummary {
  backupId: string;
  organizationId: string;
  workspaceId: string;
  name: string;
  /** Null for an on-demand backup. */
  scheduleId: string | null;
  requestedBy: string | null;
  requestedAt: Date;
  expiresAt: Date;
  location: { locationId: string; name: string; provider: string; bucket: string; prefix: string };
  options: BackupOptions;
  namespaces: string[];
  status: BackupStatus;
  percent: number;
  clusters: { planned: number; done: number; failed: number; skipped: number };
  itemsDone: number;
  totalItems: number;
  warnings: number;
  errors: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  goneAt: Date | null;
  deletedBy: string | null;
}

export interface ClusterDetail {
  clusterId: string;
  clusterName: string | null;
  /** Skipped clusters have a reason and no phase. */
  skipReason: ClusterSkipReason | null;
  phase: ClusterPhase | null;
  itemsDone: number;
  totalItems: number;
  warnings: number;
  errors: number;
  startedAt: Date | null;
  observedAt: Date | null;
  completedAt: Date | null;
  message: string | null;
}

export interface BackupDetail extends BackupSummary {
  clusterDetails: (ClusterDetail & { storagePrefix: string | null })[];
  /** The aggregate at the time of the query (its estimated time left counts from then). */
  progress: RunAggregate;
}

export interface RestoreSummary {
  restoreId: string;
  organizationId: string;
  workspaceId: string;
  backupId: string;
  backupName: string;
  name: string;
  requestedBy: string;
  requestedAt: Date;
  options: RestoreOptions;
  status: RunStatus;
  percent: number;
  clusters: { planned: number; done: number; failed: number; skipped: number };
  itemsDone: number;
  totalItems: number;
  warnings: number;
  errors: number;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RestoreDetail extends RestoreSummary {
  clusterDetails: ClusterDetail[];
  progress: RunAggregate;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  /** Pass as `after` for the next page; null for an empty page. */
  endCursor: string | null;
}

export interface BackupsQuery {
  workspaceId: string;
  /** Only backups in one of these statuses. */
  statuses?: readonly BackupStatus[];
  /** Only one schedule's backups; null: on-demand backups only. */
  scheduleId?: string | null;
  /** At most 500. */
  first: number;
  after?: string;
}

export interface RestoresQuery {
  workspaceId: string;
  /** Only the restores of one backup. */
  backupId?: string;
  first: number;
  after?: string;
}

/** Largest page a query returns. */
export const MAX_PAGE = 500;

/** A workspace's backups, newest first, one page per statement (keyset on the request time and id). */
export async function backupsPage(db: ReadModelTx, schema: string, query: BackupsQuery): Promise<Page<BackupSummary>> {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = [`workspace_id = ${param(query.workspaceId)}`];
  if (query.statuses !== undefined) where.push(`status = ANY(${param([...query.statuses])}::text[])`);
  if (query.scheduleId === null) where.push('schedule_id IS NULL');
  else if (query.scheduleId !== undefined) where.push(`schedule_id = ${param(query.scheduleId)}`);
  return page(db, `${schema}.backups`, 'backup_id', where, params, query, backupSummary);
}

/** A workspace's restores, newest first. */
export async function restoresPage(db: ReadModelTx, schema: string, query: RestoresQuery): Promise<Page<RestoreSummary>> {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = [`workspace_id = ${param(query.workspaceId)}`];
  if (query.backupId !== undefined) where.push(`backup_id = ${param(query.backupId)}`);
  return page(db, `${schema}.restores`, 'restore_id', where, params, query, restoreSummary);
}

/** Backups by id with their clusters, in two statements for any number of ids (for a DataLoader); unknown ids are absent. */
export async function backupsById(db: ReadModelTx, schema: string, backupIds: readonly string[], now: Date): Promise<Map<string, BackupDetail>> {
  if (backupIds.length === 0) return new Map();
  const ids = [...new Set(backupIds)];
  const rows = await db.query<BackupRow>(`SELECT * FROM ${schema}.backups WHERE backup_id = ANY($1::text[])`, [ids]);
  const clusters = await db.query<ClusterRow & { backup_id: string; storage_prefix: string | null }>(
    `SELECT * FROM ${schema}.backup_clusters WHERE backup_id = ANY($1::text[]) ORDER BY backup_id, coalesce(cluster_name, cluster_id) COLLATE "C", cluster_id COLLATE "C"`,
    [ids],
  );
  return new Map(
    rows.map((row) => {
      const own = clusters.filter((cluster) => cluster.backup_id === row.backup_id);
      const summary = backupSummary(row);
      const progress = aggregateRuns(runsOf(own), summary.clusters.skipped, now);
      const detail: BackupDetail = {
        ...summary,
        clusterDetails: own.map((cluster) => ({ ...clusterDetail(cluster), storagePrefix: cluster.storage_prefix })),
        progress: summary.status === 'Expired' || summary.status === 'Deleted' ? { ...progress, estimatedSecondsLeft: null } : progress,
      };
      return [row.backup_id, detail];
    }),
  );
}

/** Restores by id with their clusters (as `backupsById`). */
export async function restoresById(db: ReadModelTx, schema: string, restoreIds: readonly string[], now: Date): Promise<Map<string, RestoreDetail>> {
  if (restoreIds.length === 0) return new Map();
  const ids = [...new Set(restoreIds)];
  const rows = await db.query<RestoreRow>(`SELECT * FROM ${schema}.restores WHERE restore_id = ANY($1::text[])`, [ids]);
  const clusters = await db.query<ClusterRow & { restore_id: string }>(
    `SELECT * FROM ${schema}.restore_clusters WHERE restore_id = ANY($1::text[]) ORDER BY restore_id, coalesce(cluster_name, cluster_id) COLLATE "C", cluster_id COLLATE "C"`,
    [ids],
  );
  return new Map(
    rows.map((row) => {
      const own = clusters.filter((cluster) => cluster.restore_id === row.restore_id);
      const summary = restoreSummary(row);
      return [row.restore_id, { ...summary, clusterDetails: own.map(clusterDetail), progress: aggregateRuns(runsOf(own), summary.clusters.skipped, now) }];
    }),
  );
}

interface Counters {
  percent: number;
  clusters_planned: number;
  clusters_done: number;
  clusters_failed: number;
  clusters_skipped: number;
  items_done: string | number;
  total_items: string | number;
  warnings: string | number;
  errors: string | number;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  requested_at: Date | string;
}

interface BackupRow extends Counters {
  backup_id: string;
  organization_id: string;
  workspace_id: string;
  name: string;
  schedule_id: string | null;
  requested_by: string | null;
  expires_at: Date | string;
  location: BackupSummary['location'];
  options: BackupOptions;
  namespaces: string[];
  status: BackupStatus;
  gone_at: Date | string | null;
  deleted_by: string | null;
}

interface RestoreRow extends Counters {
  restore_id: string;
  organization_id: string;
  workspace_id: string;
  backup_id: string;
  backup_name: string;
  name: string;
  requested_by: string;
  options: RestoreOptions;
  status: RunStatus;
}

const date = (value: Date | string): Date => new Date(value);
const maybeDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

function counters(row: Counters) {
  return {
    requestedAt: date(row.requested_at),
    percent: row.percent,
    clusters: { planned: row.clusters_planned, done: row.clusters_done, failed: row.clusters_failed, skipped: row.clusters_skipped },
    itemsDone: Number(row.items_done),
    totalItems: Number(row.total_items),
    warnings: Number(row.warnings),
    errors: Number(row.errors),
    startedAt: maybeDate(row.started_at),
    finishedAt: maybeDate(row.finished_at),
  };
}

function backupSummary(row: BackupRow): BackupSummary {
  return {
    backupId: row.backup_id,
    organizationId: row.organization_id,
    workspaceId: row.workspace_id,
    name: row.name,
    scheduleId: row.schedule_id,
    requestedBy: row.requested_by,
    expiresAt: date(row.expires_at),
    location: row.location,
    options: row.options,
    namespaces: row.namespaces,
    status: row.status,
    goneAt: maybeDate(row.gone_at),
    deletedBy: row.deleted_by,
    ...counters(row),
  };
}

function restoreSummary(row: RestoreRow): RestoreSummary {
  return {
    restoreId: row.restore_id,
    organizationId: row.organization_id,
    workspaceId: row.workspace_id,
    backupId: row.backup_id,
    backupName: row.backup_name,
    name: row.name,
    requestedBy: row.requested_by,
    options: row.options,
    status: row.status,
    ...counters(row),
  };
}

function clusterDetail(row: ClusterRow): ClusterDetail {
  return {
    clusterId: row.cluster_id,
    clusterName: row.cluster_name,
    skipReason: row.skip_reason as ClusterSkipReason | null,
    phase: row.skip_reason === null ? (row.phase as ClusterPhase) : null,
    itemsDone: Number(row.items_done),
    totalItems: Number(row.total_items),
    warnings: Number(row.warnings),
    errors: Number(row.errors),
    startedAt: maybeDate(row.started_at),
    observedAt: maybeDate(row.observed_at),
    completedAt: maybeDate(row.completed_at),
    message: row.message,
  };
}

/** One keyset page, newest first: `first + 1` rows tell whether another page follows. */
async function page<Row extends { requested_at: Date | string }, T>(
  db: ReadModelTx,
  table: string,
  key: string,
  where: string[],
  params: unknown[],
  query: { first: number; after?: string },
  map: (row: Row) => T,
): Promise<Page<T>> {
  if (!Number.isSafeInteger(query.first) || query.first < 0 || query.first > MAX_PAGE) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `first must be a whole number from 0 to ${MAX_PAGE}.`, { field: 'first' });
  }
  const param = (value: unknown) => `$${params.push(value)}`;
  if (query.after !== undefined) {
    const [requestedAt, id] = readCursor(query.after);
    where.push(`(requested_at, ${key}) < (${param(requestedAt)}::timestamptz, ${param(id)})`);
  }
  const rows = await db.query<Row & Record<string, unknown>>(
    `SELECT * FROM ${table} WHERE ${where.join(' AND ')} ORDER BY requested_at DESC, ${key} DESC LIMIT ${param(query.first + 1)}`,
    params,
  );
  const nodes = rows.slice(0, query.first);
  const last = nodes.at(-1);
  return {
    nodes: nodes.map(map),
    hasNextPage: rows.length > query.first,
    endCursor: last ? writeCursor(date(last.requested_at), String(last[key])) : null,
  };
}

/** The cursor just after a backup of a page: pass it as `after` to continue from there. */
export function backupCursor(backup: Pick<BackupSummary, 'requestedAt' | 'backupId'>): string {
  return writeCursor(backup.requestedAt, backup.backupId);
}

/** The cursor just after a restore of a page. */
export function restoreCursor(restore: Pick<RestoreSummary, 'requestedAt' | 'restoreId'>): string {
  return writeCursor(restore.requestedAt, restore.restoreId);
}

/** An opaque cursor: the last row's request time and id. */
function writeCursor(requestedAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([requestedAt.toISOString(), id])).toString('base64url');
}

function readCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'string' && typeof value[0] === 'string' && !Number.isNaN(Date.parse(value[0]))) {
      return [value[0], value[1]];
    }
  } catch {
    // Falls through to the error below.
  }
  throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after is not a cursor this query returned.', { field: 'after' });
}
