import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { pgliteSqlClient, SqlEventStore, type EventStore, type SqlClient } from '@canopy/eventstore';
import { openReadModelDb, ProjectionRunner, type ReadModelDb, type RebuildProgress } from '../src/index.js';
import { runtimeCases } from './cases.js';
import { appendEvents, countingProjector, expectedCounts, streamCounts } from './counting-projector.js';
import { propertyCases } from './property.js';

describe('ProjectionRunner on PGlite (log and read models in memory)', () => {
  // Starting a PGlite instance takes seconds, so the suite starts two (the
  // log's, the read models') and gives each test a log schema and a schema
  // prefix of its own in them.
  let logClient: SqlClient;
  let readModels: ReadModelDb;
  let n = 0;
  beforeAll(async () => {
    [logClient, readModels] = await Promise.all([pgliteSqlClient(), openReadModelDb({ kind: 'pglite' })]);
  });
  afterAll(async () => {
    await logClient?.close();
    await readModels?.close();
  });

  runtimeCases({
    async open() {
      const test = n++;
      const store = await SqlEventStore.open({ ...logClient, close: async () => {} }, { schema: `log_${test}`, autoAnalyze: true });
      const db = readModels.withSchemaPrefix(`t${test}_`);
      return { store, db, close: () => store.close() };
    },
  });
  propertyCases(() => ({ logClient, readModels }));

  describe('rebuild of projectors with the same filter', () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const step of cleanup.splice(0)) await step();
    });

    /** A log and a read-model prefix of the test's own; the store counts its `subscribeToAll` calls. */
    const open = async () => {
      const test = n++;
      const real = await SqlEventStore.open({ ...logClient, close: async () => {} }, { schema: `log_${test}`, autoAnalyze: true });
      const reads = { subscriptions: 0 };
      const store = new Proxy(real, {
        get(target, property) {
          if (property === 'subscribeToAll') {
            return (...args: Parameters<EventStore['subscribeToAll']>) => {
              reads.subscriptions++;
              return target.subscribeToAll(...args);
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      cleanup.push(() => real.close());
      return { store, db: readModels.withSchemaPrefix(`t${test}_`), reads };
    };
    const runner = (...args: ConstructorParameters<typeof ProjectionRunner>) => {
      const created = new ProjectionRunner(...args);
      cleanup.unshift(() => created.stop());
      return created;
    };

    it('reads the log once for all of them, each ending equal to its live read model with its own progress', async () => {
      const { store, db, reads } = await open();
      await appendEvents(store, 700);
      await store.append('rare-1', [{ type: 'Rare', data: {} }]);
      const head = await appendEvents(store, 300, { prefix: 'late' });
      // Equal filters, not the same object.
      const projectors = () => [countingProjector({ filter: { eventTypes: ['Counted', 'Rare'] } }), countingProjector({ name: 'other', version: 2, filter: { eventTypes: ['Counted', 'Rare'] } })];
      const r = runner({ store, db, projectors: projectors(), batchSize: 200 });
      await r.start();
      expect(await r.waitFor('all', head, 10_000)).toBe(true);
      const live = [await r.checksum('counts'), await r.checksum('other')];
      await r.stop();

      reads.subscriptions = 0;
      const progress: RebuildProgress[] = [];
      const results = await r.rebuild(undefined, { onProgress: (p) => progress.push(p) });
      expect(reads.subscriptions).toBe(1);
      expect(results).toMatchObject([
        { name: 'counts', version: 1, events: 1001, position: head, head },
        { name: 'other', version: 2, events: 1001, position: head, head },
      ]);
      for (const name of ['counts', 'other']) {
        const own = progress.filter((p) => p.name === name);
        expect(own.map((p) => p.events)).toEqual([200, 400, 600, 800, 1000, 1001]);
      }
      expect([await r.checksum('counts'), await r.checksum('other')]).toEqual(live);
      expect(await streamCounts(db, r.activeSchema('other'))).toEqual(await expectedCounts(store));
    });

    it('fails only the projector that meets a poison event; the others of the same read go on to the head, then live', async () => {
      const { store, db, reads } = await open();
      await appendEvents(store, 250);
      const poison = await store.append('bad-stream', [{ type: 'Unreadable', data: {} }]);
      const head = await appendEvents(store, 200);
      // Live, the event is fine; the rebuild meets it with a new version of the code.
      let poisoned = false;
      const fragile = countingProjector({ name: 'fragile', poison: (e) => poisoned && e.type === 'Unreadable' });
      const sturdy = countingProjector({ name: 'sturdy' });
      const r = runner({ store, db, projectors: [fragile, sturdy], batchSize: 100 });
      await r.start();
      expect(await r.waitFor('all', head, 10_000)).toBe(true);

      poisoned = true;
      reads.subscriptions = 0;
      await expect(r.rebuild()).rejects.toThrow(/^Rebuild of fragile v1 failed: .*cannot handle Unreadable/);
      // One read for the rebuild, one for sturdy going on live.
      expect(reads.subscriptions).toBe(2);
      const health = await r.health();
      const failed = health.find((h) => h.name === 'fragile')!;
      expect(failed.status).toBe('failed');
      expect(failed.error?.event?.position).toBe(String(poison.position));
      expect(failed.position).toBe(poison.position - 1n);
      expect(health.find((h) => h.name === 'sturdy')).toMatchObject({ status: 'live', position: head, error: undefined });
      expect(await streamCounts(db, r.activeSchema('sturdy'))).toEqual(await expectedCounts(store));

      const { position } = await store.append('after-rebuild', [{ type: 'Counted', data: {} }]);
      expect(await r.waitFor(['sturdy'], position, 5_000)).toBe(true);
      expect((await r.health()).find((h) => h.name === 'fragile')!.status).toBe('failed');
    });
  });
});
