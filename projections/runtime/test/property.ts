import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SqlEventStore, type SqlClient } from '@canopy/eventstore';
import { ProjectionRunner, type ReadModelDb } from '../src/index.js';
import { countingProjector, expectedCounts, streamCounts } from './counting-projector.js';

type Step = { kind: 'append'; stream: number; events: number; type: 'Counted' | 'Rare' } | { kind: 'restart'; batchSize: number } | { kind: 'settle' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), stream: fc.nat(4), events: fc.integer({ min: 1, max: 40 }), type: fc.constantFrom('Counted' as const, 'Rare' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), batchSize: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
);

/**
 * Property (fast-check): whatever the appends, batch sizes and restarts, the
 * live read models hold exactly the log and equal a rebuild from zero. Runs
 * on PGlite instances the caller shares (each run gets a log schema and a
 * schema prefix of its own).
 */
export function propertyCases(shared: () => { logClient: SqlClient; readModels: ReadModelDb }): void {
  let run = 0;
  describe('property: whatever the appends, batch sizes and restarts, the live read models equal a rebuild from zero', () => {
    it('holds', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
          const { logClient, readModels } = shared();
          const n = run++;
          const store = await SqlEventStore.open({ ...logClient, close: async () => {} }, { schema: `plog_${n}` });
          const db = readModels.withSchemaPrefix(`p${n}_`);
          const projectors = () => [countingProjector(), countingProjector({ name: 'rare', filter: { eventTypes: ['Rare'] } })];
          let runner = new ProjectionRunner({ store, db, projectors: projectors(), batchSize: 7 });
          // An empty log has no position to wait for.
          const settle = async () => {
            const head = await store.headPosition();
            if (head !== undefined) expect(await runner.waitFor('all', head, 10_000)).toBe(true);
          };
          try {
            await runner.start();
            for (const s of steps) {
              if (s.kind === 'append') {
                await store.append(`s-${s.stream}`, Array.from({ length: s.events }, (_, i) => ({ type: s.type, data: { i } })));
              } else if (s.kind === 'restart') {
                await runner.stop();
                runner = new ProjectionRunner({ store, db, projectors: projectors(), batchSize: s.batchSize });
                await runner.start();
              } else {
                await settle();
              }
            }
            await settle();
            expect(await streamCounts(db, runner.activeSchema('counts'))).toEqual(await expectedCounts(store));
            expect(await streamCounts(db, runner.activeSchema('rare'))).toEqual(await expectedCounts(store, (e) => e.type === 'Rare'));

            const live = [await runner.checksum('counts'), await runner.checksum('rare')];
            const scratch = new ProjectionRunner({ store, db: db.withSchemaPrefix(`p${n}_clean_`), projectors: projectors() });
            await scratch.rebuild();
            const rebuilt = [await scratch.checksum('counts'), await scratch.checksum('rare')];
            expect(rebuilt.map((c) => [c.checksum, c.position])).toEqual(live.map((c) => [c.checksum, c.position]));
          } finally {
            await runner.stop();
            await store.close();
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}
