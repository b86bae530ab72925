import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventStore } from '@canopy/eventstore';
import { Registry } from 'prom-client';
import { ProjectionRunner, WriteBatch, type Projector, type ProjectionRunnerOptions, type ReadModelDb } from '../src/index.js';
import { appendEvents, countingProjector, eventually, expectedCounts, schemaExists, storedState, streamCounts } from './counting-projector.js';

/** A log and a read-model database of their own, for one test. */
export interface Backend {
  /** Once per suite, before the first `open`. */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  open(): Promise<{ store: EventStore; db: ReadModelDb; close(): Promise<void> }>;
}

/**
 * The runtime's core behaviour, run against PGlite (runner.test.ts) and
 * PostgreSQL (runner.postgres.test.ts).
 */
export function runtimeCases(backend: Backend): void {
  let opened: { store: EventStore; db: ReadModelDb; close(): Promise<void> } | undefined;
  const runners: ProjectionRunner[] = [];
  const open = async () => (opened = await backend.open());
  const runner = (options: Omit<ProjectionRunnerOptions, 'store' | 'db'>) => {
    const created = new ProjectionRunner({ store: opened!.store, db: opened!.db, ...options });
    runners.push(created);
    return created;
  };

  beforeAll(async () => {
    await backend.setup?.();
  });
  afterAll(async () => {
    await backend.teardown?.();
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await opened?.close();
    opened = undefined;
  });

  describe('two runners on one database', () => {
    for (const writesOnly of [false, true]) {
      it(`never apply an event twice${writesOnly ? ' (write-only: live batches as scripts)' : ''}: a batch whose checkpoint another runner moved is dropped and resumed from the stored one`, async () => {
        const { store, db } = await open();
        await appendEvents(store, 700);
        const [first, second] = [{ ...countingProjector(), writesOnly }, { ...countingProjector(), writesOnly }];
        const runners = [runner({ projectors: [first], batchSize: 100, retryDelayMs: 20 }), runner({ projectors: [second], batchSize: 100, retryDelayMs: 20 })];
        await Promise.all(runners.map((r) => r.start()));
        let head = 0n;
        // Then live: single events, each raced for by both runners.
        for (let i = 0; i < 30; i++) head = (await store.append('late', [{ type: 'Counted', data: {} }])).position;
        for (const r of runners) expect(await r.waitFor('all', head, 20_000)).toBe(true);
        expect(await streamCounts(db, runners[0]!.activeSchema('counts'))).toEqual(await expectedCounts(store));
      });
    }
  });

  describe('write-only projectors (a batch sent as one script)', () => {
    it('give the same tables as statement-by-statement application', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 1200);
      const batched = { ...countingProjector({ name: 'batched' }), writesOnly: true };
      const r = runner({ projectors: [batched, countingProjector({ name: 'plain' })], batchSize: 500 });
      await r.start();
      expect(await r.waitFor('all', head, 15_000)).toBe(true);
      expect(await streamCounts(db, r.activeSchema('batched'))).toEqual(await expectedCounts(store));
      expect((await r.checksum('batched')).tables).toEqual((await r.checksum('plain')).tables);
    });

    it('name the event whose write the database refuses, keeping the events before it', async () => {
      const { store, db } = await open();
      await appendEvents(store, 30, { streams: 1 });
      const { position: bad } = await store.append('refused', [{ type: 'Counted', data: {} }]);
      await appendEvents(store, 30, { streams: 1 });
      const refusing: Projector = {
        name: 'refusing',
        version: 1,
        writesOnly: true,
        tables: (schema) => `CREATE TABLE ${schema}.seen (position bigint PRIMARY KEY, stream text NOT NULL CHECK (stream <> 'refused'));`,
        async apply(tx, event, schema) {
          await tx.query(`INSERT INTO ${schema}.seen (position, stream) VALUES ($1, $2)`, [String(event.position), event.stream]);
        },
      };
      const r = runner({ projectors: [refusing], batchSize: 500 });
      await r.start();
      await eventually(async () => (await r.health())[0]!.status === 'failed');
      const [health] = await r.health();
      expect(health!.error?.event?.position).toBe(String(bad));
      expect(health!.position).toBe(bad - 1n);
      const [row] = await db.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${r.activeSchema('refusing')}.seen`);
      expect(row?.count).toBe('30');
    });

    it('apply a batch at once through applyBatch, and event by event (naming the failing event) when the batch fails', async () => {
      const { store } = await open();
      await appendEvents(store, 20, { streams: 1 });
      const { position: bad } = await store.append('refused', [{ type: 'Counted', data: {} }]);
      const batches: number[] = [];
      const projector: Projector = {
        name: 'bulk',
        version: 1,
        writesOnly: true,
        tables: (schema) => `CREATE TABLE ${schema}.seen (position bigint PRIMARY KEY, stream text NOT NULL CHECK (stream <> 'refused'));`,
        async apply(tx, event, schema) {
          await tx.query(`INSERT INTO ${schema}.seen (position, stream) VALUES ($1, $2)`, [String(event.position), event.stream]);
        },
        async applyBatch(tx, events, schema) {
          batches.push(events.length);
          await tx.query(`INSERT INTO ${schema}.seen (position, stream) SELECT * FROM unnest($1::bigint[], $2::text[])`, [
            events.map((e) => String(e.position)),
            events.map((e) => e.stream),
          ]);
        },
      };
      const r = runner({ projectors: [projector], batchSize: 500 });
      await r.start();
      await eventually(async () => (await r.health())[0]!.status === 'failed');
      // The whole batch, then (after it failed and the event was found one by one) the part before the failing event.
      expect(batches).toEqual([21, 20]);
      const [health] = await r.health();
      expect(health!.error?.event?.position).toBe(String(bad));
      expect(health!.position).toBe(bad - 1n);
    });

    it('write parameters in as literals that mean what the parameters meant', async () => {
      const { db } = await open();
      const values = ["it's \\ a \"test\" ☃", 42, 9007199254740993n, true, { a: [1, 'x'], 'q"': "o'k" }, ['a', "b'c", 'd"e', null, 'f\\g'], new Date('2026-01-02T03:04:05.678Z'), null];
      const insert = `INSERT INTO literal_check VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
      const batch = new WriteBatch();
      await batch.query(insert, [2, ...values]);
      // One connection (a transaction) for the temporary table.
      const rows = await db.transaction(async (tx) => {
        await tx.exec(`CREATE TEMP TABLE literal_check (n int, t text, i int, b bigint, f boolean, j jsonb, a text[], d timestamptz, z text) ON COMMIT DROP`);
        await tx.query(insert, [1, ...values]);
        await tx.exec(batch.script());
        return tx.query<Record<string, unknown>>(`SELECT t, i, b::text, f, j, a, d, z FROM literal_check ORDER BY n`);
      });
      expect(rows).toHaveLength(2);
      expect(rows[1]).toEqual(rows[0]);
      expect(rows[0]!['t']).toBe(values[0]);
    });
  });

  describe('catch-up and live', () => {
    it('applies history in full batches, one transaction each, then live events as they come', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 1200);
      const counts = countingProjector();
      const r = runner({ projectors: [counts], batchSize: 500 });
      await r.start();
      expect(await r.waitFor('all', head, 15_000)).toBe(true);
      expect(counts.applied).toBe(1200);
      // 500 + 500 + 200: catching up, a batch waits to be full unless history ends.
      expect(counts.transactions.size).toBe(3);
      expect(await streamCounts(db, r.activeSchema('counts'))).toEqual(await expectedCounts(store));
      expect(await storedState(db, 'counts')).toEqual([{ version: 1, position: String(head), status: 'live', error: null }]);

      // Live: each append is applied without waiting for a batch to fill.
      for (let i = 0; i < 5; i++) {
        const { position } = await store.append('live-1', [{ type: 'Counted', data: { i } }]);
        expect(await r.waitFor(['counts'], position, 5_000)).toBe(true);
      }
      expect((await streamCounts(db, r.activeSchema('counts')))['live-1']).toBe(5);
      expect(counts.applied).toBe(1205);
    });

    it('stores the checkpoint with the writes: stopped between batches, a new runner resumes and counts stay exact', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 2000);
      const first = countingProjector();
      let batches = 0;
      let stopped!: Promise<void>;
      const r1 = runner({
        projectors: [first],
        batchSize: 300,
        onBatch: () => {
          if (++batches === 2) stopped = r1.stop();
        },
      });
      await r1.start();
      await eventually(() => stopped !== undefined);
      await stopped;
      const [afterStop] = await storedState(db, 'counts');
      expect(afterStop!.position).toBe('600');
      const partial = await streamCounts(db, r1.activeSchema('counts'));
      expect(Object.values(partial).reduce((a, b) => a + b, 0)).toBe(600);

      const second = countingProjector();
      const r2 = runner({ projectors: [second], batchSize: 300 });
      await r2.start();
      expect(await r2.waitFor('all', head, 15_000)).toBe(true);
      expect(second.applied).toBe(1400);
      expect(await streamCounts(db, r2.activeSchema('counts'))).toEqual(await expectedCounts(store));
    });

    it('builds secondary indexes once the projector reaches the head, not while it catches up, and again after a rebuild', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 900);
      const indexed = { ...countingProjector(), indexes: (schema: string) => `CREATE INDEX IF NOT EXISTS counts_by_events ON ${schema}.stream_counts (events)` };
      const indexesDuringCatchUp: string[][] = [];
      const r = runner({
        projectors: [indexed],
        batchSize: 300,
        onBatch: async () => {
          indexesDuringCatchUp.push(await secondaryIndexes(db, r.activeSchema('counts')));
        },
      });
      await r.start();
      expect(await r.waitFor('all', head, 15_000)).toBe(true);
      await eventually(async () => (await secondaryIndexes(db, r.activeSchema('counts'))).length === 1);
      expect(indexesDuringCatchUp.slice(0, 2)).toEqual([[], []]);
      expect(await secondaryIndexes(db, r.activeSchema('counts'))).toEqual(['counts_by_events']);
      await r.rebuild();
      expect(await secondaryIndexes(db, r.activeSchema('counts'))).toEqual(['counts_by_events']);
      expect(await streamCounts(db, r.activeSchema('counts'))).toEqual(await expectedCounts(store));
      await r.stop();
    });

    it('a checkpoint from a filtered subscription moves the stored position past events the projector skips', async () => {
      const { store, db } = await open();
      await appendEvents(store, 300);
      await store.append('rare-1', [{ type: 'Rare', data: {} }]);
      const head = await appendEvents(store, 300);
      const rare = countingProjector({ name: 'rare', filter: { eventTypes: ['Rare'] } });
      const r = runner({ projectors: [rare] });
      await r.start();
      expect(await r.waitFor(['rare'], head, 10_000)).toBe(true);
      expect(rare.applied).toBe(1);
      expect((await storedState(db, 'rare'))[0]!.position).toBe(String(head));
      // Live, too: an append the filter skips still moves the checkpoint.
      const { position } = await store.append('item-0', [{ type: 'Counted', data: {} }]);
      expect(await r.waitFor(['rare'], position, 5_000)).toBe(true);
      await r.stop();
      expect((await storedState(db, 'rare'))[0]!.position).toBe(String(position));
    });

    it('live, stores a checkpoint moved only past skipped events with the next applied batch, or on stop; waitFor sees it at once', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 10);
      const rare = countingProjector({ name: 'rare', filter: { eventTypes: ['Rare'] } });
      const r = runner({ projectors: [rare], skippedCheckpointEveryMs: 600_000 });
      await r.start();
      expect(await r.waitFor(['rare'], head, 10_000)).toBe(true);
      let skipped = head;
      for (let i = 0; i < 5; i++) skipped = (await store.append('item-0', [{ type: 'Counted', data: {} }])).position;
      expect(await r.waitFor(['rare'], skipped, 5_000)).toBe(true);
      expect((await r.health())[0]!.position).toBe(skipped);
      expect((await storedState(db, 'rare'))[0]!.position).toBe(String(head));
      // An applied event's batch stores its checkpoint, past the skipped ones before it.
      const applied = (await store.append('rare-1', [{ type: 'Rare', data: {} }])).position;
      expect(await r.waitFor(['rare'], applied, 5_000)).toBe(true);
      expect((await storedState(db, 'rare'))[0]!.position).toBe(String(applied));
      const last = (await store.append('item-0', [{ type: 'Counted', data: {} }])).position;
      expect(await r.waitFor(['rare'], last, 5_000)).toBe(true);
      // A checksum reports where the projector is: the held-back checkpoint is stored first.
      expect((await r.checksum('rare')).position).toBe(last);
      await store.append('item-0', [{ type: 'Counted', data: {} }]);
      const end = (await store.append('item-0', [{ type: 'Counted', data: {} }])).position;
      expect(await r.waitFor(['rare'], end, 5_000)).toBe(true);
      await r.stop();
      expect((await storedState(db, 'rare'))[0]!.position).toBe(String(end));
      // Restarted, it resumes from there: the rare event is not applied twice.
      const again = runner({ projectors: [rare] });
      await again.start();
      expect(await again.waitFor(['rare'], end, 5_000)).toBe(true);
      expect(rare.applied).toBe(1);
      expect(await streamCounts(db, again.activeSchema('rare'))).toEqual(await expectedCounts(store, (e) => e.type === 'Rare'));
    });
  });

  describe('poison events', () => {
    it('stop only the projector that cannot apply them, with an error naming the event, in health()', async () => {
      const { store, db } = await open();
      await appendEvents(store, 120);
      const poison = await store.append('bad-stream', [{ type: 'Unreadable', data: { broken: true } }]);
      const head = await appendEvents(store, 100);
      const [poisonEvent] = await collectStream(store, 'bad-stream');
      const fragile = countingProjector({ name: 'fragile', poison: (e) => e.type === 'Unreadable' });
      const sturdy = countingProjector({ name: 'sturdy' });
      const r = runner({ projectors: [fragile, sturdy], batchSize: 50 });
      await r.start();

      expect(await r.waitFor(['sturdy'], head, 10_000)).toBe(true);
      const started = Date.now();
      expect(await r.waitFor(['fragile'], head, 10_000)).toBe(false);
      expect(await r.waitFor('all', head, 10_000)).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_000);

      const health = await r.health();
      const failed = health.find((h) => h.name === 'fragile')!;
      expect(failed.status).toBe('failed');
      // The events before the poison one are kept: the checkpoint stops right in front of it.
      expect(failed.position).toBe(poison.position - 1n);
      expect(failed.lag).toBe(head - poison.position + 1n);
      expect(failed.error?.event).toEqual({ id: poisonEvent!.id, stream: 'bad-stream', revision: '0', position: String(poison.position), type: 'Unreadable' });
      expect(failed.error?.message).toContain(poisonEvent!.id);
      expect(failed.error?.message).toContain('cannot handle Unreadable');
      expect(health.find((h) => h.name === 'sturdy')).toMatchObject({ status: 'live', position: head, lag: 0n, error: undefined });
      const [stored] = await storedState(db, 'fragile');
      expect(stored).toMatchObject({ status: 'failed', position: String(poison.position - 1n) });
      expect((stored!.error as { event: { id: string } }).event.id).toBe(poisonEvent!.id);
      expect(Object.values(await streamCounts(db, r.activeSchema('fragile'))).reduce((a, b) => a + b, 0)).toBe(120);

      // The others go on.
      const { position } = await store.append('after', [{ type: 'Counted', data: {} }]);
      expect(await r.waitFor(['sturdy'], position, 5_000)).toBe(true);
      expect((await r.health()).find((h) => h.name === 'fragile')!.status).toBe('failed');
    });

    it('roll back their batch and are retried at the next start: nothing applied twice, nothing lost', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 1000);
      // Dies in the middle of a batch (as a crash would: the transaction never commits).
      const r1 = runner({ projectors: [countingProjector({ poison: (e) => e.position === 730n })], batchSize: 200 });
      await r1.start();
      expect(await r1.waitFor('all', head, 10_000)).toBe(false);
      await r1.stop();
      expect((await storedState(db, 'counts'))[0]).toMatchObject({ status: 'failed', position: '729' });

      const fixed = countingProjector();
      const r2 = runner({ projectors: [fixed], batchSize: 200 });
      await r2.start();
      expect(await r2.waitFor('all', head, 10_000)).toBe(true);
      expect(fixed.applied).toBe(271);
      expect(await streamCounts(db, r2.activeSchema('counts'))).toEqual(await expectedCounts(store));
      expect((await storedState(db, 'counts'))[0]).toMatchObject({ status: 'live', error: null });
    });
  });

  describe('waitFor', () => {
    it('answers true once reached, false on timeout, and measures the wait and the lag', async () => {
      const { store } = await open();
      const head = await appendEvents(store, 50);
      const registry = new Registry();
      const r = runner({ projectors: [countingProjector()], registry });
      await r.start();
      expect(await r.waitFor('all', head, 5_000)).toBe(true);

      const started = Date.now();
      expect(await r.waitFor(['counts'], head + 1n, 150)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);

      const pending = r.waitFor(['counts'], head + 1n, 5_000);
      await store.append('late', [{ type: 'Counted', data: {} }]);
      expect(await pending).toBe(true);
      expect(() => r.waitFor(['nope'], 1n, 10)).toThrow('Unknown projector nope');

      const metrics = await registry.metrics();
      expect(metrics).toContain('canopy_projection_wait_seconds_count{outcome="reached"} 2');
      expect(metrics).toContain('canopy_projection_wait_seconds_count{outcome="timeout"} 1');
      expect(metrics).toContain('canopy_projection_lag_events{projector="counts",version="1"} 0');
    });
  });

  describe('blue/green', () => {
    it('builds a new version beside the active one, then switches and drops the old schema', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 1000);
      const v1 = countingProjector();
      const r1 = runner({ projectors: [v1] });
      await r1.start();
      expect(await r1.waitFor('all', head, 10_000)).toBe(true);
      await r1.stop();
      const v1Schema = r1.activeSchema('counts');

      // Version 2 is held after its first batch, so the test can look at the build.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let v2Batches = 0;
      const v2 = countingProjector({ version: 2 });
      const r2 = runner({
        projectors: [countingProjector(), v2],
        batchSize: 100,
        onBatch: (batch) => (batch.version === 2 && ++v2Batches === 1 ? held : undefined),
      });
      await r2.start();
      await eventually(() => v2Batches === 1);
      expect(r2.activeSchema('counts')).toBe(v1Schema);
      // v1 was at the head already: it turns live as soon as its subscription says so.
      await eventually(async () => (await r2.health())[0]!.status === 'live');
      const building = await r2.health();
      expect(building.map((h) => [h.version, h.active, h.status])).toEqual([
        [1, true, 'live'],
        [2, false, 'building'],
      ]);
      expect(building[1]!.position).toBe(100n);

      // Queries keep reading v1, which stays live meanwhile.
      const { position } = await store.append('during-build', [{ type: 'Counted', data: {} }]);
      expect(await r2.waitFor(['counts'], position, 5_000)).toBe(true);
      expect((await streamCounts(db, r2.activeSchema('counts')))['during-build']).toBe(1);

      release();
      await eventually(() => r2.activeSchema('counts') !== v1Schema);
      expect(r2.activeSchema('counts')).toBe(`${db.schemaPrefix}rm_counts_v2`);
      expect(await schemaExists(db, v1Schema)).toBe(false);
      expect(await r2.waitFor(['counts'], position, 5_000)).toBe(true);
      expect(await streamCounts(db, r2.activeSchema('counts'))).toEqual(await expectedCounts(store));
      expect((await r2.health()).map((h) => [h.version, h.active, h.status])).toEqual([[2, true, 'live']]);
      expect(await storedState(db, 'counts')).toMatchObject([{ version: 2, status: 'live' }]);

      const live = await r2.checksum('counts');
      expect(live.tables.map((t) => t.table)).toEqual(['stream_counts', 'type_counts']);
      await r2.rebuild('counts');
      const rebuilt = await r2.checksum('counts');
      expect(rebuilt.checksum).toBe(live.checksum);
      expect(rebuilt.position).toBe(live.position);
    });

    it('resumes a build interrupted by a restart from its own checkpoint', async () => {
      const { store, db } = await open();
      const head = await appendEvents(store, 600);
      const r1 = runner({ projectors: [countingProjector()] });
      await r1.start();
      expect(await r1.waitFor('all', head, 10_000)).toBe(true);
      await r1.stop();

      let stopped!: Promise<void>;
      const r2 = runner({
        projectors: [countingProjector({ version: 2 })],
        batchSize: 100,
        onBatch: (batch) => {
          if (batch.version === 2 && batch.position === 200n) stopped = r2.stop();
        },
      });
      await r2.start();
      await eventually(() => stopped !== undefined);
      await stopped;
      expect(await storedState(db, 'counts')).toMatchObject([
        { version: 1, status: 'live', position: String(head) },
        { version: 2, status: 'building', position: '200' },
      ]);

      // Only v2 given: v1 is no longer updated, but queries read it until the switch.
      const v2 = countingProjector({ version: 2 });
      const r3 = runner({ projectors: [v2], batchSize: 100 });
      await r3.start();
      await eventually(() => r3.activeSchema('counts').endsWith('_v2'));
      expect(v2.applied).toBe(400);
      expect(await streamCounts(db, r3.activeSchema('counts'))).toEqual(await expectedCounts(store));
      expect(await schemaExists(db, `${db.schemaPrefix}rm_counts_v1`)).toBe(false);
    });
  });

  describe('rebuild and checksum', () => {
    it('rebuilds from zero to the same checksum as the live projector, reporting progress', async () => {
      const { store } = await open();
      await appendEvents(store, 1500, { streams: 7 });
      const r = runner({ projectors: [countingProjector(), countingProjector({ name: 'other', version: 3 })], batchSize: 250 });
      await r.start();
      const head = await appendEvents(store, 100, { prefix: 'late' });
      expect(await r.waitFor('all', head, 10_000)).toBe(true);
      const live = await r.checksum('counts');
      const otherLive = await r.checksum('other');
      expect(live.position).toBe(head);
      expect(live.tables).toEqual([{ table: 'stream_counts', rows: 9, md5: expect.stringMatching(/^[0-9a-f]{32}$/) }]);

      const progress: { events: number; eventsPerSecond: number }[] = [];
      const [result] = await r.rebuild('counts', { onProgress: (p) => progress.push(p) });
      expect(result).toMatchObject({ name: 'counts', version: 1, events: 1600, position: head, head });
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress.at(-1)!.events).toBe(1600);
      expect(progress.every((p) => p.eventsPerSecond > 0)).toBe(true);
      const rebuilt = await r.checksum('counts');
      expect(rebuilt).toEqual(live);

      // All of them; the runner goes on live afterwards.
      const all = await r.rebuild();
      expect(all.map((x) => x.name)).toEqual(['counts', 'other']);
      expect((await r.checksum('counts')).checksum).toBe(live.checksum);
      expect(await r.checksum('other')).toEqual(otherLive);
      const { position } = await store.append('after-rebuild', [{ type: 'Counted', data: {} }]);
      expect(await r.waitFor('all', position, 5_000)).toBe(true);
      expect((await r.checksum('counts')).checksum).not.toBe(live.checksum);
    });
  });
}

async function collectStream(store: EventStore, stream: string) {
  const events = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}

/** The indexes of `schema` other than primary keys, by name. */
async function secondaryIndexes(db: ReadModelDb, schema: string): Promise<string[]> {
  const rows = await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname NOT LIKE '%_pkey' ORDER BY indexname`, [schema]);
  return rows.map((row) => row.indexname);
}
