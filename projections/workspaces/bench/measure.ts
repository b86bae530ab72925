/** The measuring pieces: counted projectors, a trivial projector, the log's own catch-up read, percentiles, a CPU profiler. */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import type { EventFilter, EventStore, RecordedEvent } from '@canopy/eventstore';
import type { Projector, ReadModelTx } from '@canopy/projections';

/** What a counted projector did: events applied, SQL statements it ran, and the time spent in `apply` and awaiting its statements. */
export interface ApplyStats {
  events: number;
  statements: number;
  applyMs: number;
  queryMs: number;
  /** CANOPY_BENCH_TRACE=1: per statement (its SQL, the schema name left out), how many ran and the time awaiting them. */
  shapes?: Map<string, { count: number; ms: number }>;
}

export function resetStats(stats: ApplyStats): void {
  Object.assign(stats, emptyStats(stats.shapes !== undefined));
}

export const emptyStats = (trace = process.env.CANOPY_BENCH_TRACE === '1'): ApplyStats => ({ events: 0, statements: 0, applyMs: 0, queryMs: 0, ...(trace ? { shapes: new Map() } : {}) });

/** CANOPY_BENCH_TRACE=1: the statements that took most of a projector's time, as log lines. */
export function traceLines(name: string, stats: ApplyStats, top = 8): string[] {
  if (!stats.shapes) return [];
  const lines = [...stats.shapes].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  return lines.map(([sql, { count, ms }]) => `  ${name}: ${(count / Math.max(1, stats.events)).toFixed(3)}/event, ${((ms * 1000) / count).toFixed(0)} µs each, ${((ms / Math.max(1e-9, stats.queryMs)) * 100).toFixed(0)}% of its SQL time: ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
}

/**
 * The same projector (every property kept: name, version, filter, tables,
 * whatever else the runtime reads, such as `writesOnly`), its `apply` (and
 * `applyBatch`, when it has one) given a transaction that counts and times
 * its statements. The cost is two
 * clock reads and a counter per statement (well under a microsecond, against
 * tens of microseconds per statement). When the runtime batches a projector's
 * writes into one script, the statements are counted as they are queued and
 * their time is the script's, outside `apply`.
 */
export function counted(projector: Projector, stats: ApplyStats): Projector {
  const counting = (tx: ReadModelTx, schema: string): ReadModelTx => ({
    async query<Row>(sql: string, params?: readonly unknown[]) {
      stats.statements++;
      const at = performance.now();
      try {
        return await tx.query<Row>(sql, params);
      } finally {
        const took = performance.now() - at;
        stats.queryMs += took;
        if (stats.shapes) {
          const shape = sql.split(schema).join('<schema>');
          const entry = stats.shapes.get(shape) ?? { count: 0, ms: 0 };
          entry.count++;
          entry.ms += took;
          stats.shapes.set(shape, entry);
        }
      }
    },
    async exec(script: string) {
      stats.statements++;
      const at = performance.now();
      try {
        await tx.exec(script);
      } finally {
        stats.queryMs += performance.now() - at;
      }
    },
  });
  const wrapped: Projector = {
    ...projector,
    async apply(tx, event, schema) {
      const started = performance.now();
      stats.events++;
      try {
        await projector.apply(counting(tx, schema), event, schema);
      } finally {
        stats.applyMs += performance.now() - started;
      }
    },
  };
  // A projector that applies a whole batch at once (when the runtime offers it) is counted the same way.
  const batch = (projector as { applyBatch?: (tx: ReadModelTx, events: readonly RecordedEvent[], schema: string) => Promise<void> }).applyBatch;
  if (batch) {
    Object.assign(wrapped, {
      async applyBatch(tx: ReadModelTx, events: readonly RecordedEvent[], schema: string) {
        const started = performance.now();
        stats.events += events.length;
        try {
          await batch.call(projector, counting(tx, schema), events, schema);
        } finally {
          stats.applyMs += performance.now() - started;
        }
      },
    });
  }
  return wrapped;
}

/**
 * The trivial projector: one UPDATE per event — a counter, spread over
 * 1,024 rows by position so that a batch updates each row at most once
 * (PostgreSQL keeps every version of a row updated repeatedly in one
 * transaction, and each further update walks them: 500 updates of one row
 * cost about twice as much each) — through the same runner, so that its
 * figure is the runtime's cost (subscription, batches, transactions,
 * checkpoints) plus one statement per event, and nothing of a read model's
 * own work.
 */
export function counterProjector(filter: EventFilter): Projector {
  return {
    name: 'bench_counter',
    version: 1,
    filter,
    tables: (s) => `CREATE TABLE ${s}.counter (slot int PRIMARY KEY, events bigint NOT NULL, last_position bigint); INSERT INTO ${s}.counter SELECT g, 0, NULL FROM generate_series(0, 1023) g;`,
    async apply(tx, event, s) {
      await tx.query(`UPDATE ${s}.counter SET events = events + 1, last_position = $1 WHERE slot = $2`, [event.position.toString(), Number(event.position % 1024n)]);
    },
  };
}

/** The log's own catch-up: a subscription from the start of the log to `caught-up`, every event iterated, no projection. */
export async function catchUpRead(store: EventStore, filter: EventFilter): Promise<{ events: number; ms: number }> {
  const started = performance.now();
  let events = 0;
  const subscription = store.subscribeToAll({ filter });
  for await (const message of subscription) {
    if (message.kind === 'event') events++;
    else if (message.kind === 'caught-up') break;
  }
  await subscription.close();
  return { events, ms: performance.now() - started };
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles (as the gateway's benchmark). */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  return { p50: at(50), p99: at(99), max: sorted[sorted.length - 1]! };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CANOPY_BENCH_CPU_PROF: a CPU profile of one phase, written as a .cpuprofile (Chrome DevTools, speedscope). */
export class Profiler {
  private readonly session = new Session();
  private post(method: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.session.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  }
  async start(): Promise<void> {
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.start');
  }
  async stop(file: string): Promise<void> {
    const { profile } = (await this.post('Profiler.stop')) as { profile: unknown };
    this.session.disconnect();
    await writeFile(file, JSON.stringify(profile));
  }
}
