import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { allocate, DEFAULT_PRICE_BOOK, Timeline, type Allocation, type UsageSample } from '../src/index.js';

const HOUR_START = Date.parse('2026-03-01T10:00:00Z') / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** Per workload and hour, every measure as a string: what rolls up. */
const summed = (allocation: Allocation) => {
  const out = new Map<string, Record<string, string>>();
  for (const w of allocation.workloads) {
    const key = `${w.workspaceId}/${w.namespace}/${w.kind}/${w.name}/${w.hour}/${w.currency}`;
    const had = out.get(key);
    out.set(key, Object.fromEntries(Object.entries(w.measures).map(([m, v]) => [m, String(BigInt(had?.[m] ?? '0') + v)])));
  }
  const clusters = new Map<string, Record<string, string>>();
  for (const c of allocation.clusters) {
    const key = `${c.hour}/${c.currency}`;
    const had = clusters.get(key);
    clusters.set(key, Object.fromEntries(Object.entries(c.measures).map(([m, v]) => [m, String(BigInt(had?.[m] ?? '0') + v)])));
  }
  return { workloads: Object.fromEntries([...out].sort()), clusters: Object.fromEntries(clusters) };
};

describe('a sample inside one hour under one price book (the quick path)', () => {
  it('allocates what the general path does when it cuts the same interval in two', () => {
    const sample: fc.Arbitrary<UsageSample> = fc
      .record({
        start: fc.integer({ min: 0, max: 3598 }),
        rows: fc.uniqueArray(
          fc.record({
            workspaceId: fc.constantFrom('ws-a', 'ws-b', null),
            namespace: fc.constantFrom('shop', 'ops'),
            kind: fc.constantFrom('Deployment', 'Job'),
            name: fc.constantFrom('api', 'web'),
            pods: fc.integer({ min: 0, max: 9 }),
            cpuUsage: fc.integer({ min: 0, max: 80_000 }),
            cpuRequest: fc.integer({ min: 0, max: 80_000 }),
            memoryUsage: fc.integer({ min: 0, max: 2 ** 40 }),
            memoryRequest: fc.integer({ min: 0, max: 2 ** 40 }),
            gpus: fc.integer({ min: 0, max: 4 }),
          }),
          { maxLength: 5, selector: (r) => `${r.workspaceId}/${r.namespace}/${r.kind}/${r.name}` },
        ),
        capacity: fc.record({ cpu: fc.integer({ min: 0, max: 400_000 }), memory: fc.integer({ min: 0, max: 2 ** 42 }), gpus: fc.integer({ min: 0, max: 8 }) }),
      })
      .chain(({ start, rows, capacity }) =>
        fc.integer({ min: start + 2, max: 3600 }).map((end) => ({ clusterId: 'c1', start: iso(HOUR_START + start), end: iso(HOUR_START + end), capacity, rows })),
      );
    fc.assert(
      fc.property(sample, (s) => {
        const prices = new Timeline(DEFAULT_PRICE_BOOK);
        const quick = allocate(s, prices, new Timeline(false));
        expect(quick.clusters).toHaveLength(1);
        // An unchanged setting inside the interval cuts it in two: the general path, same figures.
        const cut = new Timeline(false);
        cut.set(Date.parse(s.start) / 1000 + 1, false);
        expect(summed(quick)).toEqual(summed(allocate(s, prices, cut)));
      }),
      { numRuns: 300 },
    );
  });
});
