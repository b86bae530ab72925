/**
 * Leadership through a PostgreSQL advisory lock, on the real server: of the
 * processes sharing a name one leads; when it stops another takes over,
 * and when the server kills its session it knows at once.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { pino } from 'pino';
import { requirePostgresUrl, uniqueSchema } from '@canopy/eventstore/testing';
import { postgresLeadership, type Leadership } from '../src/leadership.js';
import { eventually } from './api/ws-client.js';

const url = requirePostgresUrl();
const INTERVAL_MS = 100;
const opened: Leadership[] = [];

async function contender(name: string, changes: boolean[] = []): Promise<Leadership> {
  const leadership = await postgresLeadership({ url, name, intervalMs: INTERVAL_MS, logger: pino({ level: 'silent' }) });
  leadership.onChange((leading) => changes.push(leading));
  opened.push(leadership);
  return leadership;
}

afterEach(async () => {
  for (const leadership of opened.splice(0)) await leadership.stop();
});

describe('leadership through a PostgreSQL advisory lock', () => {
  it('lets one of the processes sharing a name lead, and another take over when it stops', async () => {
    const name = uniqueSchema('lead');
    const first = await contender(name);
    const second = await contender(name);
    expect([first.leading, second.leading]).toEqual([true, false]);
    // Standing by, it keeps trying and keeps failing while the first holds the lock.
    await new Promise((resolve) => setTimeout(resolve, 5 * INTERVAL_MS));
    expect(second.leading).toBe(false);

    await first.stop();
    expect(first.leading).toBe(false);
    await eventually(() => second.leading, 'the standby to take over');
  });

  it('lets processes of different names lead each their own', async () => {
    const a = await contender(uniqueSchema('lead'));
    const b = await contender(uniqueSchema('lead'));
    expect([a.leading, b.leading]).toEqual([true, true]);
  });

  it('knows at once that it lost leadership when the server ends its session, and one of the two leads again', async () => {
    const name = uniqueSchema('lead');
    const leaderChanges: boolean[] = [];
    const leader = await contender(name, leaderChanges);
    const standby = await contender(name);
    expect(leader.leading).toBe(true);

    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // The leader's session is the one holding the lock.
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_locks, hashtextextended($1, 0) AS k
         WHERE locktype = 'advisory' AND granted AND classid = ((k >> 32) & 4294967295)::oid AND objid = (k & 4294967295)::oid AND objsubid = 1`,
        [`canopy-cluster-work:${name}`],
      );
      expect(rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    } finally {
      await admin.end();
    }

    await eventually(() => leaderChanges[0] === false, 'the leader to notice');
    // Either may take the lock next (the old leader tries again too); then exactly one leads, and stays so.
    const leaders = () => [leader, standby].filter((l) => l.leading).length;
    await eventually(() => leaders() === 1, 'one of them to lead');
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
      expect(leaders()).toBe(1);
    }
  });

  it('stands by, without failing, while the server cannot be reached', async () => {
    const leadership = await postgresLeadership({ url: 'postgres://postgres@127.0.0.1:1/none', name: uniqueSchema('lead'), intervalMs: INTERVAL_MS, logger: pino({ level: 'silent' }) });
    opened.push(leadership);
    expect(leadership.leading).toBe(false);
  });
});
