import { describe, expect, it } from '@jest/globals';
import { CostLedger, DEFAULT_PRICE_BOOK, formatMicros, recompute, type Allocation, type CostEvent } from '../src/index.js';
import { at, GiB, idleSharing, MiB, priceBook, row, sample, usage } from './fixtures.js';

/** Applies the events in order and returns the last one's allocation. */
function allocationAfter(...events: CostEvent[]): Allocation {
  const ledger = new CostLedger();
  let last: Allocation | undefined;
  for (const event of events) last = ledger.apply(event) ?? last;
  if (!last) throw new Error('no usage among the events');
  return last;
}

/** A workload's costs in the allocation, as decimal strings, per `hour|currency`. */
function costsOf(allocation: Allocation, name: string, namespace = 'shop') {
  return Object.fromEntries(
    allocation.workloads
      .filter((w) => w.name === name && w.namespace === namespace)
      .map((w) => [
        `${new Date(w.hour * 1000).toISOString().slice(11, 16)}|${w.currency}`,
        { cpu: formatMicros(w.measures.cpu_cost), memory: formatMicros(w.measures.memory_cost), gpu: formatMicros(w.measures.gpu_cost), idle: formatMicros(w.measures.idle_cost) },
      ]),
  );
}

const zero = '0.000000';

describe('the allocation model, hand-computed (default prices: CPU 0.031611/core-hour, memory 0.004237/GiB-hour, GPU 0.95/GPU-hour, USD)', () => {
  it('requests above usage: the requests are charged (2 cores × 1 h × 0.031611 = 0.063222; 4 GiB × 1 h × 0.004237 = 0.016948)', () => {
    const allocation = allocationAfter(usage(sample(at('10:00:00'), at('11:00:00'), [row({ cpuRequest: 2000, cpuUsage: 500, memoryRequest: 4 * GiB, memoryUsage: GiB })])));
    expect(costsOf(allocation, 'api')).toEqual({ '10:00|USD': { cpu: '0.063222', memory: '0.016948', gpu: zero, idle: zero } });
    const [workload] = allocation.workloads;
    // Unit-seconds: what was used, requested and allocated (the larger of the two) over the hour.
    expect(workload!.measures).toMatchObject({ cpu_usage: 1_800_000n, cpu_request: 7_200_000n, cpu_allocated: 7_200_000n, memory_allocated: BigInt(4 * GiB * 3600) });
  });

  it('usage above requests: the usage is charged, rounded half to even once (1.5 × 0.031611 = 0.0474165 → 0.047416; 0.75 GiB × 0.004237 = 0.00317775 → 0.003178)', () => {
    const allocation = allocationAfter(usage(sample(at('10:00:00'), at('11:00:00'), [row({ cpuRequest: 250, cpuUsage: 1500, memoryRequest: 512 * MiB, memoryUsage: 768 * MiB })])));
    expect(costsOf(allocation, 'api')).toEqual({ '10:00|USD': { cpu: '0.047416', memory: '0.003178', gpu: zero, idle: zero } });
  });

  it('a price change mid-period: each stretch at its own price, the interval that spans the change split at it', () => {
    // 1 core all along; 0.04 from midnight, 0.06 from 10:30.
    const prices = [priceBook(at('00:00:00'), { cpuCoreHour: '0.04', memoryGiBHour: '0' }), priceBook(at('10:30:00'), { cpuCoreHour: '0.06', memoryGiBHour: '0' })];
    const oneCore = [row({ cpuRequest: 1000 })];
    const stretches = [
      usage(sample(at('10:00:00'), at('10:20:00'), oneCore)),
      usage(sample(at('10:20:00'), at('10:40:00'), oneCore)),
      usage(sample(at('10:40:00'), at('11:00:00'), oneCore)),
    ];
    // 1/3 h × 0.04 = 0.013333…; 1/6 h × 0.04 + 1/6 h × 0.06 = 0.0166666… → 0.016667; 1/3 h × 0.06 = 0.02.
    expect(stretches.map((stretch) => costsOf(allocationAfter(...prices, stretch), 'api')['10:00|USD']!.cpu)).toEqual(['0.013333', '0.016667', '0.020000']);
    // The hour: 0.5 h at 0.04 + 0.5 h at 0.06 = 0.05, to the micro-unit.
    const hourly = [...recompute([...prices, ...stretches]).tables.get('workspace_hourly')!.values()];
    expect(hourly.map((r) => [r.key.hour, formatMicros(r.measures.cpu_cost!)])).toEqual([['2026-03-01T10:00:00.000Z', '0.050000']]);
  });

  it('historical costs keep the prices of their time: a price book set later, even effective earlier, costs only the usage after it in the log', () => {
    const oneCoreHour = usage(sample(at('10:00:00'), at('11:00:00'), [row({ cpuRequest: 1000 })]));
    const later = priceBook(at('00:00:00'), { cpuCoreHour: '1', memoryGiBHour: '0' });
    const totals = recompute([oneCoreHour, later, usage(sample(at('11:00:00'), at('12:00:00'), [row({ cpuRequest: 1000 })]))]);
    const byHour = [...totals.tables.get('workspace_hourly')!.values()].map((r) => [r.key.hour, formatMicros(r.measures.cpu_cost!)]);
    expect(byHour).toEqual([
      ['2026-03-01T10:00:00.000Z', '0.031611'],
      ['2026-03-01T11:00:00.000Z', '1.000000'],
    ]);
  });

  it('a workload moved between namespaces: each namespace is charged for its own time (½ h × 0.031611 = 0.0158055 → 0.015806 each)', () => {
    const totals = recompute([
      usage(sample(at('10:00:00'), at('10:30:00'), [row({ namespace: 'shop', cpuRequest: 1000 })])),
      usage(sample(at('10:30:00'), at('11:00:00'), [row({ namespace: 'store', cpuRequest: 1000 })])),
    ]);
    const byNamespace = Object.fromEntries([...totals.tables.get('workload_daily')!.values()].map((r) => [r.key.namespace, formatMicros(r.measures.cpu_cost!)]));
    expect(byNamespace).toEqual({ shop: '0.015806', store: '0.015806' });
    // The workspace is charged what its rows were charged: each row is rounded once, and the sum is of the rounded rows.
    expect([...totals.tables.get('workspace_daily')!.values()].map((r) => formatMicros(r.measures.cpu_cost!))).toEqual(['0.031612']);
  });

  describe('idle: capacity 4 cores and 16 GiB; allocated 2.5 cores (2 + max(0.5, 0.3)) and 6 GiB', () => {
    const rows = [row({ name: 'api', cpuRequest: 2000, memoryRequest: 4 * GiB }), row({ name: 'web', cpuRequest: 500, cpuUsage: 300, memoryRequest: 2 * GiB })];
    const hour = usage(sample(at('10:00:00'), at('11:00:00'), rows, { capacity: { cpu: 4000, memory: 16 * GiB, gpus: 0 } }));

    it('is reported per cluster and charged to no workspace (1.5 cores × 0.031611 = 0.0474165 → 0.047416; 10 GiB × 0.004237 = 0.04237)', () => {
      const allocation = allocationAfter(hour);
      expect(allocation.clusters).toHaveLength(1);
      expect(allocation.clusters[0]!.measures).toMatchObject({
        seconds: 3600n,
        cpu_capacity: 4000n * 3600n,
        cpu_allocated: 2500n * 3600n,
        cpu_idle_cost: 47_416n,
        memory_idle_cost: 42_370n,
        gpu_idle_cost: 0n,
        shared_idle_cost: 0n,
      });
      expect(allocation.workloads.map((w) => w.measures.idle_cost)).toEqual([0n, 0n]);
    });

    it('shared when the cluster says so: in proportion to each resource allocated, the remainder unit to the largest remainder', () => {
      const allocation = allocationAfter(idleSharing(at('00:00:00'), true), hour);
      // CPU: 0.047416 × 2/2.5 = 0.0379328, × 0.5/2.5 = 0.0094832 → 0.037933 + 0.009483.
      // Memory: 0.04237 × 4/6 = 0.02824666…, × 2/6 = 0.01412333… → 0.028247 + 0.014123.
      expect(costsOf(allocation, 'api')['10:00|USD']!.idle).toBe(formatMicros(37_933n + 28_247n));
      expect(costsOf(allocation, 'web')['10:00|USD']!.idle).toBe(formatMicros(9_483n + 14_123n));
      expect(allocation.clusters[0]!.measures.shared_idle_cost).toBe(47_416n + 42_370n);
    });

    it('GPUs: a GPU is 0.95 an hour by default; idle GPUs are idle cost too', () => {
      const allocation = allocationAfter(usage(sample(at('10:00:00'), at('11:00:00'), [row({ gpus: 1 })], { capacity: { cpu: 0, memory: 0, gpus: 2 } })));
      expect(costsOf(allocation, 'api')['10:00|USD']!.gpu).toBe('0.950000');
      expect(allocation.clusters[0]!.measures.gpu_idle_cost).toBe(950_000n);
    });

    it('a cluster nothing is allocated on keeps all its idle cost, shared or not', () => {
      const allocation = allocationAfter(idleSharing(at('00:00:00'), true), usage(sample(at('10:00:00'), at('11:00:00'), [], { capacity: { cpu: 1000, memory: 0, gpus: 0 } })));
      expect(allocation.clusters[0]!.measures).toMatchObject({ cpu_idle_cost: 31_611n, shared_idle_cost: 0n });
    });
  });

  it('an interval across an hour boundary is split over both hours, the parts summing to the rounded whole', () => {
    // 2 minutes of 1 core: 0.0010537 → 0.001054, half in each hour.
    const allocation = allocationAfter(usage(sample(at('10:59:00'), at('11:01:00'), [row({ cpuRequest: 1000 })])));
    expect(costsOf(allocation, 'api')).toEqual({
      '10:00|USD': { cpu: '0.000527', memory: zero, gpu: zero, idle: zero },
      '11:00|USD': { cpu: '0.000527', memory: zero, gpu: zero, idle: zero },
    });
  });

  it('a currency change mid-interval keeps the currencies apart, each rounded on its own', () => {
    const allocation = allocationAfter(
      priceBook(at('00:00:00'), { cpuCoreHour: '0.04', memoryGiBHour: '0' }),
      priceBook(at('10:30:00'), { cpuCoreHour: '0.05', memoryGiBHour: '0', currency: 'EUR' }),
      usage(sample(at('10:00:00'), at('11:00:00'), [row({ cpuRequest: 1000 })], { capacity: { cpu: 2000, memory: 0, gpus: 0 } })),
    );
    expect(costsOf(allocation, 'api')).toEqual({
      '10:00|USD': { cpu: '0.020000', memory: zero, gpu: zero, idle: zero },
      '10:00|EUR': { cpu: '0.025000', memory: zero, gpu: zero, idle: zero },
    });
    expect(allocation.clusters.map((c) => [c.currency, c.measures.seconds, c.measures.cpu_idle_cost])).toEqual([
      ['USD', 1800n, 20_000n],
      ['EUR', 1800n, 25_000n],
    ]);
  });

  it('a namespace no workspace holds is allocated (not idle) but charged to no workspace', () => {
    const allocation = allocationAfter(usage(sample(at('10:00:00'), at('11:00:00'), [row({ workspaceId: null, namespace: 'kube-system', cpuRequest: 1000 })], { capacity: { cpu: 1000, memory: 0, gpus: 0 } })));
    expect(allocation.workloads.map((w) => [w.workspaceId, w.measures.cpu_cost])).toEqual([['', 31_611n]]);
    expect(allocation.clusters[0]!.measures.cpu_idle_cost).toBe(0n);
  });

  it('the default price book is OpenCost’s', () => {
    expect(DEFAULT_PRICE_BOOK).toEqual({ currency: 'USD', cpuCoreHour: 31_611_000n, memoryGiBHour: 4_237_000n, gpuHour: 950_000_000n });
  });
});
