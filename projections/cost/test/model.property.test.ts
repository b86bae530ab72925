import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { WorkloadUsage } from '@canopy/schema';
import { allocate, apportion, ClusterSettings, CostLedger, nanosToPrice, priceBookOf, priceToNanos, recompute, roundHalfEven, type CostEvent, type UsageSample } from '../src/index.js';

const BASE = Date.parse('2026-03-01T00:00:00Z') / 1000;
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

describe('exact money', () => {
  it('rounds to the nearest integer, halves to even', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 96n }), fc.bigInt({ min: 1n, max: 2n ** 48n }), (n, d) => {
        const r = roundHalfEven(n, d);
        const error = 2n * (r * d - n); // twice the rounding error, in units of 1/d
        expect(error <= d && error >= -d).toBe(true);
        if (error === d || error === -d) expect(r % 2n).toBe(0n);
      }),
    );
  });

  it('apportions any total over any weights: the parts sum to it, each within one unit of its exact share', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 }), (total, weights) => {
        const sum = weights.reduce((a, b) => a + b, 0n);
        fc.pre(sum > 0n);
        const parts = apportion(total, weights);
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
        parts.forEach((part, i) => {
          const floor = (total * weights[i]!) / sum;
          expect(part === floor || part === floor + 1n).toBe(true);
        });
      }),
    );
  });

  it('reads prices exactly and writes them back unchanged', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (nanos) => {
        expect(priceToNanos(nanosToPrice(nanos))).toBe(nanos);
      }),
    );
    expect(priceToNanos('0.031611')).toBe(31_611_000n);
    expect(priceToNanos('1000000')).toBe(10n ** 15n);
  });
});

/** A sample and the price books and sharing settings around its interval. */
const scenario = fc
  .record({
    start: fc.integer({ min: 0, max: 2 * 86_400 }),
    length: fc.integer({ min: 1, max: 3600 }),
    books: fc.array(
      fc.record({ offset: fc.integer({ min: -3600, max: 7200 }), currency: fc.constantFrom('USD', 'EUR'), cpu: fc.bigInt({ min: 0n, max: 2n * 10n ** 9n }), memory: fc.bigInt({ min: 0n, max: 10n ** 8n }), gpu: fc.option(fc.bigInt({ min: 0n, max: 3n * 10n ** 9n }), { nil: null }) }),
      { maxLength: 3 },
    ),
    sharing: fc.array(fc.record({ offset: fc.integer({ min: -3600, max: 7200 }), shared: fc.boolean() }), { maxLength: 3 }),
    rows: fc.uniqueArray(
      fc.record({
        workspaceId: fc.constantFrom('ws-a', 'ws-b', null),
        name: fc.constantFrom('api', 'web', 'db', 'cache', 'job'),
        cpuUsage: fc.integer({ min: 0, max: 100_000 }),
        cpuRequest: fc.integer({ min: 0, max: 100_000 }),
        memoryUsage: fc.integer({ min: 0, max: 2 ** 40 }),
        memoryRequest: fc.integer({ min: 0, max: 2 ** 40 }),
        gpus: fc.integer({ min: 0, max: 4 }),
      }),
      { maxLength: 4, selector: (r) => `${r.workspaceId}/${r.name}` },
    ),
    capacity: fc.record({ cpu: fc.integer({ min: 0, max: 300_000 }), memory: fc.integer({ min: 0, max: 2 ** 42 }), gpus: fc.integer({ min: 0, max: 12 }) }),
  })
  .map(({ start, length, books, sharing, rows, capacity }) => {
    const begin = BASE + start;
    const events: CostEvent[] = [
      ...books.map(
        (b): CostEvent => ({
          type: 'PriceBookSet',
          data: { clusterId: 'c1', effectiveFrom: iso(begin + b.offset), currency: b.currency, cpuCoreHour: nanosToPrice(b.cpu), memoryGiBHour: nanosToPrice(b.memory), gpuHour: b.gpu === null ? null : nanosToPrice(b.gpu) },
        }),
      ),
      ...sharing.map((s): CostEvent => ({ type: 'IdleSharingSet', data: { clusterId: 'c1', effectiveFrom: iso(begin + s.offset), shared: s.shared } })),
    ];
    const sample: UsageSample = {
      clusterId: 'c1',
      start: iso(begin),
      end: iso(begin + length),
      capacity,
      rows: rows.map((r): WorkloadUsage => ({ ...r, namespace: 'shop', kind: 'Deployment', pods: 1 })),
    };
    return { events, sample };
  });

function settingsOf(events: readonly CostEvent[]): ClusterSettings {
  const ledger = new CostLedger();
  for (const event of events) ledger.apply(event);
  return ledger.settings;
}

const DIVISOR = { cpu: 3_600_000_000n, memory: 2n ** 30n * 3_600_000n, gpu: 3_600_000n };
type Resource = keyof typeof DIVISOR;
const price = (book: ReturnType<typeof priceBookOf>, resource: Resource) => (resource === 'cpu' ? book.cpuCoreHour : resource === 'memory' ? book.memoryGiBHour : book.gpuHour);

/** The reference: second by second, the exact numerator of `units` held over the interval, per currency, rounded once. */
function perSecondCost(sample: UsageSample, settings: ClusterSettings, units: bigint, resource: Resource): Map<string, bigint> {
  const exact = new Map<string, bigint>();
  for (let t = Date.parse(sample.start) / 1000; t < Date.parse(sample.end) / 1000; t++) {
    const book = settings.prices('c1').at(t);
    exact.set(book.currency, (exact.get(book.currency) ?? 0n) + units * price(book, resource));
  }
  return new Map([...exact].map(([currency, numerator]) => [currency, roundHalfEven(numerator, DIVISOR[resource])]));
}

const max = (a: number, b: number): bigint => BigInt(Math.max(a, b));

describe('the allocation model, against a second-by-second reference', () => {
  it('charges each row max(request, usage) × seconds × price, rounded once per resource and currency, its hourly parts summing to that', () => {
    fc.assert(
      fc.property(scenario, ({ events, sample }) => {
        const settings = settingsOf(events);
        const allocation = allocate(sample, settings.prices('c1'), settings.sharing('c1'));
        for (const r of sample.rows) {
          const parts = allocation.workloads.filter((w) => w.workspaceId === (r.workspaceId ?? '') && w.name === r.name);
          const units: Record<Resource, bigint> = { cpu: max(r.cpuUsage, r.cpuRequest), memory: max(r.memoryUsage, r.memoryRequest), gpu: BigInt(r.gpus) };
          for (const resource of ['cpu', 'memory', 'gpu'] as const) {
            const expected = perSecondCost(sample, settings, units[resource], resource);
            for (const [currency, cost] of expected) {
              const charged = parts.filter((p) => p.currency === currency).reduce((sum, p) => sum + p.measures[`${resource}_cost`], 0n);
              expect(charged).toBe(cost);
            }
          }
          const seconds = BigInt(Date.parse(sample.end) - Date.parse(sample.start)) / 1000n;
          expect(parts.reduce((sum, p) => sum + p.measures.cpu_allocated, 0n)).toBe(units.cpu * seconds);
          expect(parts.reduce((sum, p) => sum + p.measures.memory_usage, 0n)).toBe(BigInt(r.memoryUsage) * seconds);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('prices idle capacity the same way, and shares exactly what the cluster reports as shared', () => {
    fc.assert(
      fc.property(scenario, ({ events, sample }) => {
        const settings = settingsOf(events);
        const allocation = allocate(sample, settings.prices('c1'), settings.sharing('c1'));
        const allocated = (pick: (r: WorkloadUsage) => bigint) => sample.rows.reduce((sum, r) => sum + pick(r), 0n);
        const idle: Record<Resource, bigint> = {
          cpu: BigInt(sample.capacity.cpu) - allocated((r) => max(r.cpuUsage, r.cpuRequest)),
          memory: BigInt(sample.capacity.memory) - allocated((r) => max(r.memoryUsage, r.memoryRequest)),
          gpu: BigInt(sample.capacity.gpus) - allocated((r) => BigInt(r.gpus)),
        };
        for (const resource of ['cpu', 'memory', 'gpu'] as const) {
          for (const [currency, cost] of perSecondCost(sample, settings, idle[resource] > 0n ? idle[resource] : 0n, resource)) {
            const reported = allocation.clusters.filter((c) => c.currency === currency).reduce((sum, c) => sum + c.measures[`${resource}_idle_cost`], 0n);
            expect(reported).toBe(cost);
          }
        }
        for (const cluster of allocation.clusters) {
          const charged = allocation.workloads.filter((w) => w.hour === cluster.hour && w.currency === cluster.currency).reduce((sum, w) => sum + w.measures.idle_cost, 0n);
          expect(charged).toBe(cluster.measures.shared_idle_cost);
          expect(cluster.measures.shared_idle_cost <= cluster.measures.cpu_idle_cost + cluster.measures.memory_idle_cost + cluster.measures.gpu_idle_cost).toBe(true);
        }
        const everShared = settings.sharing('c1').at(Date.parse(sample.start) / 1000) || settings.sharing('c1').changesIn(Date.parse(sample.start) / 1000, Date.parse(sample.end) / 1000).length > 0;
        if (!everShared) expect(allocation.clusters.every((c) => c.measures.shared_idle_cost === 0n)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order of the rows in a sample', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), ({ events, sample }, seed) => {
        const settings = settingsOf(events);
        const shuffled = { ...sample, rows: shuffle(sample.rows, seed) };
        const key = (a: ReturnType<typeof allocate>) => JSON.stringify(a.workloads.map((w) => ({ ...w, measures: Object.values(w.measures).map(String) })).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)));
        expect(key(allocate(shuffled, settings.prices('c1'), settings.sharing('c1')))).toBe(key(allocate(sample, settings.prices('c1'), settings.sharing('c1'))));
      }),
    );
  });

  it('adds samples up the same in any order, once the prices are set', () => {
    fc.assert(
      fc.property(fc.array(scenario, { minLength: 1, maxLength: 6 }), fc.integer(), (scenarios, seed) => {
        const settings = scenarios.flatMap((s) => s.events);
        const samples = scenarios.map((s): CostEvent => ({ type: 'UsageSampled', data: s.sample }));
        const totals = (order: CostEvent[]) => Object.fromEntries([...recompute([...settings, ...order]).tables].map(([table, rows]) => [table, Object.fromEntries(rows)]));
        expect(totals(shuffle(samples, seed))).toEqual(totals(samples));
      }),
      { numRuns: 60 },
    );
  });
});

/** A deterministic shuffle (Fisher–Yates over a linear congruential sequence). */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
