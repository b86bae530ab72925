import { describe, expect, it } from '@jest/globals';
import type { EventLog } from '@canopy/eventstore';
import { ClusterConnector, ManualClock } from '@canopy/kube';
import { Directory } from '@canopy/workspaces';
import { startUsageCollector } from '../src/index.js';

describe('the usage collector’s options', () => {
  const base = { log: {} as EventLog, directory: new Directory(), connector: new ClusterConnector(), clock: new ManualClock(0) };

  it.each([0, 500, 1500, 3_600_001, Number.NaN])('refuses an interval of %p ms with BAD_USER_INPUT, and starts nothing', (intervalMs) => {
    expect(() => startUsageCollector({ ...base, intervalMs })).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'intervalMs' } }));
    expect(base.clock.pendingTimers()).toBe(0);
  });

  it('samples at every boundary of its interval, 60 s by default; with no workspace there is nothing to sample', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:30Z'));
    const collector = startUsageCollector({ ...base, clock });
    expect(collector.intervalMs).toBe(60_000);
    expect(await collector.collect()).toEqual({ start: '2026-03-01T09:59:00Z', end: '2026-03-01T10:00:00Z', sampled: [], skipped: [] });
    expect(clock.pendingTimers()).toBe(1);
    await collector.close();
    expect(clock.pendingTimers()).toBe(0);
  });
});
