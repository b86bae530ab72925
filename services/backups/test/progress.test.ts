import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { aggregateRuns, pendingRun, type ClusterPhase, type ClusterRun } from '../src/index.js';

const run = (clusterId: string, overrides: Partial<ClusterRun> = {}): ClusterRun => ({ ...pendingRun(clusterId, clusterId), ...overrides });
const now = new Date('2026-03-01T02:10:00Z');

describe('the progress aggregate of a workspace backup', () => {
  it('nothing reported yet: Pending, 0%, no estimate', () => {
    const aggregate = aggregateRuns([run('a'), run('b')], 0, now);
    expect(aggregate).toMatchObject({ status: 'Pending', percent: 0, estimatedSecondsLeft: null, clusters: { planned: 2, pending: 2, running: 0, done: 0, failed: 0, skipped: 0 } });
  });

  it('counts clusters done, failed and skipped, and averages the running ones by items', () => {
    const aggregate = aggregateRuns(
      [
        run('a', { phase: 'Completed', itemsDone: 100, totalItems: 100, completedAt: '2026-03-01T02:05:00Z', startedAt: '2026-03-01T02:00:00Z' }),
        run('b', { phase: 'InProgress', itemsDone: 50, totalItems: 200, startedAt: '2026-03-01T02:00:00Z', observedAt: '2026-03-01T02:10:00Z' }),
        run('c', { phase: 'Failed', message: 'no space left', completedAt: '2026-03-01T02:01:00Z' }),
      ],
      1,
      now,
    );
    // (1 + 0.25 + 1) / 3 = 75%.
    expect(aggregate).toMatchObject({
      status: 'InProgress',
      percent: 75,
      itemsDone: 150,
      totalItems: 300,
      clusters: { planned: 3, running: 1, done: 1, completed: 1, failed: 1, skipped: 1 },
      startedAt: '2026-03-01T02:00:00Z',
      finishedAt: null,
    });
  });

  it('estimates the time left from the item rate of each running cluster, the slowest deciding', () => {
    const runs = [
      // 50 items in 10 minutes: 150 left take 30 minutes from the observation.
      run('slow', { phase: 'InProgress', itemsDone: 50, totalItems: 200, startedAt: '2026-03-01T02:00:00Z', observedAt: '2026-03-01T02:10:00Z' }),
      // 90 items in 10 minutes: 10 left take 67 s.
      run('fast', { phase: 'InProgress', itemsDone: 90, totalItems: 100, startedAt: '2026-03-01T02:00:00Z', observedAt: '2026-03-01T02:10:00Z' }),
    ];
    expect(aggregateRuns(runs, 0, now).estimatedSecondsLeft).toBe(1800);
    // Counted from the time of asking: five minutes after the observation, 25 minutes are left.
    expect(aggregateRuns(runs, 0, new Date('2026-03-01T02:15:00Z')).estimatedSecondsLeft).toBe(1500);
    // A cluster with no rate yet makes the estimate unknown.
    expect(aggregateRuns([...runs, run('new', { phase: 'New' })], 0, now).estimatedSecondsLeft).toBeNull();
  });

  it.each([
    ['every cluster completed, none skipped', ['Completed', 'Completed'], 0, 'Completed'],
    ['every cluster completed, one skipped', ['Completed', 'Completed'], 1, 'PartiallyFailed'],
    ['one cluster partially failed', ['Completed', 'PartiallyFailed'], 0, 'PartiallyFailed'],
    ['one failed, one completed', ['Failed', 'Completed'], 0, 'PartiallyFailed'],
    ['all failed', ['Failed', 'FailedValidation'], 0, 'Failed'],
    ['no cluster could be attempted', [], 2, 'Failed'],
  ] as const)('%s: %s', (_, phases, skipped, status) => {
    const aggregate = aggregateRuns(
      phases.map((phase, index) => run(`c${index}`, { phase, completedAt: `2026-03-01T02:0${index}:00Z` })),
      skipped,
      now,
    );
    expect(aggregate).toMatchObject({ status, percent: 100, estimatedSecondsLeft: 0 });
  });

  it('the percentage stays below 100 until every cluster has finished, and never goes down as items advance', () => {
    const phase = fc.constantFrom<ClusterPhase>('Pending', 'New', 'InProgress', 'WaitingForPluginOperations', 'Finalizing', 'Completed', 'PartiallyFailed', 'Failed');
    const arbitraryRun = fc.record({ phase, itemsDone: fc.nat(1000), totalItems: fc.nat(1000), extra: fc.nat(1000) });
    fc.assert(
      fc.property(fc.array(arbitraryRun, { minLength: 1, maxLength: 8 }), (specs) => {
        const runs = specs.map((spec, index) => run(`c${index}`, { phase: spec.phase, itemsDone: spec.itemsDone, totalItems: spec.totalItems }));
        const before = aggregateRuns(runs, 0, now);
        const unfinished = runs.some((r) => !['Completed', 'PartiallyFailed', 'Failed'].includes(r.phase));
        expect(before.percent === 100).toBe(!unfinished);
        const advanced = runs.map((r, index) => ({ ...r, itemsDone: Math.min(r.totalItems, r.itemsDone + specs[index]!.extra) }));
        expect(aggregateRuns(advanced, 0, now).percent).toBeGreaterThanOrEqual(before.percent);
      }),
    );
  });
});
