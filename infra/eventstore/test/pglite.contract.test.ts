import { describe, expect, it } from '@jest/globals';
import { collect } from '../src/event-store.js';
import { describeEventStoreContract } from './contract/index.js';
import { describeSharedLog } from './contract/shared-log.js';
import { openPgliteEventStore, pgliteSqlClient, SqlEventStore } from '../src/sql/index.js';

describeEventStoreContract('PGlite (embedded, in memory)', async () => {
  const store = await openPgliteEventStore();
  return { store, close: () => store.close() };
});

describeSharedLog('two stores on one PGlite database', async () => {
  const sql = await pgliteSqlClient();
  const stores = [await SqlEventStore.open(sql), await SqlEventStore.open(sql)] as [SqlEventStore, SqlEventStore];
  // Closing a store closes the client it was given, so only the last one does.
  return { stores, close: () => stores[1].close() };
});

describe('log tables', () => {
  it('replace an append function of the earlier signature when the log opens', async () => {
    const sql = await pgliteSqlClient();
    await sql.exec(`CREATE FUNCTION public.log_append(p_stream text, p_expected text, p_ids uuid[], p_types text[], p_data text[], p_metadata text[])
      RETURNS TABLE (out_status text, out_revision bigint, out_position bigint, out_actual bigint)
      LANGUAGE sql AS $$ SELECT 'ok'::text, 0::bigint, 0::bigint, NULL::bigint $$`);
    const store = await SqlEventStore.open(sql);
    try {
      await store.append('migrated', [{ type: 'First', data: {} }]);
      const second = await store.append('migrated', [{ type: 'Second', data: {} }], { expectedRevision: 0n });
      expect(second).toEqual({ nextExpectedRevision: 1n, position: 2n });
      const events = await collect(store.readStream('migrated'));
      expect(events.map((e) => e.type)).toEqual(['First', 'Second']);
    } finally {
      await store.close();
    }
  });
});
