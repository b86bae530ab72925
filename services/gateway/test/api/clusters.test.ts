/**
 * The reconciler in the gateway's process, end to end: a workspace with the
 * two simulated clusters the gateway runs (CANOPY_SIMULATED_CLUSTERS) gets
 * its namespace and quota on both, the API shows each cluster in sync; one
 * cluster made unreachable is shown so, with the reason, while a change
 * reaches the other; back, it converges and shows in sync again. And the
 * workloads on the clusters come back as live status: a deployment created
 * and scaled on a cluster arrives over graphql-ws in order, and the
 * workloads query shows it (the Workspace entity extended by the workloads
 * subgraph, through the query planner).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProject, createTeam, Q, TestGateway, type TeamSetup } from './client.js';
import { eventually, WsClient } from './ws-client.js';

const CLUSTERS = `query ($w: ID!) { workspace(id: $w) { clusters { nodes { name sync { state reason message } } } } }`;

let gateway: TestGateway;
let team: TeamSetup;

beforeAll(async () => {
  gateway = await TestGateway.start({ env: { CANOPY_SIMULATED_CLUSTERS: 'sim-east,sim-west' } });
  team = await createTeam(gateway);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

function simulated(name: string) {
  const cluster = gateway.running.clusters?.simulated?.clusters.find((c) => c.name === name);
  if (!cluster) throw new Error(`the gateway runs no simulated cluster ${name}`);
  return cluster;
}

/** The ResourceQuota Canopy applied in `namespace` on a simulated cluster, if any. */
function quotaOn(name: string, namespace: string): { hard: Record<string, string> } | undefined {
  const api = simulated(name).api;
  const quotas = api.list(api.resource('v1', 'ResourceQuota'), { namespace }).items as { metadata: { labels?: Record<string, string> }; spec: { hard: Record<string, string> } }[];
  const ours = quotas.find((q) => q.metadata.labels?.['app.kubernetes.io/managed-by'] === 'canopy');
  return ours && { hard: ours.spec.hard };
}

async function states(workspaceId: string): Promise<Record<string, { state: string; reason: string | null }>> {
  const data = await gateway.ok(team.owner, CLUSTERS, { w: workspaceId });
  return Object.fromEntries((data.workspace.clusters as { name: string; sync: { state: string; reason: string | null } | null }[]).map((c) => [c.name, { state: c.sync?.state ?? 'none', reason: c.sync?.reason ?? null }]));
}

describe('clusters: the reconciler applies the workspace and the API shows each cluster’s state', () => {
  it('applies to both clusters, reports the unreachable one with the reason, and converges when it returns', async () => {
    const { workspaceId, version } = await createProject(gateway, team);
    let v = version;
    for (const name of ['sim-east', 'sim-west']) v = (await gateway.ok(team.owner, Q.attachCluster, { workspaceId, expectedVersion: v, name, simulator: name })).attachCluster.version;
    v = (await gateway.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: v, namespace: 'shop' })).addNamespace.version;
    v = (await gateway.ok(team.owner, Q.setNamespaceQuota, { workspaceId, expectedVersion: v, namespace: 'shop', cpu: '2', memory: '4Gi' })).setNamespaceQuota.version;

    await eventually(() => quotaOn('sim-east', 'shop')?.hard['requests.cpu'] === '2' && quotaOn('sim-west', 'shop')?.hard['requests.cpu'] === '2', 'the quota on both clusters');
    await eventually(async () => Object.values(await states(workspaceId)).every((s) => s.state === 'IN_SYNC'), 'both clusters in sync');

    await simulated('sim-west').setFault('unreachable');
    v = (await gateway.ok(team.owner, Q.setNamespaceQuota, { workspaceId, expectedVersion: v, namespace: 'shop', cpu: '3', memory: '4Gi' })).setNamespaceQuota.version;
    await eventually(() => quotaOn('sim-east', 'shop')?.hard['requests.cpu'] === '3', 'the change on the reachable cluster');
    await eventually(async () => (await states(workspaceId))['sim-west']?.state === 'UNREACHABLE', 'the dead cluster reported unreachable');
    expect((await states(workspaceId))['sim-west']!.reason).toBeTruthy();
    expect((await states(workspaceId))['sim-east']).toEqual({ state: 'IN_SYNC', reason: null });

    await simulated('sim-west').setFault('healthy');
    await eventually(() => quotaOn('sim-west', 'shop')?.hard['requests.cpu'] === '3', 'the returned cluster to converge', 90_000);
    await eventually(async () => (await states(workspaceId))['sim-west']?.state === 'IN_SYNC', 'the returned cluster in sync', 30_000);
  }, 150_000);

  it('streams a deployment’s status as it is created and scaled on a cluster, and lists it', async () => {
    const { workspaceId, version } = await createProject(gateway, team);
    let v = (await gateway.ok(team.owner, Q.attachCluster, { workspaceId, expectedVersion: version, name: 'sim-east', simulator: 'sim-east' })).attachCluster.version;
    v = (await gateway.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: v, namespace: 'web' })).addNamespace.version;
    await eventually(() => simulated('sim-east').api.tryGet(simulated('sim-east').api.resource('v1', 'Namespace'), undefined, 'web') !== undefined, 'the namespace on the cluster');

    const client = await WsClient.as(gateway, team.owner);
    try {
      const stream = client.subscribe(`subscription ($w: ID!) { workloadStatus(workspaceId: $w, namespace: "web") { cursor change kind name status replicas { desired ready } } }`, { w: workspaceId });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const api = simulated('sim-east').api;
      const deployments = api.resource('apps/v1', 'Deployment');
      const template = { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'shop', image: 'shop:1' }] } };
      api.create(deployments, 'web', { metadata: { name: 'shop' }, spec: { replicas: 1, selector: { matchLabels: { app: 'shop' } }, template } }, { manager: 'test' });
      const deployment = () => stream.results.map((r) => (r.data as any)?.workloadStatus).filter((w) => w?.kind === 'DEPLOYMENT' && w.name === 'shop');
      await stream.until(() => deployment().some((w) => w.status === 'RUNNING' && w.replicas?.ready === 1), 'the deployment running', 30_000);

      const current = api.get(deployments, 'web', 'shop') as any;
      api.update(deployments, 'web', 'shop', { ...current, spec: { ...current.spec, replicas: 3 } }, { manager: 'test' });
      await stream.until(() => deployment().some((w) => w.status === 'RUNNING' && w.replicas?.desired === 3 && w.replicas?.ready === 3), 'the deployment scaled to 3', 30_000);

      const statuses = deployment().map((w) => w.status);
      expect(statuses[0]).not.toBe('RUNNING');
      expect(statuses).toContain('RUNNING');
      const cursors = stream.results.map((r) => BigInt((r.data as any).workloadStatus.cursor));
      expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(stream.error).toBeUndefined();

      let listed = await gateway.ok(team.owner, `query ($w: ID!) { workspace(id: $w) { workloads(kind: [DEPLOYMENT]) { nodes { name status replicas { desired ready } } } } }`, { w: workspaceId });
      for (let tries = 0; listed.workspace.workloads[0]?.replicas?.ready !== 3 && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await gateway.ok(team.owner, `query ($w: ID!) { workspace(id: $w) { workloads(kind: [DEPLOYMENT]) { nodes { name status replicas { desired ready } } } } }`, { w: workspaceId });
      }
      expect(listed.workspace.workloads).toEqual([{ name: 'shop', status: 'RUNNING', replicas: { desired: 3, ready: 3 } }]);
    } finally {
      await client.dispose();
    }
  }, 90_000);
});
