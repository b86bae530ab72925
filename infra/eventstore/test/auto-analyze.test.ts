import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { pgliteSqlClient } from '../src/sql/pglite-client.js';
import type { SqlClient } from '../src/sql/sql-client.js';
import { SqlEventStore } from '../src/sql/sql-event-store.js';

/** A client that records the ANALYZE statements the store runs, and lets a test wait for whatever it has under way. */
function recording(inner: SqlClient): SqlClient & { analyzes: number; settled(): Promise<void> } {
  const underWay = new Set<Promise<unknown>>();
  const track = <T>(promise: Promise<T>): Promise<T> => {
    underWay.add(promise);
    void promise.finally(() => underWay.delete(promise)).catch(() => {});
    return promise;
  };
  const client = {
    analyzes: 0,
    query: <Row>(sql: string, params?: readonly unknown[]) => track(inner.query<Row>(sql, params)),
    exec: (sql: string) => {
      if (/^ANALYZE /.test(sql)) client.analyzes++;
      return track(inner.exec(sql));
    },
    listen: inner.listen.bind(inner),
    close: () => inner.close(),
    async settled() {
      while (underWay.size > 0) await Promise.all([...underWay].map((p) => p.catch(() => {})));
    },
  };
  return client;
}

const events = (count: number) => Array.from({ length: count }, () => ({ id: randomUUID(), type: 'Tick', data: {}, metadata: {} }));

describe('the log analyzes its table as autovacuum would, a large one at most once per spacing, and none more often than its cost allows', () => {
  let store: SqlEventStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function appendInTurns(client: ReturnType<typeof recording>, counts: number[]): Promise<number[]> {
    const seen: number[] = [];
    for (const count of counts) {
      await store!.append(`ticks-${randomUUID()}`, events(count));
      await client.settled();
      seen.push(client.analyzes);
    }
    return seen;
  }

  it('analyzes after 50 + 10% of the rows while the table is small, then waits out the spacing however much is appended', async () => {
    const client = recording(await pgliteSqlClient());
    store = await SqlEventStore.open(client, { autoAnalyze: true, analyzeSpacing: { ms: 60_000, fromRows: 200, ofDuration: 0 } });
    await client.settled();
    expect(client.analyzes).toBe(1); // at open
    // 60 rows: past 50 → analyzed (60 rows, under fromRows: no spacing); 250 rows: past 56 → analyzed (250 rows: spacing from here).
    // Then 1,000 and 2,000 more: past the threshold each time, but within the minute.
    expect(await appendInTurns(client, [60, 190, 1000, 2000])).toEqual([2, 3, 3, 3]);
  });

  it('keeps analyzing at every threshold without the spacing', async () => {
    const client = recording(await pgliteSqlClient());
    store = await SqlEventStore.open(client, { autoAnalyze: true, analyzeSpacing: { ms: 0, fromRows: 200, ofDuration: 0 } });
    await client.settled();
    expect(await appendInTurns(client, [60, 190, 1000, 2000])).toEqual([2, 3, 4, 5]);
  });

  it('waits after each ANALYZE for a multiple of the time it took, at any size', async () => {
    const client = recording(await pgliteSqlClient());
    // The table never reaches fromRows; a millionfold of the open's ANALYZE (milliseconds) outlasts the test.
    store = await SqlEventStore.open(client, { autoAnalyze: true, analyzeSpacing: { ms: 0, fromRows: 1e9, ofDuration: 1e6 } });
    await client.settled();
    expect(client.analyzes).toBe(1);
    expect(await appendInTurns(client, [60, 190, 1000, 2000])).toEqual([1, 1, 1, 1]);
  });
});
