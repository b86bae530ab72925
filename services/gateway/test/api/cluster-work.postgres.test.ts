/**
 * Two gateway processes' worth of servers on one PostgreSQL schema, and one
 * simulated cluster both reach through its kubeconfig: one of them leads and
 * runs the cluster work (the reconciler applies, the watcher records each
 * workload change once), the other serves the same API — the cluster's sync
 * state as the leader recorded it — and stands by. When
 * the leader stops, the other takes over: it applies what changed since and
 * reports the cluster in sync.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requirePostgresUrl } from '@canopy/eventstore/testing';
import { startDemoClusters, type DemoClusters } from '@canopy/kube';
import { createProject, createTeam, Q, TestGateway, type TeamSetup } from './client.js';
import { GatewayPair } from './gateway-pair.js';
import { eventually } from './ws-client.js';

const url = requirePostgresUrl();
const SYNC = `query ($w: ID!) { workspace(id: $w) { clusters { nodes { name sync { state } } } } }`;

let pair: GatewayPair;
let a: TestGateway;
let b: TestGateway;
let schema: string;
let team: TeamSetup;
let clusterDir: string;
let cluster: DemoClusters;

beforeAll(async () => {
  clusterDir = await mkdtemp(join(tmpdir(), 'canopy-lead-'));
  cluster = await startDemoClusters({ directory: clusterDir, names: ['shared'] });
  pair = await GatewayPair.start(url, 'canopy_lead', { CANOPY_LEADERSHIP_INTERVAL_MS: '200' });
  ({ a, b, schema } = pair);
  team = await createTeam(a);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
  await cluster?.stop();
  if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
});

async function leads(gateway: TestGateway): Promise<boolean> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('canopy_cluster_work_leader '));
  if (!line) throw new Error('canopy_cluster_work_leader is missing from /metrics');
  return line.endsWith(' 1');
}

const api = () => cluster.clusters[0]!.api;
const namespaceExists = (name: string) => api().tryGet(api().resource('v1', 'Namespace'), undefined, name) !== undefined;

describe('the cluster work in a deployment of several processes', () => {
  it('runs in the one process that leads, and moves to the other when it stops', async () => {
    expect([await leads(a), await leads(b)]).toEqual([true, false]);
    const health = async (gateway: TestGateway) => ((await (await fetch(`${gateway.url}/healthz`)).json()) as { clusterWork: unknown }).clusterWork;
    expect(await health(a)).toEqual({ leading: true, leadership: `PostgreSQL advisory lock "canopy-cluster-work:${schema}"`, running: ['reconciler', 'workload-watcher', 'velero-driver', 'backup-schedules', 'usage-collector'] });
    expect(await health(b)).toMatchObject({ leading: false, running: [] });

    const { workspaceId, version } = await createProject(b, team);
    let v = (await b.ok(team.owner, Q.attachCluster, { workspaceId, expectedVersion: version, name: 'shared', kubeconfig: { path: cluster.kubeconfigs['shared'], context: null }, simulator: null })).attachCluster
      .version;
    v = (await b.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: v, namespace: 'shop' })).addNamespace.version;
    await eventually(() => namespaceExists('shop'), 'the leader to apply the namespace');
    await eventually(async () => (await a.ok(team.owner, SYNC, { w: workspaceId })).workspace.clusters[0]?.sync?.state === 'IN_SYNC', 'the leader to report the cluster in sync');
    // The standby runs no reconciler: it shows the outcome the leader recorded on the log.
    await eventually(async () => (await b.ok(team.owner, SYNC, { w: workspaceId })).workspace.clusters[0]?.sync?.state === 'IN_SYNC', 'the standby to show the recorded outcome');

    // A deployment's changes are recorded once: one watcher in the deployment.
    const deployments = api().resource('apps/v1', 'Deployment');
    const template = { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'shop', image: 'shop:1' }] } };
    api().create(deployments, 'shop', { metadata: { name: 'shop' }, spec: { replicas: 2, selector: { matchLabels: { app: 'shop' } }, template } }, { manager: 'test' });
    const listed = async (gateway: TestGateway) =>
      (await gateway.ok(team.owner, `query ($w: ID!) { workspace(id: $w) { workloads(kind: [DEPLOYMENT]) { nodes { name status replicas { ready } } } } }`, { w: workspaceId })).workspace.workloads;
    await eventually(async () => (await listed(b))[0]?.replicas?.ready === 2, 'the deployment running, seen through the standby');
    const recorded: { name: string; status: string; replicas: { ready: number } | null }[] = [];
    for await (const event of a.store.readStream(`workloads-${workspaceId}`)) {
      const data = event.data as { kind: string; name: string; status: string; replicas: { ready: number } | null };
      if (data.kind === 'Deployment') recorded.push({ name: data.name, status: data.status, replicas: data.replicas && { ready: data.replicas.ready } });
    }
    expect(recorded.length).toBeGreaterThan(0);
    expect(new Set(recorded.map((r) => JSON.stringify(r))).size).toBe(recorded.length);

    await a.stop();
    await eventually(() => leads(b), 'the standby to take over');
    expect(await health(b)).toMatchObject({ leading: true, running: ['reconciler', 'workload-watcher', 'velero-driver', 'backup-schedules', 'usage-collector'] });
    v = (await b.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: v, namespace: 'checkout' })).addNamespace.version;
    await eventually(() => namespaceExists('checkout'), 'the new leader to apply the next change');
    await eventually(async () => (await b.ok(team.owner, SYNC, { w: workspaceId })).workspace.clusters[0]?.sync?.state === 'IN_SYNC', 'the new leader to report the cluster in sync');

    // Taking over, its watcher starts from the state the log holds: nothing recorded again.
    const before = recorded.length;
    const again: string[] = [];
    for await (const event of b.store.readStream(`workloads-${workspaceId}`)) {
      const data = event.data as { kind: string; name: string; status: string };
      if (data.kind === 'Deployment') again.push(`${data.name} ${data.status}`);
    }
    expect(again).toHaveLength(before);
  }, 120_000);
});
