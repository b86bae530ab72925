import type { EventLog } from '@canopy/eventstore';
import { ClusterAccessError, systemClock, type Clock, type ClusterConnection, type ClusterConnector, type TimerHandle } from '@canopy/kube';
import { CanopyError, ErrorCode, MAX_USAGE_INTERVAL_SECONDS, MAX_USAGE_ROWS, UsageSampled, usageStream } from '@canopy/schema';
import { derivedUuid, type Directory } from '@canopy/workspaces';
import { aggregateUsage, type ClusterSnapshot } from './aggregate.js';
import { clusterTargets, type ClusterTarget } from './targets.js';

export const DEFAULT_USAGE_INTERVAL_MS = 60_000;
/** How long one cluster's reads may take before the cluster is skipped for the interval (real time). */
export const DEFAULT_CLUSTER_TIMEOUT_MS = 20_000;
const PAGE = 500;

/** What the collector logs with (pino's signature; a pino logger fits). */
export interface UsageLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface UsageCollectorOptions {
  log: EventLog;
  /** The workspaces directory: which clusters to sample, and which workspaces hold each namespace. */
  directory: Directory;
  connector: ClusterConnector;
  /** Whole seconds, from 1 s to 1 h. Default 60 s. */
  intervalMs?: number;
  /** Default the system clock; tests pass the simulated clusters' `ManualClock`. */
  clock?: Clock;
  logger?: UsageLogger;
  clusterTimeoutMs?: number;
}

/** Why a cluster was not sampled for an interval. */
export type SkipReason = 'not-connectable' | 'unreachable' | 'unauthorized' | 'metrics-unavailable' | 'too-many-workloads' | 'append-failed';

export interface CollectionReport {
  start: string;
  end: string;
  sampled: { clusterId: string; eventId: string; rows: number }[];
  skipped: { clusterId: string; reason: SkipReason; message: string }[];
}

export interface UsageCollector {
  readonly intervalMs: number;
  /**
   * Samples every cluster now for the interval ending at `endMs` (a multiple
   * of the interval; default the last boundary at or before now). The timer
   * calls it at every boundary; calling it for an interval already sampled
   * appends nothing (the event ids are derived from the cluster and the
   * interval).
   */
  collect(endMs?: number): Promise<CollectionReport>;
  /** Resolves once the collections started so far have finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

class SkipError extends Error {
  constructor(
    readonly reason: SkipReason,
    message: string,
  ) {
    super(message);
  }
}

const utcSecond = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Starts sampling: at every interval boundary on the clock (multiples of the
 * interval since the epoch, so intervals line up with hours), for each
 * cluster the workspaces have attached, it reads the nodes, the pods, their
 * controllers and metrics.k8s.io, and appends one `UsageSampled` for the
 * interval that just ended to `usage-{clusterId}`. The state at the
 * boundary stands for the whole interval. A cluster that cannot be read is
 * skipped for that interval with a logged reason; the others are sampled.
 */
export function startUsageCollector(options: UsageCollectorOptions): UsageCollector {
  const intervalMs = options.intervalMs ?? DEFAULT_USAGE_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs % 1000 !== 0 || intervalMs < 1000 || intervalMs > MAX_USAGE_INTERVAL_SECONDS * 1000) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `The usage interval must be whole seconds from 1 s to ${MAX_USAGE_INTERVAL_SECONDS} s, got ${intervalMs} ms.`, { field: 'intervalMs' });
  }
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.clusterTimeoutMs ?? DEFAULT_CLUSTER_TIMEOUT_MS;
  let timer: TimerHandle | undefined;
  let closed = false;
  let inFlight: Promise<unknown> = Promise.resolve();

  const schedule = (end: number) => {
    if (closed) return;
    timer = clock.setTimer(() => {
      schedule(end + intervalMs);
      track(collect(end)).catch((error: unknown) => options.logger?.error({ error: error instanceof Error ? error.message : String(error), end: utcSecond(end) }, 'usage collector: the collection failed'));
    }, end - clock.now());
  };
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight = Promise.all([inFlight, work.catch(() => undefined)]);
    return work;
  };

  async function collect(end: number): Promise<CollectionReport> {
    const start = end - intervalMs;
    const report: CollectionReport = { start: utcSecond(start), end: utcSecond(end), sampled: [], skipped: [] };
    const targets = clusterTargets(options.directory);
    await Promise.all(
      targets.map(async (target) => {
        try {
          const sampled = await sampleCluster(target, start, end);
          report.sampled.push(sampled);
        } catch (error) {
          const skip = asSkip(error);
          report.skipped.push({ clusterId: target.clusterId, reason: skip.reason, message: skip.message });
          options.logger?.warn({ clusterId: target.clusterId, reason: skip.reason, error: skip.message, start: report.start, end: report.end }, 'usage collector: cluster not sampled for this interval');
        }
      }),
    );
    report.sampled.sort((a, b) => (a.clusterId < b.clusterId ? -1 : 1));
    report.skipped.sort((a, b) => (a.clusterId < b.clusterId ? -1 : 1));
    return report;
  }

  async function sampleCluster(target: ClusterTarget, start: number, end: number): Promise<CollectionReport['sampled'][number]> {
    let connection: ClusterConnection;
    try {
      connection = options.connector.connect(target.address);
    } catch (error) {
      if (error instanceof ClusterAccessError) throw new SkipError('not-connectable', error.message);
      throw error;
    }
    const snapshot = await withTimeout(readSnapshot(connection), timeoutMs);
    const { capacity, rows } = aggregateUsage(snapshot, (namespace) => target.namespaces.get(namespace) ?? []);
    if (rows.length > MAX_USAGE_ROWS) throw new SkipError('too-many-workloads', `${rows.length} workloads, more than the ${MAX_USAGE_ROWS} one usage event carries`);
    const data = { clusterId: target.clusterId, start: utcSecond(start), end: utcSecond(end), capacity, rows };
    const eventId = derivedUuid('usage', target.clusterId, data.start, data.end);
    try {
      await options.log.append(usageStream(target.clusterId), [{ id: eventId, type: UsageSampled.type, data }]);
    } catch (error) {
      throw new SkipError('append-failed', error instanceof Error ? error.message : String(error));
    }
    return { clusterId: target.clusterId, eventId, rows: rows.length };
  }

  schedule((Math.floor(clock.now() / intervalMs) + 1) * intervalMs);
  return {
    intervalMs,
    collect: (endMs = Math.floor(clock.now() / intervalMs) * intervalMs) => {
      if (endMs % intervalMs !== 0) return Promise.reject(new CanopyError(ErrorCode.BAD_USER_INPUT, `An interval ends at a multiple of ${intervalMs} ms since the epoch.`, { field: 'endMs' }));
      return track(collect(endMs));
    },
    settled: async () => {
      let seen: Promise<unknown>;
      do {
        seen = inFlight;
        await seen;
      } while (seen !== inFlight);
    },
    async close() {
      closed = true;
      timer?.cancel();
      await this.settled();
    },
  };
}

/** Reads what one sample needs, every list paged. */
async function readSnapshot(connection: ClusterConnection): Promise<ClusterSnapshot> {
  const [nodes, pods, replicaSets, jobs, podMetrics] = await Promise.all([
    paged((_continue) => connection.core.listNode({ limit: PAGE, ...(_continue ? { _continue } : {}) })),
    paged((_continue) => connection.core.listPodForAllNamespaces({ limit: PAGE, ...(_continue ? { _continue } : {}) })),
    paged((_continue) => connection.apps.listReplicaSetForAllNamespaces({ limit: PAGE, ...(_continue ? { _continue } : {}) })),
    paged((_continue) => connection.batch.listJobForAllNamespaces({ limit: PAGE, ...(_continue ? { _continue } : {}) })),
    readPodMetrics(connection),
  ]);
  return { nodes, pods, replicaSets, jobs, podMetrics };
}

async function readPodMetrics(connection: ClusterConnection): Promise<ClusterSnapshot['podMetrics']> {
  try {
    const list = await connection.objects.list('metrics.k8s.io/v1beta1', 'PodMetrics');
    return list.items as ClusterSnapshot['podMetrics'];
  } catch (error) {
    if (statusOf(error) === 404) throw new SkipError('metrics-unavailable', 'the cluster serves no metrics.k8s.io (is metrics-server installed?)');
    throw error;
  }
}

async function paged<T>(page: (continueToken: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const result = await page(token);
    items.push(...result.items);
    token = result.metadata?._continue || undefined;
  } while (token);
  return items;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SkipError('unreachable', `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function asSkip(error: unknown): SkipError {
  if (error instanceof SkipError) return error;
  const status = statusOf(error);
  const message = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 500) : String(error);
  if (status === 401 || status === 403) return new SkipError('unauthorized', message);
  return new SkipError('unreachable', message);
}
