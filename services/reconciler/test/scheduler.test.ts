import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '@canopy/kube';
import { backoffDelay, Scheduler } from '../src/index.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the per-cluster scheduler', () => {
  it('coalesces changes that arrive while a target runs into one more run', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const scheduler = new Scheduler(
      async (key) => {
        runs.push(key);
        if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return true;
      },
      { concurrency: 2, retry: { initialMs: 100, maxMs: 1000 }, clock: new ManualClock(), onError: () => {} },
    );
    scheduler.schedule('a');
    await tick();
    for (let i = 0; i < 5; i++) scheduler.schedule('a');
    release();
    await scheduler.idle();
    expect(runs).toEqual(['a', 'a']);
  });

  it('runs at most `concurrency` targets at once; a stuck one does not hold the others', async () => {
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const scheduler = new Scheduler(
      async (key) => {
        running++;
        peak = Math.max(peak, running);
        if (key === 'stuck') await new Promise(() => {});
        await tick();
        running--;
        done.push(key);
        return true;
      },
      { concurrency: 2, retry: { initialMs: 100, maxMs: 1000 }, clock: new ManualClock(), onError: () => {} },
    );
    for (const key of ['stuck', 'b', 'c', 'd']) scheduler.schedule(key);
    for (let i = 0; i < 20; i++) await tick();
    expect(done).toEqual(['b', 'c', 'd']);
    expect(peak).toBe(2);
  });

  it('retries a failed target after a backoff, which a resync does not cut short but a change does', async () => {
    const clock = new ManualClock(0);
    let attempts = 0;
    const scheduler = new Scheduler(async () => ++attempts >= 4, { concurrency: 1, retry: { initialMs: 100, maxMs: 1000 }, clock, onError: () => {} });
    scheduler.schedule('a');
    await scheduler.idle();
    expect(attempts).toBe(1);
    scheduler.resync(['a']);
    await scheduler.idle();
    expect(attempts).toBe(1);
    clock.advance(100);
    await scheduler.idle();
    expect(attempts).toBe(2);
    scheduler.schedule('a');
    await scheduler.idle();
    expect(attempts).toBe(3);
    clock.advance(1000);
    await scheduler.idle();
    expect(attempts).toBe(4);
    expect(scheduler.backingOff('a')).toBe(false);
  });

  it('backoff doubles up to the cap, with jitter between half and all of it', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 5].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 500]);
  });
});
