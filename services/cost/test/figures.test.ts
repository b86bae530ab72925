import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { COST_CSV_HEADER, formatMicros, recompute, roundHalfEven, type CostEvent, type RollupTotals } from '@canopy/cost';
import { ErrorCode, type WorkloadUsage } from '@canopy/schema';
import { dataOf, errorOf, onWorkspace, startHarness, type Harness, type Team } from './harness.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const AMOUNTS = 'currency cpu memory gpu idle total';
const day1 = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };
const twoDays = { from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' };
/** Whole days inside, hours around them: the reader mixes the daily and hourly roll-ups. */
const ragged = { from: '2026-03-01T10:00:00Z', to: '2026-03-02T23:00:00Z' };

const SET_PRICE_BOOK = 'mutation($input: PriceBookInput!) { setPriceBook(input: $input) { changed } }';
const SET_IDLE_SHARING = 'mutation($input: IdleSharingInput!) { setIdleSharing(input: $input) { changed } }';

function row(workspaceId: string | null, namespace: string, kind: string, name: string, over: Partial<WorkloadUsage> = {}): WorkloadUsage {
  return { workspaceId, namespace, kind, name, pods: 1, cpuUsage: 0, cpuRequest: 0, memoryUsage: 0, memoryRequest: 0, gpus: 0, ...over };
}

function usage(clusterId: string, start: string, end: string, rows: WorkloadUsage[], capacity = { cpu: 8000, memory: 16 * GiB, gpus: 0 }): CostEvent {
  return { type: 'UsageSampled', data: { clusterId, start, end, capacity, rows } };
}

type Amounts = { currency: string; cpu: string; memory: string; gpu: string; idle: string; total: string };

/** Sums `recompute`'s hourly workload rows of a workspace in [from, to) per group and currency, as the API answers amounts. */
function expectedAmounts(totals: RollupTotals, workspaceId: string, period: { from: string; to: string }, group: (key: Readonly<Record<string, string>>) => string) {
  const from = Date.parse(period.from);
  const to = Date.parse(period.to);
  const sums = new Map<string, { group: string; currency: string; cpu: bigint; memory: bigint; gpu: bigint; idle: bigint }>();
  for (const { key, measures } of totals.tables.get('workload_hourly')!.values()) {
    const hour = Date.parse(key.hour!);
    if (key.workspace_id !== workspaceId || hour < from || hour >= to) continue;
    const id = `${group(key)}|${key.currency}`;
    const sum = sums.get(id) ?? { group: group(key), currency: key.currency!, cpu: 0n, memory: 0n, gpu: 0n, idle: 0n };
    sum.cpu += measures.cpu_cost!;
    sum.memory += measures.memory_cost!;
    sum.gpu += measures.gpu_cost!;
    sum.idle += measures.idle_cost!;
    sums.set(id, sum);
  }
  return [...sums.values()]
    .map((s) => ({ group: s.group, currency: s.currency, cpu: formatMicros(s.cpu), memory: formatMicros(s.memory), gpu: formatMicros(s.gpu), idle: formatMicros(s.idle), total: formatMicros(s.cpu + s.memory + s.gpu + s.idle) }))
    .sort((a, b) => (`${a.group}|${a.currency}` < `${b.group}|${b.currency}` ? -1 : 1));
}

const strip = ({ group: _group, ...amounts }: Amounts & { group: string }): Amounts => amounts;
const micros = (decimal: string): bigint => BigInt(decimal.replace('.', ''));

describe('the cost figures through the API', () => {
  let h: Harness;
  let team: Team;
  let other: Team;
  let ws: string;
  let totals: RollupTotals;

  beforeAll(async () => {
    h = await startHarness(new Date('2026-03-01T00:00:00Z'));
    team = await h.team('ada');
    other = await h.team('zed');
    ws = team.workspaceId;
    const { east, west } = team;
    const book = (clusterId: string, effectiveFrom: string, currency: string, cpuCoreHour: string, memoryGiBHour: string, gpuHour: string | null) =>
      h.run('ada', SET_PRICE_BOOK, { input: { clusterId, effectiveFrom, currency, cpuCoreHour, memoryGiBHour, gpuHour } });
    for (const result of [
      await book(east, '2026-03-01T00:00:00Z', 'USD', '0.04', '0.005', null),
      // The price change half-way through the 10:20–10:40 sample.
      await book(east, '2026-03-01T10:30:00Z', 'USD', '0.06', '0.005', null),
      await book(west, '2026-03-01T00:00:00Z', 'EUR', '0.03', '0.004', '2.5'),
      await h.run('ada', SET_IDLE_SHARING, { input: { clusterId: west, effectiveFrom: '2026-03-01T00:00:00Z', shared: true } }),
    ]) {
      expect(Object.values(dataOf(result))[0].changed).toBe(true);
    }
    const eastRows = [
      row(ws, 'shop', 'Deployment', 'api', { cpuRequest: 1000, cpuUsage: 500, memoryRequest: GiB, memoryUsage: 2 * GiB }),
      row(ws, 'db', 'StatefulSet', 'pg', { cpuRequest: 2000, cpuUsage: 2500, memoryRequest: 4 * GiB, memoryUsage: 4 * GiB }),
      row(other.workspaceId, 'shop', 'Deployment', 'api', { cpuRequest: 500 }),
      row(null, 'kube-system', 'DaemonSet', 'proxy', { cpuRequest: 100 }),
    ];
    const westRows = [
      row(ws, 'shop', 'Job', 'batch', { cpuRequest: 3000, cpuUsage: 1000, memoryRequest: 8 * GiB, memoryUsage: 2 * GiB, gpus: 1 }),
      row(ws, 'db', 'Deployment', 'cache', { cpuRequest: 500, memoryRequest: GiB }),
    ];
    const api = row(ws, 'shop', 'Deployment', 'api', { cpuRequest: 1000, cpuUsage: 300, memoryRequest: 512 * MiB, memoryUsage: 256 * MiB });
    await h.append(
      usage(east, '2026-03-01T10:00:00Z', '2026-03-01T10:20:00Z', eastRows),
      usage(east, '2026-03-01T10:20:00Z', '2026-03-01T10:40:00Z', eastRows),
      usage(east, '2026-03-01T10:40:00Z', '2026-03-01T11:00:00Z', eastRows),
      usage(west, '2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z', westRows, { cpu: 8000, memory: 32 * GiB, gpus: 2 }),
      usage(other.east, '2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z', [row(other.workspaceId, 'shop', 'Deployment', 'web', { cpuRequest: 4000 })]),
      usage(east, '2026-03-02T09:00:00Z', '2026-03-02T09:30:00Z', [api]),
    );
    // At 09:40 a book effective from the start of the hour (the earliest allowed) prices what is sampled from now on, not the half hour costed already.
    h.clock.now = new Date('2026-03-02T09:40:00Z');
    expect(dataOf(await book(east, '2026-03-02T09:00:00Z', 'USD', '0.12', '0.005', null)).setPriceBook.changed).toBe(true);
    await h.append(
      usage(east, '2026-03-02T09:30:00Z', '2026-03-02T10:00:00Z', [api]),
      usage(west, '2026-03-02T23:00:00Z', '2026-03-02T23:30:00Z', [row(ws, 'shop', 'Job', 'batch', { cpuRequest: 1000, cpuUsage: 200, memoryRequest: GiB })], { cpu: 8000, memory: 32 * GiB, gpus: 2 }),
    );
    await team.ws({ type: 'SetNamespaceQuota', namespace: 'shop', clusterId: null, cpu: '2', memory: '4Gi' });
    await team.ws({ type: 'SetNamespaceQuota', namespace: 'shop', clusterId: west, cpu: '500m', memory: 'unlimited' });
    await h.sync();
    totals = recompute(await h.costEvents());
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  const read = async (userId: string, fields: string, variables: Record<string, unknown> = {}, declared = '') =>
    dataOf(await h.run(userId, onWorkspace(fields, declared), { id: ws, ...variables }))._entities[0];

  it('totals per currency equal a recomputation of the log, over whole days and ragged hours', async () => {
    for (const period of [twoDays, ragged, day1]) {
      const answer = (await read('dan', `costTotals(from: "${period.from}", to: "${period.to}") { ${AMOUNTS} }`)).costTotals;
      expect(answer).toEqual(expectedAmounts(totals, ws, period, () => '').map(strip));
      expect(answer.map((a: Amounts) => a.currency)).toEqual(['EUR', 'USD']);
    }
  });

  it('prices a change mid-period as the model does, and keeps costed usage at its prices', async () => {
    const api = (await read('carol', `costBreakdown(from: "2026-03-01T10:00:00Z", to: "2026-03-01T11:00:00Z", by: WORKLOAD) { workload { clusterId namespace kind name } ${AMOUNTS} }`)).costBreakdown.find(
      (r: { workload: { name: string } }) => r.workload.name === 'api',
    );
    // 1 core: ⅓ h at 0.04, then ⅙ h at 0.04 and ⅙ h at 0.06 in one sample (0.0166666… rounded once), then ⅓ h at 0.06.
    expect(api.cpu).toBe('0.050000');
    const day2 = (await read('carol', 'costBreakdown(from: "2026-03-02T09:00:00Z", to: "2026-03-02T10:00:00Z", by: WORKLOAD) { workload { name } cpu }')).costBreakdown;
    // Half an hour costed at 0.06 before the book of 0.12 effective from 09:00 was set, half an hour after it.
    expect(day2).toEqual([{ workload: { name: 'api' }, cpu: '0.090000' }]);
  });

  it('breaks the cost down by cluster, namespace and workload, largest first per currency', async () => {
    const groups = {
      CLUSTER: { fields: 'clusterId', group: (k: Readonly<Record<string, string>>) => k.cluster_id!, of: (r: any) => r.clusterId },
      NAMESPACE: { fields: 'namespace', group: (k: Readonly<Record<string, string>>) => k.namespace!, of: (r: any) => r.namespace },
      WORKLOAD: {
        fields: 'workload { clusterId namespace kind name }',
        group: (k: Readonly<Record<string, string>>) => [k.cluster_id, k.namespace, k.workload_kind, k.workload_name].join('/'),
        of: (r: any) => [r.workload.clusterId, r.workload.namespace, r.workload.kind, r.workload.name].join('/'),
      },
    };
    for (const [by, { fields, group, of }] of Object.entries(groups)) {
      const rows = (await read('dan', `costBreakdown(from: "${ragged.from}", to: "${ragged.to}", by: ${by}) { ${fields} ${AMOUNTS} }`)).costBreakdown;
      const answered = rows.map((r: any) => ({ group: of(r), currency: r.currency, cpu: r.cpu, memory: r.memory, gpu: r.gpu, idle: r.idle, total: r.total }));
      expect([...answered].sort((a, b) => (`${a.group}|${a.currency}` < `${b.group}|${b.currency}` ? -1 : 1))).toEqual(expectedAmounts(totals, ws, ragged, group));
      for (let i = 1; i < answered.length; i++) {
        if (answered[i].currency === answered[i - 1].currency) expect(micros(answered[i].total)).toBeLessThanOrEqual(micros(answered[i - 1].total));
      }
    }
  });

  it('ranks the top workloads and answers the per-day series', async () => {
    const top = (await read('dan', `topCostWorkloads(from: "${twoDays.from}", to: "${twoDays.to}", limit: 1) { rank workload { name } ${AMOUNTS} }`)).topCostWorkloads;
    const byWorkload = expectedAmounts(totals, ws, twoDays, (k) => k.workload_name!);
    const best = (currency: string) => byWorkload.filter((r) => r.currency === currency).sort((a, b) => Number(micros(b.total) - micros(a.total)))[0]!;
    expect(top).toEqual(['EUR', 'USD'].map((currency) => ({ rank: 1, workload: { name: best(currency).group }, ...strip(best(currency)) })));
    const daily = (await read('dan', `dailyCost(from: "${twoDays.from}", to: "${twoDays.to}") { day ${AMOUNTS} }`)).dailyCost;
    expect(daily).toEqual(expectedAmounts(totals, ws, twoDays, (k) => k.hour!.slice(0, 10)).map(({ group, ...amounts }) => ({ day: group, ...amounts })));
    expect(daily.map((d: { day: string }) => d.day)).toEqual(['2026-03-01', '2026-03-01', '2026-03-02', '2026-03-02']);
  });

  it('exports the CSV: the header, then one record per day, cluster, namespace, workload and currency', async () => {
    const csv: string = (await read('dan', `costCsv(from: "${twoDays.from}", to: "${twoDays.to}")`)).costCsv;
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(COST_CSV_HEADER.join(','));
    expect(lines.at(-1)).toBe('');
    const daily = [...totals.tables.get('workload_daily')!.values()].filter((r) => r.key.workspace_id === ws);
    expect(lines).toHaveLength(daily.length + 2);
    const api = daily.find((r) => r.key.day === '2026-03-01' && r.key.workload_name === 'api')!.measures;
    const hours = (unitSeconds: bigint, unit: bigint) => formatMicros(roundHalfEven(unitSeconds * 1_000_000n, unit * 3600n));
    expect(lines).toContain(
      [
        '2026-03-01',
        ws,
        team.east,
        'shop',
        'Deployment',
        'api',
        'USD',
        hours(api.cpu_allocated!, 1000n),
        hours(api.memory_allocated!, 2n ** 30n),
        '0.000000',
        '0.050000',
        formatMicros(api.memory_cost!),
        '0.000000',
        '0.000000',
        formatMicros(api.cpu_cost! + api.memory_cost!),
      ].join(','),
    );
    expect(hours(api.cpu_allocated!, 1000n)).toBe('1.000000');
    expect(csv).not.toContain(other.workspaceId);
  });

  it('answers utilization per hour, for the workspace and for one workload', async () => {
    const hour = { from: '2026-03-01T10:00:00Z', to: '2026-03-01T11:00:00Z' };
    const fields = 'start cpuUsageMillicores cpuRequestMillicores memoryUsageBytes memoryRequestBytes';
    expect((await read('dan', `utilizationTrend(from: "${hour.from}", to: "${hour.to}") { ${fields} }`)).utilizationTrend).toEqual([
      { start: '2026-03-01T10:00:00Z', cpuUsageMillicores: 500 + 2500 + 1000, cpuRequestMillicores: 1000 + 2000 + 3000 + 500, memoryUsageBytes: 8 * GiB, memoryRequestBytes: 14 * GiB },
    ]);
    const one = await read('dan', `utilizationTrend(from: "${twoDays.from}", to: "${twoDays.to}", resolution: DAY, namespace: "shop", workloadKind: "Deployment", workloadName: "api") { ${fields} }`);
    expect(one.utilizationTrend).toEqual([
      { start: '2026-03-01', cpuUsageMillicores: 500, cpuRequestMillicores: 1000, memoryUsageBytes: 2 * GiB, memoryRequestBytes: GiB },
      { start: '2026-03-02', cpuUsageMillicores: 300, cpuRequestMillicores: 1000, memoryUsageBytes: 256 * MiB, memoryRequestBytes: 512 * MiB },
    ]);
  });

  it("puts each namespace's quota, per cluster, beside its usage in the cluster's latest sampled hour", async () => {
    const quotaUsage = (await read('dan', 'quotaUsage { namespace clusterId clusterName source cpuUnlimited cpuLimitMillicores memoryUnlimited memoryLimitBytes usage { hour sampledSeconds cpuUsageMillicores cpuRequestMillicores memoryUsageBytes memoryRequestBytes } cpuRequestOfQuota memoryRequestOfQuota }')).quotaUsage;
    const zeros = { cpuUsageMillicores: 0, cpuRequestMillicores: 0, memoryUsageBytes: 0, memoryRequestBytes: 0 };
    const eastHour = { hour: '2026-03-02T09:00:00Z', sampledSeconds: 3600 };
    const westHour = { hour: '2026-03-02T23:00:00Z', sampledSeconds: 1800 };
    const none = { source: 'NONE', cpuUnlimited: false, cpuLimitMillicores: null, memoryUnlimited: false, memoryLimitBytes: null, cpuRequestOfQuota: null, memoryRequestOfQuota: null };
    expect(quotaUsage).toEqual([
      { namespace: 'db', clusterId: team.east, clusterName: 'east', ...none, usage: { ...eastHour, ...zeros } },
      { namespace: 'db', clusterId: team.west, clusterName: 'west', ...none, usage: { ...westHour, ...zeros } },
      {
        namespace: 'shop',
        clusterId: team.east,
        clusterName: 'east',
        source: 'NAMESPACE',
        cpuUnlimited: false,
        cpuLimitMillicores: 2000,
        memoryUnlimited: false,
        memoryLimitBytes: 4 * GiB,
        usage: { ...eastHour, cpuUsageMillicores: 300, cpuRequestMillicores: 1000, memoryUsageBytes: 256 * MiB, memoryRequestBytes: 512 * MiB },
        cpuRequestOfQuota: 0.5,
        memoryRequestOfQuota: 0.125,
      },
      {
        namespace: 'shop',
        clusterId: team.west,
        clusterName: 'west',
        source: 'OVERRIDE',
        cpuUnlimited: false,
        cpuLimitMillicores: 500,
        memoryUnlimited: true,
        memoryLimitBytes: null,
        usage: { ...westHour, cpuUsageMillicores: 200, cpuRequestMillicores: 1000, memoryUsageBytes: 0, memoryRequestBytes: GiB },
        cpuRequestOfQuota: 2,
        memoryRequestOfQuota: null,
      },
    ]);
  });

  it("reports the idle cost of the workspace's clusters as the model does", async () => {
    const idle = (await read('dan', `clusterIdleCost(from: "${day1.from}", to: "${day1.to}") { clusterId currency cpuCapacityMillicores cpuAllocatedMillicores gpuCapacity gpuAllocated cpuIdle memoryIdle gpuIdle idle shared unshared }`)).clusterIdleCost;
    const expected = [team.east, team.west].flatMap((clusterId) =>
      [...totals.tables.get('cluster_daily')!.values()]
        .filter((r) => r.key.cluster_id === clusterId && r.key.day === '2026-03-01')
        .map(({ key, measures: m }) => ({
          clusterId,
          currency: key.currency,
          cpuIdle: formatMicros(m.cpu_idle_cost!),
          memoryIdle: formatMicros(m.memory_idle_cost!),
          gpuIdle: formatMicros(m.gpu_idle_cost!),
          idle: formatMicros(m.cpu_idle_cost! + m.memory_idle_cost! + m.gpu_idle_cost!),
          shared: formatMicros(m.shared_idle_cost!),
          unshared: formatMicros(m.cpu_idle_cost! + m.memory_idle_cost! + m.gpu_idle_cost! - m.shared_idle_cost!),
        })),
    );
    expect(idle.map(({ cpuCapacityMillicores, cpuAllocatedMillicores, gpuCapacity, gpuAllocated, ...money }: any) => money)).toEqual(expected);
    expect(idle.map((c: any) => [c.clusterId, c.cpuCapacityMillicores, c.cpuAllocatedMillicores, c.gpuCapacity, c.gpuAllocated])).toEqual([
      [team.east, 8000, 1000 + 2500 + 500 + 100, 0, 0],
      [team.west, 8000, 3500, 2, 1],
    ]);
    // West shares its idle cost: all of it goes to its workloads; east's is charged to no one.
    expect(idle[1].shared).toBe(idle[1].idle);
    expect(idle[0].shared).toBe('0.000000');
  });

  it('keeps workspaces apart: another workspace sees only its own cost, an outsider nothing', async () => {
    const mine = dataOf(await h.run('zed', onWorkspace(`costTotals(from: "${day1.from}", to: "${day1.to}") { ${AMOUNTS} }`), { id: other.workspaceId }))._entities[0].costTotals;
    expect(mine).toEqual(expectedAmounts(totals, other.workspaceId, day1, () => '').map(strip));
    expect(mine).toHaveLength(1);
    for (const userId of ['eve', 'zed']) {
      expect(dataOf(await h.run(userId, onWorkspace(`costTotals(from: "${day1.from}", to: "${day1.to}") { total } costCsv(from: "${day1.from}", to: "${day1.to}") quotaUsage { namespace }`), { id: ws }))._entities).toEqual([null]);
    }
  });

  it('refuses bad queries with BAD_USER_INPUT naming the field', async () => {
    const cases: [string, string][] = [
      ['costTotals(from: "2026-03-01T10:30:00Z", to: "2026-03-02T00:00:00Z") { total }', 'from'],
      ['costTotals(from: "yesterday", to: "2026-03-02T00:00:00Z") { total }', 'from'],
      ['costTotals(from: "2026-03-02T00:00:00Z", to: "2026-03-01T00:00:00Z") { total }', 'to'],
      ['dailyCost(from: "2026-03-01T10:00:00Z", to: "2026-03-02T00:00:00Z") { total }', 'from'],
      ['topCostWorkloads(from: "2026-03-01", to: "2026-03-02", limit: 0) { rank }', 'limit'],
      ['utilizationTrend(from: "2026-03-01", to: "2026-04-10") { start }', 'to'],
      ['utilizationTrend(from: "2026-03-01", to: "2026-03-02", workloadKind: "Deployment") { start }', 'workloadName'],
      ['utilizationTrend(from: "2026-03-01", to: "2026-03-02", workloadKind: "Deployment", workloadName: "api") { start }', 'namespace'],
      ['costCsv(from: "2026-01-01", to: "2026-06-01")', 'to'],
      ['clusterIdleCost(from: "2026-03-01T00:00:01Z", to: "2026-03-02") { idle }', 'from'],
    ];
    for (const [fields, field] of cases) {
      const error = errorOf(await h.run('dan', onWorkspace(fields), { id: ws }));
      expect([fields, error.code, error.details?.field]).toEqual([fields, ErrorCode.BAD_USER_INPUT, field]);
    }
  });
});
