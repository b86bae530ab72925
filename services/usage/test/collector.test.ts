import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { costProjector, dailyCost, decode, recompute, type CostEvent } from '@canopy/cost';
import { EventLog, openEventStore, type OpenedEventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { openKeyStore, type OpenedKeyStore } from '@canopy/keystore';
import { ClusterConnector, ManualClock, simulatorDirectory, startSimulatedCluster, type SimulatedCluster } from '@canopy/kube';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { canopyEventRegistry, usageStream, type PayloadOf, type UsageSampled } from '@canopy/schema';
import { startWorkspacesService, type CommandContext, type WorkspaceCommand, type WorkspacesService } from '@canopy/workspaces';
import { startUsageCollector, type CollectionReport, type UsageCollector, type UsageLogger } from '../src/index.js';

const ada: CommandContext = { userId: 'ada' };
const MINUTE = 60_000;

function deployment(name: string, replicas: number, cpu: string, memory: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: `${name}:1`, resources: { requests: { cpu, memory } } }] } },
    },
  };
}

/** Half to even of n / d (n, d ≥ 0). */
function roundHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twice = (n % d) * 2n;
  return twice > d || (twice === d && q % 2n === 1n) ? q + 1n : q;
}
const micros = (value: bigint) => `${value / 1_000_000n}.${String(value % 1_000_000n).padStart(6, '0')}`;

describe('the usage collector over simulated clusters, into the cost read model', () => {
  const clock = new ManualClock(Date.parse('2026-03-01T23:55:00Z'));
  let opened: OpenedEventStore;
  let keys: OpenedKeyStore;
  let log: EventLog;
  let workspaces: WorkspacesService;
  let east: SimulatedCluster;
  let west: SimulatedCluster;
  let collector: UsageCollector;
  let readModels: ReadModelDb;
  let runner: ProjectionRunner;
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  const logger: UsageLogger = { info: () => {}, warn: (details, message) => warnings.push({ details: details as Record<string, unknown>, message }), error: () => {} };
  let web: string;
  let data: string;
  const ids = { webEast: '', webWest: '', dataEast: '' };
  const reports: CollectionReport[] = [];

  async function toNextBoundary(): Promise<CollectionReport> {
    const next = (Math.floor(clock.now() / MINUTE) + 1) * MINUTE;
    clock.advance(next - clock.now());
    await Promise.all([east.settled(), west.settled()]);
    await collector.settled();
    // The timer's collection ran; `collect` for the same interval appends nothing new and reports what it saw.
    const report = await collector.collect(next);
    reports.push(report);
    return report;
  }

  async function usageEvents(): Promise<ReadDomainEvent[]> {
    const events: ReadDomainEvent[] = [];
    for await (const event of opened.store.readAll()) if (event.stream.startsWith('usage-')) events.push(log.upcast(event));
    return events;
  }

  beforeAll(async () => {
    opened = await openEventStore({ kind: 'pglite' });
    keys = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
    log = new EventLog(opened.store, canopyEventRegistry(), () => new Date(clock.now()));
    workspaces = await startWorkspacesService({ log, keys: keys.keys });
    const podTiming = { scheduleMs: 100, startMs: 200 };
    [east, west] = await Promise.all([
      startSimulatedCluster({ name: 'east', clock, nodes: 2, podTiming, namespaces: ['shop', 'db', 'analytics'] }),
      startSimulatedCluster({ name: 'west', clock, nodes: 1, podTiming, namespaces: ['shop'] }),
    ]);

    const { organizationId } = await workspaces.commands.createOrganization(ada, { name: 'Acme', kind: 'team' });
    web = (await workspaces.commands.createWorkspace(ada, { organizationId, name: 'web', kind: 'project' })).workspaceId;
    data = (await workspaces.commands.createWorkspace(ada, { organizationId, name: 'data', kind: 'project' })).workspaceId;
    const run = (workspaceId: string) => (command: WorkspaceCommand) => workspaces.commands.workspaceCommand(ada, workspaceId, workspaces.directory.workspace(workspaceId)!.version, command, () => command);
    ids.webEast = `${web}-east`;
    ids.webWest = `${web}-west`;
    ids.dataEast = `${data}-east`;
    for (const namespace of ['shop', 'db']) await run(web)({ type: 'AddNamespace', namespace });
    await run(web)({ type: 'AttachCluster', clusterId: ids.webEast, name: 'east', connection: { kind: 'simulator', simulator: 'east' } });
    await run(web)({ type: 'AttachCluster', clusterId: ids.webWest, name: 'west', connection: { kind: 'simulator', simulator: 'west' } });
    await run(data)({ type: 'AddNamespace', namespace: 'analytics' });
    // The same cluster, attached by a second workspace under an id of its own: sampled once.
    await run(data)({ type: 'AttachCluster', clusterId: ids.dataEast, name: 'east', connection: { kind: 'simulator', simulator: 'east' } });

    const create = (cluster: SimulatedCluster, namespace: string, body: ReturnType<typeof deployment>) => cluster.api.create(cluster.api.resource('apps/v1', 'Deployment'), namespace, body, { manager: 'test' });
    create(east, 'shop', deployment('storefront', 3, '500m', '512Mi'));
    create(east, 'db', deployment('cache', 1, '250m', '1Gi'));
    create(east, 'analytics', deployment('etl', 2, '1', '2Gi'));
    create(east, 'kube-system', deployment('coredns', 2, '100m', '70Mi'));
    create(west, 'shop', deployment('storefront', 2, '500m', '512Mi'));

    readModels = await openReadModelDb({ kind: 'pglite' });
    runner = new ProjectionRunner({ store: opened.store, db: readModels, projectors: [costProjector] });
    await runner.start();

    collector = startUsageCollector({ log, directory: workspaces.directory, connector: new ClusterConnector(simulatorDirectory([east, west])), clock, logger });
  }, 60_000);

  afterAll(async () => {
    await collector?.close();
    await runner?.stop();
    await readModels?.close();
    await Promise.all([east?.stop(), west?.stop()]);
    await workspaces?.close();
    await keys?.close();
    await opened?.close();
  });

  it('appends one UsageSampled per cluster and interval, a cluster attached twice sampled once under its smallest id', async () => {
    for (let i = 0; i < 4; i++) await toNextBoundary();
    const eastId = [ids.webEast, ids.dataEast].sort()[0]!;
    const events = await usageEvents();
    expect(events.map((e) => e.stream).sort()).toEqual([...Array(4).fill(usageStream(eastId)), ...Array(4).fill(usageStream(ids.webWest))].sort());
    const last = reports.at(-1)!;
    expect(last).toMatchObject({ start: '2026-03-01T23:58:00Z', end: '2026-03-01T23:59:00Z', skipped: [] });
    expect(last.sampled.map((s) => s.clusterId).sort()).toEqual([eastId, ids.webWest].sort());

    const sample = events.filter((e) => e.stream === usageStream(eastId)).at(-1)!.data as PayloadOf<typeof UsageSampled>;
    expect(sample).toMatchObject({ clusterId: eastId, start: '2026-03-01T23:58:00Z', end: '2026-03-01T23:59:00Z', capacity: { cpu: 8000, memory: 32 * 2 ** 30, gpus: 0 } });
    expect(sample.rows.map((r) => [r.workspaceId, r.namespace, r.kind, r.name, r.pods, r.cpuRequest, r.memoryRequest])).toEqual([
      [null, 'kube-system', 'Deployment', 'coredns', 2, 200, 2 * 70 * 2 ** 20],
      [data, 'analytics', 'Deployment', 'etl', 2, 2000, 4 * 2 ** 30],
      [web, 'db', 'Deployment', 'cache', 1, 250, 2 ** 30],
      [web, 'shop', 'Deployment', 'storefront', 3, 1500, 3 * 512 * 2 ** 20],
    ].sort((a, b) => String(a[0] ?? '').localeCompare(String(b[0] ?? ''))));
    // Usage is the simulated metrics: between 20% and 120% of each request.
    for (const row of sample.rows) {
      expect(row.cpuUsage).toBeGreaterThanOrEqual(Math.floor(row.cpuRequest * 0.2));
      expect(row.cpuUsage).toBeLessThanOrEqual(Math.ceil(row.cpuRequest * 1.2));
    }
  });

  it('skips an unreachable cluster with a logged reason and keeps sampling the others', async () => {
    await west.setFault('unreachable');
    const report = await toNextBoundary();
    expect(report.sampled.map((s) => s.clusterId)).not.toContain(ids.webWest);
    expect(report.skipped).toEqual([{ clusterId: ids.webWest, reason: 'unreachable', message: expect.any(String) }]);
    expect(warnings.at(-1)).toMatchObject({ message: 'usage collector: cluster not sampled for this interval', details: { clusterId: ids.webWest, reason: 'unreachable' } });
    await west.setFault('healthy');
    // Past midnight: the next samples go to the next day.
    for (let i = 0; i < 3; i++) expect((await toNextBoundary()).skipped).toEqual([]);
  });

  it('yields cost figures equal to a recomputation from the usage events, and a rebuild gives the same cents', async () => {
    const events = await usageEvents();
    expect(events).toHaveLength(4 * 2 + 1 + 3 * 2);
    const head = await opened.store.headPosition();
    expect(await runner.waitFor(['cost'], head!, 20_000)).toBe(true);
    const schema = runner.activeSchema('cost');
    const period = { from: '2026-03-01', to: '2026-03-03' };

    // By hand: each row's max(request, usage) × 60 s at the default prices, rounded half to even once per row and resource.
    const expected = new Map<string, { cpu: bigint; memory: bigint }>();
    for (const event of events) {
      const sample = event.data as PayloadOf<typeof UsageSampled>;
      const seconds = BigInt((Date.parse(sample.end) - Date.parse(sample.start)) / 1000);
      const day = sample.start.slice(0, 10);
      for (const row of sample.rows) {
        const key = `${row.workspaceId ?? ''}|${day}`;
        const sum = expected.get(key) ?? { cpu: 0n, memory: 0n };
        sum.cpu += roundHalfEven(BigInt(Math.max(row.cpuRequest, row.cpuUsage)) * seconds * 31_611_000n, 1000n * 3600n * 1000n);
        sum.memory += roundHalfEven(BigInt(Math.max(row.memoryRequest, row.memoryUsage)) * seconds * 4_237_000n, 2n ** 30n * 3600n * 1000n);
        expected.set(key, sum);
      }
    }
    const byHand = (workspaceId: string) =>
      ['2026-03-01', '2026-03-02'].map((day) => {
        const { cpu, memory } = expected.get(`${workspaceId}|${day}`)!;
        return { day, currency: 'USD', cpu: micros(cpu), memory: micros(memory), gpu: '0.000000', idle: '0.000000', total: micros(cpu + memory) };
      });
    const figures = async () => ({
      web: await readModels.transaction((tx) => dailyCost(tx, schema, { workspaceId: web, ...period })),
      data: await readModels.transaction((tx) => dailyCost(tx, schema, { workspaceId: data, ...period })),
    });
    const before = await figures();
    expect(before.web).toEqual(byHand(web));
    expect(before.data).toEqual(byHand(data));
    expect(Number(before.web[0]!.total)).toBeGreaterThan(0);

    // The library's auditor (`recompute`, in memory) agrees with the hand computation per workspace and day.
    const totals = recompute(events.map((event) => decode(event) as CostEvent));
    const audited = new Map<string, { cpu: bigint; memory: bigint }>();
    for (const { key, measures } of totals.tables.get('workspace_daily')!.values()) {
      const id = `${key['workspace_id']}|${key['day']}`;
      const sum = audited.get(id) ?? { cpu: 0n, memory: 0n };
      sum.cpu += measures['cpu_cost']!;
      sum.memory += measures['memory_cost']!;
      audited.set(id, sum);
    }
    expect(audited).toEqual(expected);

    await runner.rebuild('cost');
    const rebuilt = await figures();
    expect(rebuilt).toEqual(before);
    const rows = await readModels.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${runner.activeSchema('cost')}.workload_daily`);
    expect(Number(rows[0]!.n)).toBe(new Set(events.flatMap((e) => (e.data as PayloadOf<typeof UsageSampled>).rows.map((r) => `${r.workspaceId}|${r.namespace}|${r.name}|${(e.data as PayloadOf<typeof UsageSampled>).clusterId}|${(e.data as PayloadOf<typeof UsageSampled>).start.slice(0, 10)}`))).size);
  });

  it('samples an interval once: collecting it again appends nothing', async () => {
    const before = (await usageEvents()).length;
    const end = Math.floor(clock.now() / MINUTE) * MINUTE;
    await collector.collect(end);
    expect((await usageEvents()).length).toBe(before);
    await expect(collector.collect(end + 1)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
