import { openPgliteEventStore, type EventStore } from '@canopy/eventstore';
import { openReadModelDb, type ReadModelDb } from '@canopy/projections';
import type { Backend } from './harness.js';

/**
 * PGlite in memory, opened once per test file (opening one takes seconds):
 * every test gets the same log, where its organizations and workspaces have
 * fresh ids, and read models under a schema prefix of its own.
 */
export function sharedPgliteBackend(): Backend & { teardown(): Promise<void> } {
  let opened: Promise<[EventStore, ReadModelDb]> | undefined;
  let n = 0;
  return {
    async open() {
      const [store, db] = await (opened ??= Promise.all([openPgliteEventStore(), openReadModelDb({ kind: 'pglite' })]));
      return { store, db: db.withSchemaPrefix(`t${n++}_`), close: async () => {} };
    },
    async teardown() {
      const both = opened;
      opened = undefined;
      if (both) for (const closable of await both) await closable.close();
    },
  };
}
