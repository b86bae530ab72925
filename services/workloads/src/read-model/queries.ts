import type { ReadModelTx } from '@canopy/projections';
import { CanopyError, ErrorCode, WatchedWorkloadKind, WorkloadStatus, type WorkloadReplicas } from '@canopy/schema';
import type { KnownWorkload } from '../watch/changes.js';

/**
 * The queries of the workloads read model. They take a workspace and check
 * nothing: the resolver first checks the caller's role in the workspace.
 */

export interface WorkloadRecord {
  workspaceId: string;
  clusterId: string;
  namespace: string;
  kind: WatchedWorkloadKind;
  name: string;
  status: WorkloadStatus;
  previousStatus: WorkloadStatus | null;
  replicas: WorkloadReplicas | null;
  reason: string | null;
  message: string | null;
  observedAt: Date;
  since: Date;
}

export interface WorkloadsQuery {
  workspaceId: string;
  clusterId?: string;
  namespace?: string;
  /** Any of these kinds (absent or empty: all). */
  kinds?: readonly WatchedWorkloadKind[];
  /** Any of these statuses (absent or empty: all). */
  statuses?: readonly WorkloadStatus[];
  /** 1 to 500. */
  first: number;
  /** The endCursor of the previous page. */
  after?: string;
}

export interface WorkloadPage {
  nodes: WorkloadRecord[];
  /** The cursor of each node (pass one as `after` to continue after it). */
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** How many match the filters, across pages. */
  totalCount: number;
}

export const MAX_WORKLOAD_PAGE = 500;

interface WorkloadRow {
  workspace_id: string;
  cluster_id: string;
  namespace: string;
  kind: WatchedWorkloadKind;
  name: string;
  status: WorkloadStatus;
  previous_status: WorkloadStatus | null;
  desired: number | null;
  ready: number | null;
  available: number | null;
  updated: number | null;
  reason: string | null;
  message: string | null;
  observed_at: Date | string;
  since: Date | string;
}

/** One page of a workspace's workloads, by cluster, namespace, kind and name (bytewise), keyset after the cursor: two statements (the page and the count). */
export async function workloadsPage(db: ReadModelTx, schema: string, query: WorkloadsQuery): Promise<WorkloadPage> {
  if (!Number.isSafeInteger(query.first) || query.first < 1 || query.first > MAX_WORKLOAD_PAGE) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `first must be between 1 and ${MAX_WORKLOAD_PAGE}.`, { field: 'first' });
  }
  for (const kind of query.kinds ?? []) {
    if (!WatchedWorkloadKind.safeParse(kind).success) throw new CanopyError(ErrorCode.BAD_USER_INPUT, `kind must be one of ${WatchedWorkloadKind.options.join(', ')}.`, { field: 'kind' });
  }
  for (const status of query.statuses ?? []) {
    if (!WorkloadStatus.safeParse(status).success) throw new CanopyError(ErrorCode.BAD_USER_INPUT, `status must be one of ${WorkloadStatus.options.join(', ')}.`, { field: 'status' });
  }
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = [`workspace_id = ${param(query.workspaceId)}`];
  if (query.clusterId !== undefined) where.push(`cluster_id = ${param(query.clusterId)}`);
  if (query.namespace !== undefined) where.push(`namespace = ${param(query.namespace)}`);
  if (query.kinds?.length) where.push(`kind = ANY(${param([...query.kinds])}::text[])`);
  if (query.statuses?.length) where.push(`status = ANY(${param([...query.statuses])}::text[])`);
  const filtered = [...where];
  const countParams = [...params];
  if (query.after !== undefined) {
    const [clusterId, namespace, kind, name] = readCursor(query.after);
    where.push(`(cluster_id, namespace, kind, name) > (${param(clusterId)}, ${param(namespace)}, ${param(kind)}, ${param(name)})`);
  }
  const table = `${schema}.workloads`;
  const [rows, counted] = await Promise.all([
    db.query<WorkloadRow>(`SELECT * FROM ${table} WHERE ${where.join(' AND ')} ORDER BY cluster_id, namespace, kind, name LIMIT ${param(query.first + 1)}`, params),
    db.query<{ total: string | number }>(`SELECT count(*) AS total FROM ${table} WHERE ${filtered.join(' AND ')}`, countParams),
  ]);
  const nodes = rows.slice(0, query.first).map(toRecord);
  const cursors = nodes.map(writeCursor);
  return { nodes, cursors, hasNextPage: rows.length > query.first, endCursor: cursors.at(-1) ?? null, totalCount: Number(counted[0]?.total ?? 0) };
}

export type StatusCounts = Record<WorkloadStatus, number>;

/** How many workloads each workspace has in each status (every status present, 0 when none): one statement for any number of workspaces. */
export async function workloadStatusCounts(db: ReadModelTx, schema: string, workspaceIds: readonly string[]): Promise<Map<string, StatusCounts>> {
  const counts = new Map<string, StatusCounts>();
  if (workspaceIds.length === 0) return counts;
  const ids = [...new Set(workspaceIds)];
  for (const id of ids) counts.set(id, emptyCounts());
  const rows = await db.query<{ workspace_id: string; status: WorkloadStatus; total: string | number }>(
    `SELECT workspace_id, status, count(*) AS total FROM ${schema}.workloads WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id, status`,
    [ids],
  );
  for (const row of rows) counts.get(row.workspace_id)![row.status] = Number(row.total);
  return counts;
}

/** One workload of a workspace, or undefined. */
export async function workloadByKey(db: ReadModelTx, schema: string, workspaceId: string, ref: { clusterId: string; namespace: string; kind: string; name: string }): Promise<WorkloadRecord | undefined> {
  const [row] = await db.query<WorkloadRow>(`SELECT * FROM ${schema}.workloads WHERE workspace_id = $1 AND cluster_id = $2 AND namespace = $3 AND kind = $4 AND name = $5`, [
    workspaceId,
    ref.clusterId,
    ref.namespace,
    ref.kind,
    ref.name,
  ]);
  return row ? toRecord(row) : undefined;
}

/** Every workload the read model holds for a workspace: what the watcher seeds its dedupe from when it starts. */
export async function knownWorkloads(db: ReadModelTx, schema: string, workspaceId: string): Promise<KnownWorkload[]> {
  const rows = await db.query<WorkloadRow>(`SELECT * FROM ${schema}.workloads WHERE workspace_id = $1`, [workspaceId]);
  return rows.map((row) => {
    const record = toRecord(row);
    return { clusterId: record.clusterId, namespace: record.namespace, kind: record.kind, name: record.name, status: record.status, replicas: record.replicas, reason: record.reason, message: record.message, since: record.since.toISOString() };
  });
}

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(WorkloadStatus.options.map((status) => [status, 0])) as StatusCounts;
}

function toRecord(row: WorkloadRow): WorkloadRecord {
  return {
    workspaceId: row.workspace_id,
    clusterId: row.cluster_id,
    namespace: row.namespace,
    kind: row.kind,
    name: row.name,
    status: row.status,
    previousStatus: row.previous_status,
    replicas: row.desired === null ? null : { desired: row.desired, ready: row.ready ?? 0, available: row.available ?? 0, updated: row.updated ?? 0 },
    reason: row.reason,
    message: row.message,
    observedAt: new Date(row.observed_at),
    since: new Date(row.since),
  };
}

function writeCursor(record: WorkloadRecord): string {
  return Buffer.from(JSON.stringify([record.clusterId, record.namespace, record.kind, record.name])).toString('base64url');
}

function readCursor(cursor: string): [string, string, string, string] {
  try {
    if (/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) {
      const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(value) && value.length === 4 && value.every((part) => typeof part === 'string')) return value as [string, string, string, string];
    }
  } catch {
    // Falls through to the error below.
  }
  throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after must be an endCursor (or edge cursor) of a previous workloads page.', { field: 'after' });
}
