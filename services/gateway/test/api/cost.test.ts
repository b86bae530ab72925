/**
 * Cost through the composed gateway, end to end: the gateway runs a
 * simulated cluster and samples its usage every second
 * (CANOPY_USAGE_INTERVAL_MS); an organization owner sets the cluster's
 * price book, a viewer may not; a deployment with requests runs; the
 * workspace's cost (queried through the Workspace entity, a plan across the
 * workspaces and cost subgraphs) equals a recomputation from the usage
 * events in the log; its quota sits beside its usage; someone without a
 * role in the workspace gets nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decode, formatMicros, recompute, type CostEvent } from '@canopy/cost';
import { PRICING_STREAM_PREFIX, USAGE_STREAM_PREFIX } from '@canopy/schema';
import { createProject, createTeam, Q, TestGateway, unique, type TeamSetup } from './client.js';
import { eventually } from './ws-client.js';

const HOUR = 3_600_000;
const SET_PRICE_BOOK = `mutation ($input: PriceBookInput!) { setPriceBook(input: $input) { clusterId changed pricing { clusterId } } }`;
const COST = `query ($w: ID!, $from: String!, $to: String!) { workspace(id: $w) { name costTotals(from: $from, to: $to) { currency cpu memory total } costBreakdown(from: $from, to: $to, by: WORKLOAD) { workload { namespace kind name } total } quotaUsage { namespace clusterName source cpuLimitMillicores usage { cpuRequestMillicores } } } }`;
const CLUSTERS = `query ($w: ID!) { workspace(id: $w) { clusters { nodes { id name } } } }`;

let gateway: TestGateway;
let team: TeamSetup;

beforeAll(async () => {
  gateway = await TestGateway.start({ env: { CANOPY_SIMULATED_CLUSTERS: 'sim-east', CANOPY_USAGE_INTERVAL_MS: '1000' } });
  team = await createTeam(gateway);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The workspace's total cost per currency over every interval sampled so far, recomputed from the log's events. */
async function recomputedTotals(workspaceId: string): Promise<Map<string, string>> {
  const events: CostEvent[] = [];
  for await (const event of gateway.store.readAll()) {
    if (event.stream.startsWith(USAGE_STREAM_PREFIX) || event.stream.startsWith(PRICING_STREAM_PREFIX)) events.push(decode(event));
  }
  const sums = new Map<string, bigint>();
  for (const { key, measures } of recompute(events).tables.get('workspace_hourly')!.values()) {
    if (key['workspace_id'] !== workspaceId) continue;
    const currency = String(key['currency']);
    sums.set(currency, (sums.get(currency) ?? 0n) + measures['cpu_cost']! + measures['memory_cost']! + measures['gpu_cost']! + measures['idle_cost']!);
  }
  return new Map([...sums].map(([currency, micros]) => [currency, formatMicros(micros)]));
}

describe('cost through the gateway, on a simulated cluster', () => {
  it('prices the usage the collector samples as the log recomputes it, beside the quota, for members only', async () => {
    const { workspaceId, version } = await createProject(gateway, team);
    let v = (await gateway.ok(team.owner, Q.attachCluster, { workspaceId, expectedVersion: version, name: 'sim-east', simulator: 'sim-east' })).attachCluster.version;
    v = (await gateway.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: v, namespace: 'shop' })).addNamespace.version;
    v = (await gateway.ok(team.owner, Q.setNamespaceQuota, { workspaceId, expectedVersion: v, namespace: 'shop', cpu: '2', memory: '4Gi' })).setNamespaceQuota.version;
    const viewer = unique('viewer');
    await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: v, userId: viewer, role: 'VIEWER' });
    const clusterId = (await gateway.ok(team.owner, CLUSTERS, { w: workspaceId })).workspace.clusters[0].id as string;

    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const priceBook = { clusterId, effectiveFrom: iso(hour), currency: 'EUR', cpuCoreHour: '36', memoryGiBHour: '3.6' };
    // The collector appends usage every second, so "nothing appended" is checked on the cluster's pricing stream.
    const refused = await gateway.gql(viewer, SET_PRICE_BOOK, { input: priceBook });
    expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await gateway.streamEvents(`${PRICING_STREAM_PREFIX}${clusterId}`)).toEqual([]);
    expect((await gateway.ok(team.owner, SET_PRICE_BOOK, { input: priceBook })).setPriceBook).toMatchObject({ clusterId, changed: true });

    const cluster = gateway.running.clusters!.simulated!.clusters.find((c) => c.name === 'sim-east')!;
    await eventually(() => cluster.api.tryGet(cluster.api.resource('v1', 'Namespace'), undefined, 'shop') !== undefined, 'the namespace on the cluster', 30_000);
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1', resources: { requests: { cpu: '500m', memory: '1Gi' } } }] } };
    cluster.api.create(cluster.api.resource('apps/v1', 'Deployment'), 'shop', { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } }, { manager: 'test' });

    // Whole hours around now, so that an hour turning during the test changes nothing.
    const period = { w: workspaceId, from: iso(hour - HOUR), to: iso(hour + 2 * HOUR) };
    const costOf = async () => (await gateway.ok(viewer, COST, period)).workspace;
    await eventually(async () => (await costOf()).costBreakdown.some((row: any) => row.workload.name === 'web' && Number(row.total) > 0), 'the deployment costed', 30_000);

    // The read model trails the log by a moment, and the collector keeps appending: compare until both sides are read at rest.
    let matched: { api: Map<string, string>; log: Map<string, string> } | undefined;
    await eventually(
      async () => {
        const before = await recomputedTotals(workspaceId);
        const api = new Map<string, string>(((await costOf()).costTotals as any[]).map((row) => [row.currency, row.total]));
        const after = await recomputedTotals(workspaceId);
        if (JSON.stringify([...before]) === JSON.stringify([...api]) && JSON.stringify([...after]) === JSON.stringify([...api])) matched = { api, log: after };
        return matched !== undefined;
      },
      'the API total to equal the recomputation from the log',
      30_000,
    );
    expect([...matched!.api.keys()]).toEqual(['EUR']);
    expect(Number(matched!.api.get('EUR'))).toBeGreaterThan(0);

    const cost = await costOf();
    const shop = cost.quotaUsage.find((row: any) => row.namespace === 'shop');
    expect(shop).toMatchObject({ clusterName: 'sim-east', source: 'NAMESPACE', cpuLimitMillicores: 2000 });
    // Two pods requesting 500m each; the latest sampled hour averages over the time sampled, the deployment's first seconds included.
    expect(shop.usage.cpuRequestMillicores).toBeGreaterThan(0);
    expect(shop.usage.cpuRequestMillicores).toBeLessThanOrEqual(1000);

    // Someone without a role in the workspace: it does not exist for them.
    const outsider = unique('outsider');
    const hidden = (await gateway.gql(outsider, COST, period)).body;
    expect(hidden.data?.workspace ?? null).toBeNull();
    expect(JSON.stringify(hidden)).not.toContain('EUR');
  }, 90_000);
});
