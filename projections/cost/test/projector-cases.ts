import { afterEach, describe, expect, it } from '@jest/globals';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { clusterIdle, clusterPricing, costBreakdown, costCsv, dailyCost, topWorkloads, utilizationTrend, type CostAmounts } from '../src/index.js';
import { at, GiB, idleSharing, MiB, priceBook, row, sample, usage } from './fixtures.js';
import { startHarness, type Backend, type Harness } from './harness.js';

const day1 = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };
const zero = '0.000000';
const usd = (cpu: string, memory = zero, extra: Partial<CostAmounts> = {}): CostAmounts => {
  const micros = (s: string) => BigInt(s.replace('.', ''));
  const amounts = { currency: 'USD', cpu, memory, gpu: zero, idle: zero, ...extra };
  const total = micros(amounts.cpu) + micros(amounts.memory) + micros(amounts.gpu) + micros(amounts.idle);
  return { ...amounts, total: `${total / 1_000_000n}.${(total % 1_000_000n).toString().padStart(6, '0')}` };
};

async function refusal(promise: Promise<unknown>): Promise<{ code: string; field: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CanopyError) return { code: error.code, field: error.details.field };
    throw error;
  }
  throw new Error('expected a refusal');
}

/** The cost read model through the real runner and log: on PGlite (projector.test.ts) and PostgreSQL (projector.postgres.test.ts). */
export function projectorCases(backend: Backend): void {
  let h: Harness | undefined;
  const open = async (options?: { batchSize?: number }) => (h = await startHarness(backend, options));
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  describe('the hand-computed cases, end to end', () => {
    it('requests above usage and usage above requests, two workspaces in one sample of a cluster', async () => {
      const h = await open();
      await h.append(
        usage(
          sample(at('10:00:00'), at('11:00:00'), [
            row({ workspaceId: 'ws-req', cpuRequest: 2000, cpuUsage: 500, memoryRequest: 4 * GiB, memoryUsage: GiB }),
            row({ workspaceId: 'ws-use', cpuRequest: 250, cpuUsage: 1500, memoryRequest: 512 * MiB, memoryUsage: 768 * MiB }),
          ]),
        ),
      );
      await h.sync();
      expect(await dailyCost(h.db, h.schema(), { workspaceId: 'ws-req', ...day1 })).toEqual([{ day: '2026-03-01', ...usd('0.063222', '0.016948') }]);
      expect(await dailyCost(h.db, h.schema(), { workspaceId: 'ws-use', ...day1 })).toEqual([{ day: '2026-03-01', ...usd('0.047416', '0.003178') }]);
    });

    it('a workload moved between namespaces: each namespace pays for its own half hour', async () => {
      const h = await open();
      await h.append(
        usage(sample(at('10:00:00'), at('10:30:00'), [row({ workspaceId: 'ws-move', namespace: 'shop', cpuRequest: 1000 })])),
        usage(sample(at('10:30:00'), at('11:00:00'), [row({ workspaceId: 'ws-move', namespace: 'store', cpuRequest: 1000 })])),
      );
      await h.sync();
      const query = { workspaceId: 'ws-move', ...day1 };
      expect(await costBreakdown(h.db, h.schema(), { ...query, by: 'namespace' })).toEqual([
        { namespace: 'shop', ...usd('0.015806') },
        { namespace: 'store', ...usd('0.015806') },
      ]);
      expect((await costBreakdown(h.db, h.schema(), { ...query, by: 'workload' })).map((r) => r.workload)).toEqual([
        { clusterId: 'c1', namespace: 'shop', kind: 'Deployment', name: 'api' },
        { clusterId: 'c1', namespace: 'store', kind: 'Deployment', name: 'api' },
      ]);
      expect(await dailyCost(h.db, h.schema(), query)).toEqual([{ day: '2026-03-01', ...usd('0.031612') }]);
    });

    it('idle: reported per cluster and charged to no workspace, unless the cluster shares it', async () => {
      const h = await open();
      const rows = [row({ workspaceId: 'ws-idle', name: 'api', cpuRequest: 2000, memoryRequest: 4 * GiB }), row({ workspaceId: 'ws-idle', name: 'web', cpuRequest: 500, cpuUsage: 300, memoryRequest: 2 * GiB })];
      const capacity = { cpu: 4000, memory: 16 * GiB, gpus: 0 };
      await h.append(
        idleSharing(at('00:00:00'), true, 'c-shared'),
        usage(sample(at('10:00:00'), at('11:00:00'), rows, { clusterId: 'c-idle', capacity })),
        usage(sample(at('10:00:00'), at('11:00:00'), rows, { clusterId: 'c-shared', capacity })),
      );
      await h.sync();
      const averages = { cpuCapacityMillicores: 4000, cpuAllocatedMillicores: 2500, memoryCapacityBytes: 16 * GiB, memoryAllocatedBytes: 6 * GiB, gpuCapacity: 0, gpuAllocated: 0 };
      const idle = { currency: 'USD', cpuIdle: '0.047416', memoryIdle: '0.042370', gpuIdle: zero, idle: '0.089786' };
      expect(await clusterIdle(h.db, h.schema(), { clusterIds: ['c-shared', 'c-idle', 'c-unknown'], ...day1 })).toEqual([
        { clusterId: 'c-idle', ...averages, ...idle, shared: zero, unshared: '0.089786' },
        { clusterId: 'c-shared', ...averages, ...idle, shared: '0.089786', unshared: zero },
      ]);
      // On each cluster: CPU 0.063222 + 0.015806 (½ core: 0.0158055, half to even), memory 0.016948 + 0.008474; the shared cluster adds its idle cost.
      expect(await costBreakdown(h.db, h.schema(), { workspaceId: 'ws-idle', ...day1, by: 'cluster' })).toEqual([
        { clusterId: 'c-shared', ...usd('0.079028', '0.025422', { idle: '0.089786' }) },
        { clusterId: 'c-idle', ...usd('0.079028', '0.025422') },
      ]);
      expect((await topWorkloads(h.db, h.schema(), { workspaceId: 'ws-idle', ...day1, limit: 1 })).map((w) => [w.rank, w.workload.clusterId, w.workload.name, w.idle, w.total])).toEqual([
        [1, 'c-shared', 'api', formatSum(37_933n + 28_247n), formatSum(63_222n + 16_948n + 37_933n + 28_247n)],
      ]);
    });

    it('a price change mid-period: each day at the prices of its time, an interval across the change split at it', async () => {
      const h = await open();
      const oneCore = [row({ workspaceId: 'ws-price', cpuRequest: 1000 })];
      await h.append(
        priceBook(at('00:00:00'), { cpuCoreHour: '0.04', memoryGiBHour: '0' }),
        usage(sample(at('10:00:00'), at('11:00:00'), oneCore)),
        priceBook(at('10:30:00', '2026-03-02'), { cpuCoreHour: '0.06', memoryGiBHour: '0' }),
        usage(sample(at('10:00:00', '2026-03-02'), at('10:20:00', '2026-03-02'), oneCore)),
        usage(sample(at('10:20:00', '2026-03-02'), at('10:40:00', '2026-03-02'), oneCore)),
        usage(sample(at('10:40:00', '2026-03-02'), at('11:00:00', '2026-03-02'), oneCore)),
      );
      await h.sync();
      const twoDays = { workspaceId: 'ws-price', from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' };
      expect(await dailyCost(h.db, h.schema(), twoDays)).toEqual([
        { day: '2026-03-01', ...usd('0.040000') },
        { day: '2026-03-02', ...usd('0.050000') },
      ]);

      // A price book appended now, effective from the start, replaces the first one: usage after it costs 9 a core-hour, what was costed stays.
      await h.append(priceBook(at('00:00:00'), { cpuCoreHour: '9', memoryGiBHour: '0', gpuHour: '2.5' }), usage(sample(at('12:00:00'), at('13:00:00'), oneCore)));
      await h.sync();
      expect(await dailyCost(h.db, h.schema(), twoDays)).toEqual([
        { day: '2026-03-01', ...usd('9.040000') },
        { day: '2026-03-02', ...usd('0.050000') },
      ]);
      expect(await clusterPricing(h.db, h.schema(), ['c1', 'c-none'])).toEqual(
        new Map([
          [
            'c1',
            {
              clusterId: 'c1',
              priceBooks: [
                { effectiveFrom: '2026-03-01T00:00:00Z', currency: 'USD', cpuCoreHour: '9', memoryGiBHour: '0', gpuHour: '2.5' },
                { effectiveFrom: '2026-03-02T10:30:00Z', currency: 'USD', cpuCoreHour: '0.06', memoryGiBHour: '0', gpuHour: null },
              ],
              idleSharing: [],
            },
          ],
        ]),
      );
    });
  });

  it('rebuilt from zero, the tables are identical (checksum) and every answer the same to the micro-unit', async () => {
    const h = await open();
    await h.append(
      priceBook(at('00:00:00'), { cpuCoreHour: '0.05', memoryGiBHour: '0.01', currency: 'EUR' }),
      idleSharing(at('10:30:00'), true),
      ...['09:00:00', '10:00:00', '11:00:00'].map((start, i) =>
        usage(
          sample(at(start), at(['10:00:00', '11:00:00', '12:00:00'][i]!), [row({ cpuRequest: 333 * (i + 1), cpuUsage: 500, memoryRequest: 3 * GiB }), row({ name: 'web', cpuUsage: 1234, memoryUsage: 777 * MiB })], {
            capacity: { cpu: 8000, memory: 32 * GiB, gpus: 1 },
          }),
        ),
      ),
    );
    await h.sync();
    const answers = async () => ({
      daily: await dailyCost(h.db, h.schema(), { workspaceId: 'ws-a', ...day1 }),
      csv: await costCsv(h.db, h.schema(), { workspaceId: 'ws-a', ...day1 }),
      idle: await clusterIdle(h.db, h.schema(), { clusterIds: ['c1'], ...day1 }),
    });
    const live = await h.runner.checksum('cost');
    const before = await answers();
    expect(before.daily).toHaveLength(1);
    expect(before.daily[0]!.currency).toBe('EUR');
    await h.runner.rebuild('cost');
    const rebuilt = await h.runner.checksum('cost');
    expect([rebuilt.checksum, rebuilt.position]).toEqual([live.checksum, live.position]);
    expect(await answers()).toEqual(before);
  });

  it('utilization per hour and day: averages over the time each cluster was sampled, by workspace, cluster, namespace and workload', async () => {
    const h = await open();
    await h.append(
      usage(sample(at('10:00:00'), at('10:30:00'), [row({ cpuUsage: 1000, cpuRequest: 2000, memoryUsage: GiB, memoryRequest: 2 * GiB }), row({ namespace: 'ops', name: 'cron', kind: 'CronJob', cpuUsage: 100 })])),
      usage(sample(at('10:30:00'), at('11:00:00'), [row({ cpuUsage: 3000, cpuRequest: 2000, memoryUsage: 3 * GiB, memoryRequest: 2 * GiB })])),
      // A second cluster sampled only half the hour: its usage averages over that half, not over the hour.
      usage(sample(at('10:00:00'), at('10:30:00'), [row({ cpuUsage: 500 }), row({ workspaceId: 'ws-other', cpuUsage: 99_000 })], { clusterId: 'c2' })),
    );
    await h.sync();
    const query = { workspaceId: 'ws-a', from: '2026-03-01T09:00:00Z', to: '2026-03-01T12:00:00Z', resolution: 'hour' as const };
    const point = (start: string, cpuUsageMillicores: number, cpuRequestMillicores: number, memoryUsageBytes: number, memoryRequestBytes: number) => ({
      start,
      cpuUsageMillicores,
      cpuRequestMillicores,
      memoryUsageBytes,
      memoryRequestBytes,
    });
    // c1: (1000 + 100) for ½ h and 3000 for ½ h, over the hour sampled = 2050; c2: 500 over its ½ h sampled = 500.
    expect(await utilizationTrend(h.db, h.schema(), query)).toEqual([point('2026-03-01T10:00:00Z', 2550, 2000, 2 * GiB, 2 * GiB)]);
    expect(await utilizationTrend(h.db, h.schema(), { ...query, clusterId: 'c1' })).toEqual([point('2026-03-01T10:00:00Z', 2050, 2000, 2 * GiB, 2 * GiB)]);
    expect(await utilizationTrend(h.db, h.schema(), { ...query, namespace: 'ops' })).toEqual([point('2026-03-01T10:00:00Z', 50, 0, 0, 0)]);
    expect(await utilizationTrend(h.db, h.schema(), { ...query, namespace: 'shop', workload: { kind: 'Deployment', name: 'api' }, clusterId: 'c1' })).toEqual([
      point('2026-03-01T10:00:00Z', 2000, 2000, 2 * GiB, 2 * GiB),
    ]);
    expect(await utilizationTrend(h.db, h.schema(), { ...query, ...day1, resolution: 'day' })).toEqual([point('2026-03-01', 2550, 2000, 2 * GiB, 2 * GiB)]);
  });

  it('a period on whole hours reads whole days from the daily roll-up and the hours around them from the hourly one', async () => {
    const h = await open();
    const oneCoreHour = (day: string, start: string, end: string) => usage(sample(at(start, day), at(end, day), [row({ cpuRequest: 1000 })]));
    await h.append(
      oneCoreHour('2026-03-01', '09:00:00', '10:00:00'), // before the period
      oneCoreHour('2026-03-01', '10:00:00', '11:00:00'),
      oneCoreHour('2026-03-02', '05:00:00', '06:00:00'),
      oneCoreHour('2026-03-02', '23:00:00', '23:59:59'),
      oneCoreHour('2026-03-03', '10:00:00', '11:00:00'),
      oneCoreHour('2026-03-03', '11:00:00', '12:00:00'), // after it
    );
    await h.sync();
    const [total] = await costBreakdown(h.db, h.schema(), { workspaceId: 'ws-a', from: '2026-03-01T10:00:00Z', to: '2026-03-03T11:00:00Z', by: 'cluster' });
    // Three whole core-hours (0.031611 each) and 3599 s (0.03160222… → 0.031602).
    expect(total).toEqual({ clusterId: 'c1', ...usd('0.126435') });
  });

  it('top workloads per currency and the finance CSV', async () => {
    const h = await open();
    await h.append(
      usage(
        sample(at('10:00:00'), at('11:00:00'), [
          row({ name: 'small', cpuRequest: 100 }),
          row({ name: 'large', cpuRequest: 4000, memoryRequest: 8 * GiB }),
          row({ name: 'medium', namespace: 'ops', kind: 'StatefulSet', cpuRequest: 1000 }),
        ]),
      ),
      priceBook(at('00:00:00'), { cpuCoreHour: '0.1', memoryGiBHour: '0', currency: 'EUR' }, 'c-eu'),
      usage(sample(at('10:00:00'), at('11:00:00'), [row({ name: 'euro', cpuRequest: 500 })], { clusterId: 'c-eu' })),
    );
    await h.sync();
    const top = await topWorkloads(h.db, h.schema(), { workspaceId: 'ws-a', ...day1, limit: 2 });
    expect(top.map((w) => [w.currency, w.rank, w.workload.name, w.total])).toEqual([
      ['EUR', 1, 'euro', '0.050000'],
      ['USD', 1, 'large', '0.160340'],
      ['USD', 2, 'medium', '0.031611'],
    ]);
    expect(await costCsv(h.db, h.schema(), { workspaceId: 'ws-a', ...day1 })).toBe(
      [
        'date,workspace_id,cluster_id,namespace,workload_kind,workload_name,currency,cpu_core_hours,memory_gib_hours,gpu_hours,cpu_cost,memory_cost,gpu_cost,idle_cost,total_cost',
        '2026-03-01,ws-a,c-eu,shop,Deployment,euro,EUR,0.500000,0.000000,0.000000,0.050000,0.000000,0.000000,0.000000,0.050000',
        '2026-03-01,ws-a,c1,ops,StatefulSet,medium,USD,1.000000,0.000000,0.000000,0.031611,0.000000,0.000000,0.000000,0.031611',
        '2026-03-01,ws-a,c1,shop,Deployment,large,USD,4.000000,8.000000,0.000000,0.126444,0.033896,0.000000,0.000000,0.160340',
        '2026-03-01,ws-a,c1,shop,Deployment,small,USD,0.100000,0.000000,0.000000,0.003161,0.000000,0.000000,0.000000,0.003161',
        '',
      ].join('\r\n'),
    );
  });

  it('answers about one workspace hold nothing of another', async () => {
    const h = await open();
    await h.append(usage(sample(at('10:00:00'), at('11:00:00'), [row({ workspaceId: 'ws-mine', cpuRequest: 1000 }), row({ workspaceId: 'ws-theirs', name: 'secret-app', cpuRequest: 9000 })])));
    await h.sync();
    const mine = { workspaceId: 'ws-mine', ...day1 };
    expect(await dailyCost(h.db, h.schema(), mine)).toEqual([{ day: '2026-03-01', ...usd('0.031611') }]);
    expect((await topWorkloads(h.db, h.schema(), { ...mine, limit: 10 })).map((w) => w.workload.name)).toEqual(['api']);
    expect(await costCsv(h.db, h.schema(), mine)).not.toContain('secret-app');
    expect(await utilizationTrend(h.db, h.schema(), { ...mine, resolution: 'day' })).toEqual([
      { start: '2026-03-01', cpuUsageMillicores: 0, cpuRequestMillicores: 1000, memoryUsageBytes: 0, memoryRequestBytes: 0 },
    ]);
    expect(await dailyCost(h.db, h.schema(), { workspaceId: 'ws-nobody', ...day1 })).toEqual([]);
  });

  it('refuses bad queries with BAD_USER_INPUT naming the field', async () => {
    const h = await open();
    const s = h.schema();
    const q = { workspaceId: 'ws-a', ...day1 };
    const cases: [Promise<unknown>, string][] = [
      [dailyCost(h.db, s, { ...q, workspaceId: '' }), 'workspaceId'],
      [dailyCost(h.db, s, { ...q, from: 'yesterday' }), 'from'],
      [dailyCost(h.db, s, { ...q, from: '2026-03-01T10:00:00Z' }), 'from'],
      [dailyCost(h.db, s, { ...q, to: '2026-03-01T00:00:00Z' }), 'to'],
      [dailyCost(h.db, s, { ...q, to: '2029-03-01T00:00:00Z' }), 'to'],
      [costBreakdown(h.db, s, { ...q, from: '2026-03-01T10:30:00Z', by: 'cluster' }), 'from'],
      [costBreakdown(h.db, s, { ...q, by: 'label' as 'cluster' }), 'by'],
      [costBreakdown(h.db, s, { ...q, by: 'toString' as 'cluster' }), 'by'],
      [topWorkloads(h.db, s, { ...q, limit: 0 }), 'limit'],
      [topWorkloads(h.db, s, { ...q, limit: 1.5 }), 'limit'],
      [utilizationTrend(h.db, s, { ...q, resolution: 'minute' as 'hour' }), 'resolution'],
      [utilizationTrend(h.db, s, { ...q, to: '2026-05-01T00:00:00Z', resolution: 'hour' }), 'to'],
      [utilizationTrend(h.db, s, { ...q, resolution: 'hour', workload: { kind: 'Deployment', name: 'api' } }), 'namespace'],
      [costCsv(h.db, s, { ...q, to: '2026-07-01T00:00:00Z' }), 'to'],
      [clusterIdle(h.db, s, { clusterIds: 'c1' as unknown as string[], ...day1 }), 'clusterIds'],
    ];
    for (const [promise, field] of cases) expect(await refusal(promise)).toEqual({ code: ErrorCode.BAD_USER_INPUT, field });
  });
}

function formatSum(micros: bigint): string {
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}
