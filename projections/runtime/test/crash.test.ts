import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runFixture } from '@canopy/eventstore/testing';

const fixture = fileURLToPath(new URL('./fixtures/catch-up-process.mjs', import.meta.url));
const EVENTS = 50_000;

interface Checksum {
  position: string;
  checksum: string;
  tables: { table: string; rows: number; md5: string }[];
}

interface Outcome {
  /** Checkpoints the process printed (committed batches), in order. */
  checkpoints: number[];
  killed: boolean;
  result?: { live: Checksum; rebuilt: Checksum; totals: { events: string; sum_n: string } };
}

/** Runs the projector process; with `killPast`, SIGKILLs it as soon as it reports a checkpoint past that position. */
async function runProjectorProcess(logDir: string, readModelDir: string, killPast?: number): Promise<Outcome> {
  const outcome: Outcome = { checkpoints: [], killed: false };
  const run = await runFixture(fixture, [logDir, readModelDir, String(EVENTS)], (line, kill) => {
    if (line.startsWith('at ')) outcome.checkpoints.push(Number(line.slice(3)));
    if (line.startsWith('result ')) outcome.result = JSON.parse(line.slice(7)) as Outcome['result'];
    if (killPast !== undefined && !outcome.killed && outcome.checkpoints.some((p) => p > killPast)) {
      outcome.killed = true;
      kill();
    }
  });
  if ((run.signal === 'SIGKILL' && outcome.killed) || run.code === 0) return outcome;
  throw new Error(`the projector process exited with ${run.signal ?? run.code}:\n${run.stderr}`);
}

describe('a projector process killed in the middle of a catch-up', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it(
    `resumes from its checkpoint after SIGKILL and ends equal to a clean rebuild (${EVENTS} events)`,
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'canopy-projections-crash-'));
      dirs.push(root);
      const logDir = join(root, 'log');
      const readModelDir = join(root, 'read-models');

      const first = await runProjectorProcess(logDir, readModelDir, 10_000);
      expect(first.killed).toBe(true);
      const killedAt = first.checkpoints.at(-1)!;
      expect(killedAt).toBeGreaterThan(10_000);
      expect(killedAt).toBeLessThan(EVENTS);

      const second = await runProjectorProcess(logDir, readModelDir);
      // It resumed from a checkpoint the first run committed (at or after the last one it printed), not from zero.
      const resumedFrom = second.checkpoints[0]! - 500;
      expect(resumedFrom).toBeGreaterThanOrEqual(killedAt);
      expect(second.checkpoints.at(-1)).toBe(EVENTS);

      const { live, rebuilt, totals } = second.result!;
      expect(live.position).toBe(String(EVENTS));
      expect(totals).toEqual({ events: String(EVENTS), sum_n: String((EVENTS * (EVENTS - 1)) / 2) });
      expect(rebuilt.position).toBe(String(EVENTS));
      expect(live.checksum).toBe(rebuilt.checksum);
      expect(live.tables).toEqual(rebuilt.tables);
    },
    // About 45 s alone on 2 cores; the bound leaves room for a busy CI machine.
    240_000,
  );
});
