import { expect } from '@jest/globals';
import { EventLog, pgliteSqlClient, SqlEventStore, type EventStore, type SqlClient } from '@canopy/eventstore';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { canopyEventRegistry, pricingStream, usageStream } from '@canopy/schema';
import { costProjector, type CostEvent } from '../src/index.js';

/** A log and a read-model database of their own, for one test. */
export interface Backend {
  open(): Promise<{ store: EventStore; db: ReadModelDb; close(): Promise<void> }>;
}

export interface Harness {
  store: EventStore;
  db: ReadModelDb;
  runner: ProjectionRunner;
  /** Appends cost events through the log's contracts, each to its cluster's stream, in one append per event. */
  append(...events: CostEvent[]): Promise<void>;
  /** Waits until the cost read model reached the head of the log. */
  sync(): Promise<void>;
  schema(): string;
  close(): Promise<void>;
}

export const streamOf = (event: CostEvent): string => (event.type === 'UsageSampled' ? usageStream(event.data.clusterId) : pricingStream(event.data.clusterId));

export async function startHarness(backend: Backend, options: { batchSize?: number } = {}): Promise<Harness> {
  const { store, db, close } = await backend.open();
  const log = new EventLog(store, canopyEventRegistry());
  const runner = new ProjectionRunner({ store, db, projectors: [costProjector], batchSize: options.batchSize });
  await runner.start();
  return {
    store,
    db,
    runner,
    async append(...events) {
      for (const event of events) await log.append(streamOf(event), [{ type: event.type, data: event.data }]);
    },
    async sync() {
      const head = await store.headPosition();
      if (head !== undefined) expect(await runner.waitFor(['cost'], head, 20_000)).toBe(true);
    },
    schema: () => runner.activeSchema('cost'),
    async close() {
      await runner.stop();
      await close();
    },
  };
}

/**
 * PGlite in memory, opened once per test file (opening one takes seconds):
 * every test gets a log schema and a read-model schema prefix of its own.
 */
export function sharedPgliteBackend(): Backend & { ready(): Promise<void>; teardown(): Promise<void> } {
  let opened: Promise<[SqlClient, ReadModelDb]> | undefined;
  let n = 0;
  const both = () => (opened ??= Promise.all([pgliteSqlClient(), openReadModelDb({ kind: 'pglite' })]));
  return {
    async ready() {
      await both();
    },
    async open() {
      const [logClient, readModels] = await both();
      const test = n++;
      const store = await SqlEventStore.open({ ...logClient, close: async () => {} }, { schema: `log_${test}` });
      return { store, db: readModels.withSchemaPrefix(`t${test}_`), close: () => store.close() };
    },
    async teardown() {
      const both = opened;
      opened = undefined;
      if (both) for (const closable of await both) await closable.close();
    },
  };
}
