import type { EventFilter, EventStore, RecordedEvent } from '@canopy/eventstore';
import type { Projector, ReadModelDb, ReadModelTx } from '../src/index.js';

export interface CountingProjector extends Projector {
  /** apply calls, across transactions (rolled back ones included). */
  applied: number;
  /** The distinct transactions apply ran in. */
  transactions: Set<ReadModelTx>;
}

/**
 * Counts events per stream into `stream_counts` (version 2 also counts per
 * type, into a second table). Throws on events `poison` picks.
 */
export function countingProjector(options: { name?: string; version?: number; filter?: EventFilter; poison?: (event: RecordedEvent) => boolean } = {}): CountingProjector {
  const version = options.version ?? 1;
  const projector: CountingProjector = {
    name: options.name ?? 'counts',
    version,
    filter: options.filter,
    applied: 0,
    transactions: new Set(),
    tables: (schema) => `
      CREATE TABLE ${schema}.stream_counts (stream text PRIMARY KEY, events bigint NOT NULL, last_position bigint NOT NULL);
      ${version >= 2 ? `CREATE TABLE ${schema}.type_counts (type text PRIMARY KEY, events bigint NOT NULL);` : ''}`,
    async apply(tx, event, schema) {
      projector.applied++;
      projector.transactions.add(tx);
      if (options.poison?.(event)) throw new Error(`cannot handle ${event.type}`);
      await tx.query(
        `INSERT INTO ${schema}.stream_counts (stream, events, last_position) VALUES ($1, 1, $2)
         ON CONFLICT (stream) DO UPDATE SET events = stream_counts.events + 1, last_position = EXCLUDED.last_position`,
        [event.stream, String(event.position)],
      );
      if (version >= 2) {
        await tx.query(`INSERT INTO ${schema}.type_counts (type, events) VALUES ($1, 1) ON CONFLICT (type) DO UPDATE SET events = type_counts.events + 1`, [event.type]);
      }
    },
  };
  return projector;
}

/** Appends `count` events of `type`, round robin over `streams` streams, several events per append; resolves to the head. */
export async function appendEvents(store: EventStore, count: number, options: { streams?: number; type?: string; prefix?: string; perAppend?: number } = {}): Promise<bigint> {
  const streams = options.streams ?? 5;
  const perAppend = options.perAppend ?? 50;
  let head = 0n;
  for (let done = 0, n = 0; done < count; n++) {
    const size = Math.min(perAppend, count - done);
    const result = await store.append(
      `${options.prefix ?? 'item'}-${n % streams}`,
      Array.from({ length: size }, (_, i) => ({ type: options.type ?? 'Counted', data: { n: done + i } })),
    );
    head = result.position;
    done += size;
  }
  return head;
}

/** What `stream_counts` holds in `schema`, as stream → count. */
export async function streamCounts(db: ReadModelDb, schema: string): Promise<Record<string, number>> {
  const rows = await db.query<{ stream: string; events: string | number }>(`SELECT stream, events FROM ${schema}.stream_counts ORDER BY stream`);
  return Object.fromEntries(rows.map((row) => [row.stream, Number(row.events)]));
}

/** What the log holds, as stream → count (the expected read model). */
export async function expectedCounts(store: EventStore, filter?: (event: RecordedEvent) => boolean): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const event of store.readAll()) if (!filter || filter(event)) counts[event.stream] = (counts[event.stream] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function storedState(db: ReadModelDb, name: string): Promise<{ version: number; position: string | null; status: string; error: unknown }[]> {
  return db.query(`SELECT version, position::text AS position, status, error FROM ${db.schemaPrefix}canopy_projections.projection_state WHERE name = $1 ORDER BY version`, [name]);
}

export async function schemaExists(db: ReadModelDb, schema: string): Promise<boolean> {
  const rows = await db.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [schema]);
  return rows.length > 0;
}

/** Polls `check` until it holds (or fails the test after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
