import type { ReadModelTx } from '@canopy/projections';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { toCsv, type CsvField } from './csv.js';
import { formatMicros, nanosToPrice, priceToNanos, roundHalfEven } from './model/money.js';
import { checkPeriod, isoDay, isoInstant, MAX_PERIOD_DAYS, splitPeriod, type Period } from './period.js';

/**
 * Queries of the cost read model. Every query of a workspace reads only
 * that workspace's rows (the caller checks the role first); cluster
 * queries read the clusters named. Money leaves as decimal strings of
 * currency units with six decimals, summed exactly in SQL (`numeric`);
 * amounts in different currencies are never added, so every answer is per
 * currency.
 */

/** Costs in one currency, each a decimal string (`"12.345678"`); `idle` is the shared idle cost charged to it. */
export interface CostAmounts {
  currency: string;
  cpu: string;
  memory: string;
  gpu: string;
  idle: string;
  total: string;
}

export interface WorkloadRef {
  clusterId: string;
  namespace: string;
  kind: string;
  name: string;
}

export interface WorkspacePeriod extends Period {
  workspaceId: string;
}

const bad = (field: string, message: string): CanopyError => new CanopyError(ErrorCode.BAD_USER_INPUT, message, { field });

function checkWorkspace(workspaceId: unknown): string {
  if (typeof workspaceId !== 'string' || workspaceId.length === 0 || workspaceId.length > 128) throw bad('workspaceId', 'workspaceId must be a workspace id');
  return workspaceId;
}

const MONEY_SUMS = `sum(cpu_cost)::text AS cpu, sum(memory_cost)::text AS memory, sum(gpu_cost)::text AS gpu, sum(idle_cost)::text AS idle`;

interface MoneyRow {
  currency: string;
  cpu: string;
  memory: string;
  gpu: string;
  idle: string;
}

function amounts(row: MoneyRow): CostAmounts {
  const [cpu, memory, gpu, idle] = [row.cpu, row.memory, row.gpu, row.idle].map((sum) => BigInt(sum)) as [bigint, bigint, bigint, bigint];
  return { currency: row.currency, cpu: formatMicros(cpu), memory: formatMicros(memory), gpu: formatMicros(gpu), idle: formatMicros(idle), total: formatMicros(cpu + memory + gpu + idle) };
}

/**
 * The rows of a workload or workspace roll-up over an hour-aligned period:
 * its whole days from the daily table, the hours around them from the
 * hourly one. Parameters $1 (workspace) to $7.
 */
function periodRows(schema: string, level: 'workload' | 'workspace', columns: string, workspaceId: string, period: Period): { sql: string; params: string[] } {
  const { from, to } = checkPeriod(period, { days: false, maxDays: MAX_PERIOD_DAYS.daily });
  const { days, hours } = splitPeriod(from, to);
  const sql = `
    SELECT ${columns} FROM ${schema}.${level}_daily WHERE workspace_id = $1 AND day >= $2::date AND day < $3::date
    UNION ALL
    SELECT ${columns} FROM ${schema}.${level}_hourly WHERE workspace_id = $1 AND ((hour >= $4::timestamptz AND hour < $5::timestamptz) OR (hour >= $6::timestamptz AND hour < $7::timestamptz))`;
  return { sql, params: [workspaceId, ...days, ...hours[0]!, ...hours[1]!] };
}

const COSTS = 'currency, cpu_cost, memory_cost, gpu_cost, idle_cost';

/** A workspace's cost per UTC day over a period of whole days, oldest first (days without usage are absent). */
export async function dailyCost(db: ReadModelTx, schema: string, query: WorkspacePeriod): Promise<(CostAmounts & { day: string })[]> {
  const workspaceId = checkWorkspace(query.workspaceId);
  const { from, to } = checkPeriod(query, { days: true, maxDays: MAX_PERIOD_DAYS.daily });
  const rows = await db.query<MoneyRow & { day: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, currency, ${MONEY_SUMS}
       FROM ${schema}.workspace_daily
      WHERE workspace_id = $1 AND day >= $2::date AND day < $3::date
      GROUP BY day, currency
      ORDER BY day, currency COLLATE "C"`,
    [workspaceId, isoDay(from), isoDay(to)],
  );
  return rows.map((row) => ({ day: row.day, ...amounts(row) }));
}

/** A workspace's cost over an hour-aligned period, one entry per currency (by currency code; currencies without usage are absent). */
export async function costTotals(db: ReadModelTx, schema: string, query: WorkspacePeriod): Promise<CostAmounts[]> {
  const workspaceId = checkWorkspace(query.workspaceId);
  const { sql, params } = periodRows(schema, 'workspace', COSTS, workspaceId, query);
  const rows = await db.query<MoneyRow>(`SELECT currency, ${MONEY_SUMS} FROM (${sql}) AS r GROUP BY currency ORDER BY currency COLLATE "C"`, params);
  return rows.map(amounts);
}

export type BreakdownDimension = 'cluster' | 'namespace' | 'workload';

export interface BreakdownRow extends CostAmounts {
  clusterId?: string;
  namespace?: string;
  workload?: WorkloadRef;
}

const DIMENSIONS: Record<BreakdownDimension, string[]> = {
  cluster: ['cluster_id'],
  // A namespace of a workspace is one namespace across its clusters.
  namespace: ['namespace'],
  workload: ['cluster_id', 'namespace', 'workload_kind', 'workload_name'],
};

function refOf(row: Record<string, string>): Pick<BreakdownRow, 'clusterId' | 'namespace' | 'workload'> {
  if (row.workload_kind !== undefined) return { workload: { clusterId: row.cluster_id!, namespace: row.namespace!, kind: row.workload_kind, name: row.workload_name! } };
  if (row.namespace !== undefined) return { namespace: row.namespace };
  return { clusterId: row.cluster_id! };
}

/** A workspace's cost over an hour-aligned period by cluster, namespace or workload, largest first within each currency. */
export async function costBreakdown(db: ReadModelTx, schema: string, query: WorkspacePeriod & { by: BreakdownDimension }): Promise<BreakdownRow[]> {
  const workspaceId = checkWorkspace(query.workspaceId);
  if (!Object.hasOwn(DIMENSIONS, query.by)) throw bad('by', 'by must be cluster, namespace or workload');
  const dimensions = DIMENSIONS[query.by];
  const { sql, params } = periodRows(schema, query.by === 'cluster' ? 'workspace' : 'workload', `${dimensions.join(', ')}, ${COSTS}`, workspaceId, query);
  const rows = await db.query<MoneyRow & Record<string, string>>(
    `SELECT ${dimensions.join(', ')}, currency, ${MONEY_SUMS}
       FROM (${sql}) AS r
      GROUP BY ${dimensions.join(', ')}, currency
      ORDER BY currency COLLATE "C", sum(cpu_cost + memory_cost + gpu_cost + idle_cost) DESC, ${dimensions.map((d) => `${d} COLLATE "C"`).join(', ')}`,
    params,
  );
  return rows.map((row) => ({ ...refOf(row), ...amounts(row) }));
}

/** The `limit` most expensive workloads of a workspace over an hour-aligned period, per currency, most expensive first. */
export async function topWorkloads(db: ReadModelTx, schema: string, query: WorkspacePeriod & { limit: number }): Promise<(CostAmounts & { workload: WorkloadRef; rank: number })[]> {
  const workspaceId = checkWorkspace(query.workspaceId);
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > 1000) throw bad('limit', 'limit must be an integer from 1 to 1000');
  const dimensions = DIMENSIONS.workload.join(', ');
  const { sql, params } = periodRows(schema, 'workload', `${dimensions}, ${COSTS}`, workspaceId, query);
  const rows = await db.query<MoneyRow & Record<string, string> & { rank: string }>(
    `SELECT * FROM (
       SELECT ${dimensions}, currency, ${MONEY_SUMS},
              row_number() OVER (PARTITION BY currency ORDER BY sum(cpu_cost + memory_cost + gpu_cost + idle_cost) DESC,
                                 cluster_id COLLATE "C", namespace COLLATE "C", workload_kind COLLATE "C", workload_name COLLATE "C")::text AS rank
         FROM (${sql}) AS r
        GROUP BY ${dimensions}, currency) AS ranked
      WHERE rank::int <= $8
      ORDER BY currency COLLATE "C", rank::int`,
    [...params, String(query.limit)],
  );
  return rows.map((row) => ({ workload: refOf(row).workload!, rank: Number(row.rank), ...amounts(row) }));
}

export type Resolution = 'hour' | 'day';

export interface UtilizationQuery extends WorkspacePeriod {
  resolution: Resolution;
  /** Only this cluster's workloads. */
  clusterId?: string;
  /** Only this namespace's workloads. */
  namespace?: string;
  /** Only this workload (of `namespace`, which it requires). */
  workload?: { kind: string; name: string };
}

/**
 * Averages over one bucket (an hour or a day), over the time the cluster
 * was sampled in it: summed over the workloads, and over the clusters,
 * each cluster's usage divided by its own sampled seconds (a bucket half
 * sampled, like the current hour, is not halved).
 */
export interface UtilizationPoint {
  /** The bucket's start: `2026-03-01T10:00:00Z`, or `2026-03-01` by day. */
  start: string;
  cpuUsageMillicores: number;
  cpuRequestMillicores: number;
  memoryUsageBytes: number;
  memoryRequestBytes: number;
}

/** CPU and memory usage and requests of a workspace (or one cluster, namespace or workload of it) per hour or day, oldest first; buckets without samples are absent. */
export async function utilizationTrend(db: ReadModelTx, schema: string, query: UtilizationQuery): Promise<UtilizationPoint[]> {
  const workspaceId = checkWorkspace(query.workspaceId);
  if (query.resolution !== 'hour' && query.resolution !== 'day') throw bad('resolution', 'resolution must be hour or day');
  const daily = query.resolution === 'day';
  const { from, to } = checkPeriod(query, { days: daily, maxDays: daily ? MAX_PERIOD_DAYS.daily : MAX_PERIOD_DAYS.hourly });
  if (query.workload && query.namespace === undefined) throw bad('namespace', 'a workload is named with its namespace');
  const bucket = daily ? 'day' : 'hour';
  const params: string[] = [workspaceId, daily ? isoDay(from) : isoInstant(from), daily ? isoDay(to) : isoInstant(to)];
  const filters: string[] = [];
  const filter = (column: string, value: string) => filters.push(`${column} = $${params.push(value)}`);
  if (query.clusterId !== undefined) filter('cluster_id', query.clusterId);
  if (query.namespace !== undefined) filter('namespace', query.namespace);
  if (query.workload) {
    filter('workload_kind', query.workload.kind);
    filter('workload_name', query.workload.name);
  }
  // The workspace roll-up holds no namespaces: a namespace or workload reads the workload roll-up.
  const level = query.namespace === undefined ? 'workspace' : 'workload';
  const suffix = daily ? 'daily' : 'hourly';
  const rows = await db.query<{ start: string; cpu_usage: string; cpu_request: string; memory_usage: string; memory_request: string }>(
    `WITH usage AS (
       SELECT ${bucket} AS bucket, cluster_id, sum(cpu_usage) AS cpu_usage, sum(cpu_request) AS cpu_request, sum(memory_usage) AS memory_usage, sum(memory_request) AS memory_request
         FROM ${schema}.${level}_${suffix}
        WHERE workspace_id = $1 AND ${bucket} >= $2 AND ${bucket} < $3 ${filters.map((f) => `AND ${f}`).join(' ')}
        GROUP BY 1, 2),
     sampled AS (
       SELECT ${bucket} AS bucket, cluster_id, sum(seconds) AS seconds
         FROM ${schema}.cluster_${suffix}
        WHERE cluster_id IN (SELECT DISTINCT cluster_id FROM usage) AND ${bucket} >= $2 AND ${bucket} < $3
        GROUP BY 1, 2)
     SELECT ${daily ? `to_char(u.bucket, 'YYYY-MM-DD')` : `to_char(u.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`} AS start,
            round(sum(u.cpu_usage / s.seconds))::text AS cpu_usage, round(sum(u.cpu_request / s.seconds))::text AS cpu_request,
            round(sum(u.memory_usage / s.seconds))::text AS memory_usage, round(sum(u.memory_request / s.seconds))::text AS memory_request
       FROM usage u JOIN sampled s ON s.bucket = u.bucket AND s.cluster_id = u.cluster_id AND s.seconds > 0
      GROUP BY u.bucket
      ORDER BY u.bucket`,
    params,
  );
  return rows.map((row) => ({
    start: row.start,
    cpuUsageMillicores: Number(row.cpu_usage),
    cpuRequestMillicores: Number(row.cpu_request),
    memoryUsageBytes: Number(row.memory_usage),
    memoryRequestBytes: Number(row.memory_request),
  }));
}

/** A cluster's capacity, allocation and idle cost over a period, in one currency. Averages are over the time it was sampled. */
export interface ClusterIdle {
  clusterId: string;
  currency: string;
  cpuCapacityMillicores: number;
  cpuAllocatedMillicores: number;
  memoryCapacityBytes: number;
  memoryAllocatedBytes: number;
  gpuCapacity: number;
  gpuAllocated: number;
  /** Idle cost per resource and in all, decimal strings. */
  cpuIdle: string;
  memoryIdle: string;
  gpuIdle: string;
  idle: string;
  /** The part of `idle` shared out to workloads (in their `idle` cost), and the part charged to no one. */
  shared: string;
  unshared: string;
}

/** Idle cost of the clusters named over an hour-aligned period, by cluster id then currency. */
export async function clusterIdle(db: ReadModelTx, schema: string, query: Period & { clusterIds: readonly string[] }): Promise<ClusterIdle[]> {
  if (!Array.isArray(query.clusterIds) || query.clusterIds.some((id) => typeof id !== 'string')) throw bad('clusterIds', 'clusterIds must be a list of cluster ids');
  const { from, to } = checkPeriod(query, { days: false, maxDays: MAX_PERIOD_DAYS.daily });
  if (query.clusterIds.length === 0) return [];
  const { days, hours } = splitPeriod(from, to);
  const columns = 'cluster_id, currency, seconds, cpu_capacity, cpu_allocated, memory_capacity, memory_allocated, gpu_capacity, gpu_allocated, cpu_idle_cost, memory_idle_cost, gpu_idle_cost, shared_idle_cost';
  const rows = await db.query<Record<string, string>>(
    `SELECT cluster_id, currency,
            round(sum(cpu_capacity) / sum(seconds))::text AS cpu_capacity, round(sum(cpu_allocated) / sum(seconds))::text AS cpu_allocated,
            round(sum(memory_capacity) / sum(seconds))::text AS memory_capacity, round(sum(memory_allocated) / sum(seconds))::text AS memory_allocated,
            round(sum(gpu_capacity) / sum(seconds), 3)::text AS gpu_capacity, round(sum(gpu_allocated) / sum(seconds), 3)::text AS gpu_allocated,
            sum(cpu_idle_cost)::text AS cpu_idle, sum(memory_idle_cost)::text AS memory_idle, sum(gpu_idle_cost)::text AS gpu_idle, sum(shared_idle_cost)::text AS shared
       FROM (SELECT ${columns} FROM ${schema}.cluster_daily WHERE cluster_id = ANY($1::text[]) AND day >= $2::date AND day < $3::date
             UNION ALL
             SELECT ${columns} FROM ${schema}.cluster_hourly
              WHERE cluster_id = ANY($1::text[]) AND ((hour >= $4::timestamptz AND hour < $5::timestamptz) OR (hour >= $6::timestamptz AND hour < $7::timestamptz))) AS r
      GROUP BY cluster_id, currency
     HAVING sum(seconds) > 0
      ORDER BY cluster_id COLLATE "C", currency COLLATE "C"`,
    [[...new Set(query.clusterIds)], ...days, ...hours[0]!, ...hours[1]!],
  );
  return rows.map((row) => {
    const [cpu, memory, gpu, shared] = [row.cpu_idle!, row.memory_idle!, row.gpu_idle!, row.shared!].map((sum) => BigInt(sum)) as [bigint, bigint, bigint, bigint];
    const idle = cpu + memory + gpu;
    return {
      clusterId: row.cluster_id!,
      currency: row.currency!,
      cpuCapacityMillicores: Number(row.cpu_capacity),
      cpuAllocatedMillicores: Number(row.cpu_allocated),
      memoryCapacityBytes: Number(row.memory_capacity),
      memoryAllocatedBytes: Number(row.memory_allocated),
      gpuCapacity: Number(row.gpu_capacity),
      gpuAllocated: Number(row.gpu_allocated),
      cpuIdle: formatMicros(cpu),
      memoryIdle: formatMicros(memory),
      gpuIdle: formatMicros(gpu),
      idle: formatMicros(idle),
      shared: formatMicros(shared),
      unshared: formatMicros(idle - shared),
    };
  });
}

export const COST_CSV_HEADER = [
  'date',
  'workspace_id',
  'cluster_id',
  'namespace',
  'workload_kind',
  'workload_name',
  'currency',
  'cpu_core_hours',
  'memory_gib_hours',
  'gpu_hours',
  'cpu_cost',
  'memory_cost',
  'gpu_cost',
  'idle_cost',
  'total_cost',
] as const;

/** Unit-seconds as unit-hours with six decimals (`divisor`: the unit in base units × 3600). */
const hours = (unitSeconds: string, divisor: bigint): { number: string } => ({ number: formatMicros(roundHalfEven(BigInt(unitSeconds) * 1_000_000n, divisor)) });

/**
 * The finance export (charge-back): one CSV record per UTC day, cluster,
 * namespace, workload and currency of a workspace over a period of whole
 * days, with the allocated core-hours, GiB-hours and GPU-hours that were
 * priced and the cost of each; ordered by day, cluster, namespace, kind,
 * name, currency.
 */
export async function costCsv(db: ReadModelTx, schema: string, query: WorkspacePeriod): Promise<string> {
  const workspaceId = checkWorkspace(query.workspaceId);
  const { from, to } = checkPeriod(query, { days: true, maxDays: MAX_PERIOD_DAYS.export });
  const rows = await db.query<Record<string, string>>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, cluster_id, namespace, workload_kind, workload_name, currency,
            cpu_allocated::text, memory_allocated::text, gpu_allocated::text, cpu_cost::text, memory_cost::text, gpu_cost::text, idle_cost::text
       FROM ${schema}.workload_daily
      WHERE workspace_id = $1 AND day >= $2::date AND day < $3::date
      ORDER BY day, cluster_id COLLATE "C", namespace COLLATE "C", workload_kind COLLATE "C", workload_name COLLATE "C", currency COLLATE "C"`,
    [workspaceId, isoDay(from), isoDay(to)],
  );
  return toCsv(
    COST_CSV_HEADER,
    rows.map((row): CsvField[] => {
      const money = amounts({ currency: row.currency!, cpu: row.cpu_cost!, memory: row.memory_cost!, gpu: row.gpu_cost!, idle: row.idle_cost! });
      return [
        row.day!,
        workspaceId,
        row.cluster_id!,
        row.namespace!,
        row.workload_kind!,
        row.workload_name!,
        row.currency!,
        hours(row.cpu_allocated!, 1000n * 3600n),
        hours(row.memory_allocated!, 2n ** 30n * 3600n),
        hours(row.gpu_allocated!, 3600n),
        { number: money.cpu },
        { number: money.memory },
        { number: money.gpu },
        { number: money.idle },
        { number: money.total },
      ];
    }),
  );
}

/** A cluster's price book from `effectiveFrom` on (prices as decimal strings per unit-hour). */
export interface PriceBookEntry {
  effectiveFrom: string;
  currency: string;
  cpuCoreHour: string;
  memoryGiBHour: string;
  gpuHour: string | null;
}

export interface ClusterPricing {
  clusterId: string;
  /** Oldest first; before the first, the default price book applies. */
  priceBooks: PriceBookEntry[];
  /** Oldest first; before the first, idle cost is not shared. */
  idleSharing: { effectiveFrom: string; shared: boolean }[];
}

/** The price books and idle-sharing settings set for each of the clusters named (clusters with neither are absent). */
export async function clusterPricing(db: ReadModelTx, schema: string, clusterIds: readonly string[]): Promise<Map<string, ClusterPricing>> {
  const ids = [...new Set(clusterIds)];
  if (ids.length === 0) return new Map();
  const at = `to_char(effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const [books, sharing] = await Promise.all([
    db.query<{ cluster_id: string; effective_from: string; currency: string; cpu: string; memory: string; gpu: string | null }>(
      `SELECT cluster_id, ${at} AS effective_from, currency, cpu_core_hour::text AS cpu, memory_gib_hour::text AS memory, gpu_hour::text AS gpu
         FROM ${schema}.price_books WHERE cluster_id = ANY($1::text[]) ORDER BY cluster_id COLLATE "C", price_books.effective_from`,
      [ids],
    ),
    db.query<{ cluster_id: string; effective_from: string; shared: boolean }>(
      `SELECT cluster_id, ${at} AS effective_from, shared FROM ${schema}.idle_sharing WHERE cluster_id = ANY($1::text[]) ORDER BY cluster_id COLLATE "C", idle_sharing.effective_from`,
      [ids],
    ),
  ]);
  const result = new Map<string, ClusterPricing>();
  const of = (clusterId: string): ClusterPricing => {
    let pricing = result.get(clusterId);
    if (!pricing) result.set(clusterId, (pricing = { clusterId, priceBooks: [], idleSharing: [] }));
    return pricing;
  };
  const price = (text: string): string => nanosToPrice(priceToNanos(text));
  for (const row of books) {
    of(row.cluster_id).priceBooks.push({
      effectiveFrom: row.effective_from,
      currency: row.currency,
      cpuCoreHour: price(row.cpu),
      memoryGiBHour: price(row.memory),
      gpuHour: row.gpu === null ? null : price(row.gpu),
    });
  }
  for (const row of sharing) of(row.cluster_id).idleSharing.push({ effectiveFrom: row.effective_from, shared: row.shared });
  return result;
}

/** What one namespace of a workspace used and requested on one cluster over the cluster's latest sampled hour (averages over the time sampled in it). */
export interface NamespaceUsage {
  clusterId: string;
  namespace: string;
  cpuUsageMillicores: number;
  cpuRequestMillicores: number;
  memoryUsageBytes: number;
  memoryRequestBytes: number;
}

export interface LatestNamespaceUsage {
  /** Each cluster's latest sampled hour (`2026-03-01T10:00:00Z`) and the seconds of it sampled (less than 3600 for the current hour); clusters never sampled are absent. */
  clusters: { clusterId: string; hour: string; sampledSeconds: number }[];
  /** The workspace's namespaces with usage in that hour, by cluster then namespace; a namespace absent ran nothing then. */
  namespaces: NamespaceUsage[];
}

/**
 * Each namespace's usage and requests on each of `clusterIds` in that
 * cluster's latest sampled hour, summed over the namespace's workloads of
 * the workspace (what a quota is compared with).
 */
export async function latestNamespaceUsage(db: ReadModelTx, schema: string, query: { workspaceId: string; clusterIds: readonly string[] }): Promise<LatestNamespaceUsage> {
  const workspaceId = checkWorkspace(query.workspaceId);
  if (!Array.isArray(query.clusterIds) || query.clusterIds.some((id) => typeof id !== 'string')) throw bad('clusterIds', 'clusterIds must be a list of cluster ids');
  if (query.clusterIds.length === 0) return { clusters: [], namespaces: [] };
  // max(hour) of one cluster is a backward scan of the primary key (cluster_id, hour, currency).
  const rows = await db.query<Record<string, string | null>>(
    `WITH latest AS (
       SELECT c.id AS cluster_id, (SELECT max(hour) FROM ${schema}.cluster_hourly WHERE cluster_id = c.id) AS hour
         FROM unnest($2::text[]) AS c(id)),
     sampled AS (
       SELECT l.cluster_id, l.hour, sum(h.seconds) AS seconds
         FROM latest l JOIN ${schema}.cluster_hourly h ON h.cluster_id = l.cluster_id AND h.hour = l.hour
        GROUP BY l.cluster_id, l.hour
       HAVING sum(h.seconds) > 0)
     SELECT s.cluster_id, w.namespace, to_char(s.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS hour, s.seconds::text AS seconds,
            round(sum(w.cpu_usage) / s.seconds)::text AS cpu_usage, round(sum(w.cpu_request) / s.seconds)::text AS cpu_request,
            round(sum(w.memory_usage) / s.seconds)::text AS memory_usage, round(sum(w.memory_request) / s.seconds)::text AS memory_request
       FROM sampled s LEFT JOIN ${schema}.workload_hourly w ON w.workspace_id = $1 AND w.hour = s.hour AND w.cluster_id = s.cluster_id
      GROUP BY s.cluster_id, w.namespace, s.hour, s.seconds
      ORDER BY s.cluster_id COLLATE "C", w.namespace COLLATE "C"`,
    [workspaceId, [...new Set(query.clusterIds)]],
  );
  const clusters = new Map<string, { clusterId: string; hour: string; sampledSeconds: number }>();
  const namespaces: NamespaceUsage[] = [];
  for (const row of rows) {
    if (!clusters.has(row.cluster_id!)) clusters.set(row.cluster_id!, { clusterId: row.cluster_id!, hour: row.hour!, sampledSeconds: Number(row.seconds) });
    if (row.namespace === null) continue;
    namespaces.push({
      clusterId: row.cluster_id!,
      namespace: row.namespace!,
      cpuUsageMillicores: Number(row.cpu_usage),
      cpuRequestMillicores: Number(row.cpu_request),
      memoryUsageBytes: Number(row.memory_usage),
      memoryRequestBytes: Number(row.memory_request),
    });
  }
  return { clusters: [...clusters.values()], namespaces };
}
