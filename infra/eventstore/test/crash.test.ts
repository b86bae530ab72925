import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { collect, openPgliteEventStore } from '../src/index.js';
import { runFixture } from '../testing/index.js';

const fixture = fileURLToPath(new URL('./fixtures/append-until-killed.mjs', import.meta.url));

/** Runs the fixture until it has acknowledged `acks` appends, then SIGKILLs it; resolves with the highest acknowledged n. */
async function appendThenKill(dataDir: string, acks: number): Promise<number> {
  let last = -1;
  const run = await runFixture(fixture, [dataDir], (line, kill) => {
    if (line.startsWith('ack ')) last = Number(line.slice(4));
    if (last + 1 >= acks) kill();
  });
  if (run.signal !== 'SIGKILL') throw new Error(`fixture exited on its own:\n${run.stderr}`);
  return last;
}

describe('the embedded log survives a crash', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('keeps every acknowledged append after SIGKILL, and keeps accepting appends on restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'canopy-crash-'));
    dirs.push(dataDir);
    const lastAcked = await appendThenKill(dataDir, 300);
    expect(lastAcked).toBeGreaterThanOrEqual(299);

    const store = await openPgliteEventStore({ dataDir });
    try {
      const all = await collect(store.readAll());
      const seen = all.map((e) => (e.data as { n: number }).n);
      // Every acknowledged append is there, in order; at most the one in flight at the kill follows.
      expect(seen.slice(0, lastAcked + 1)).toEqual(Array.from({ length: lastAcked + 1 }, (_, n) => n));
      expect(seen.length - (lastAcked + 1)).toBeLessThanOrEqual(1);
      expect(all.map((e) => e.position)).toEqual(all.map((_, i) => BigInt(i + 1)));
      const next = await store.append('crash-after', [{ type: 'Appended', data: { n: -1 } }]);
      expect(next.position).toBe(BigInt(all.length + 1));
    } finally {
      await store.close();
    }
  });
});
