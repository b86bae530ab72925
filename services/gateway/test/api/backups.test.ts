/**
 * Backups through the composed gateway, end to end: a workspace with two
 * simulated clusters run by the gateway itself (CANOPY_SIMULATED_CLUSTERS),
 * one of them made unreachable; an on-demand backup reaches the healthy
 * cluster's Velero as a Backup object, the other is recorded as skipped
 * with the reason; the progress arrives over graphql-ws in order until the
 * backup completes; the workspace's backups list it through the Workspace
 * entity (a query plan across the workspaces and backups subgraphs); a
 * restore reaches the cluster's Restore object; a viewer may read but not
 * back up.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProject, createTeam, Q, TestGateway, unique, type TeamSetup } from './client.js';
import { WsClient, eventually } from './ws-client.js';

const LOCATION = `mutation ($w: ID!) { addWorkspaceBackupLocation(workspaceId: $w, location: { name: "primary", provider: AWS, bucket: "canopy-backups", credentials: { secretName: "cloud-credentials", key: "cloud" } }) { id changed } }`;
const BACKUP_NOW = `mutation ($w: ID!, $location: ID!) { backupNow(workspaceId: $w, backup: { prefix: "before-upgrade", locationId: $location, namespaces: ["shop"], expiry: "7d" }) { id changed } }`;
const RESTORE = `mutation ($b: ID!) { restoreBackup(backupId: $b, options: { includeClusterResources: false, preserveNodePorts: true, restorePersistentVolumes: true }) { id changed } }`;
const PROGRESS = `subscription ($w: ID!, $b: ID) { backupProgress(workspaceId: $w, backupId: $b) { cursor kind backupId status cluster { clusterName phase skipReason itemsDone totalItems } progress { percent } } }`;
const WORKSPACE_BACKUPS = `query ($w: ID!) { workspace(id: $w) { name backups(first: 10) { nodes { id name status clusters { skipped } clusterDetails { clusterName phase skipReason } } } } }`;

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

describe('backups through the gateway, on simulated clusters with Velero', () => {
  it('backs up the healthy cluster, skips the unreachable one with the reason, streams the progress until it finishes, and restores', async () => {
    const { workspaceId, version } = await createProject(gateway, team);
    let v = version;
    for (const name of ['sim-east', 'sim-west']) v = (await gateway.ok(team.owner, Q.attachCluster, { workspaceId, expectedVersion: v, name, simulator: name })).attachCluster.version;
    v = (await gateway.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: v, namespace: 'shop' })).addNamespace.version;
    const viewer = unique('viewer');
    await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: v, userId: viewer, role: 'VIEWER' });
    const location = (await gateway.ok(team.owner, LOCATION, { w: workspaceId })).addWorkspaceBackupLocation.id;

    const refused = await gateway.expectLogUnchanged(() => gateway.expectError(viewer, BACKUP_NOW, { w: workspaceId, location }, 'FORBIDDEN'));
    expect(refused).toBeTruthy();

    await simulated('sim-west').setFault('unreachable');
    const watcher = await WsClient.as(gateway, viewer);
    try {
      const everything = watcher.subscribe(PROGRESS, { w: workspaceId });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const backupId = (await gateway.ok(team.owner, BACKUP_NOW, { w: workspaceId, location })).backupNow.id as string;

      await eventually(() => everything.results.some((r) => (r.data as any)?.backupProgress.kind === 'CLUSTER_COMPLETED'), 'the backup to finish', 30_000).catch((error) => {
        throw new Error(`${(error as Error).message}: ${JSON.stringify({ results: everything.results, error: everything.error, log: gateway.logLines.filter((l) => /backup|velero/i.test(l)).slice(-15) })}`);
      });
      const items = everything.results.map((r) => (r.data as any).backupProgress);
      expect(items[0]).toMatchObject({ kind: 'REQUESTED', backupId });
      // A backup that had to skip a cluster is not complete: it finishes PARTIALLY_FAILED, the skipped cluster named.
      expect(items.at(-1)).toMatchObject({ kind: 'CLUSTER_COMPLETED', status: 'PARTIALLY_FAILED', progress: { percent: 100 }, cluster: { clusterName: 'sim-east', phase: 'COMPLETED' } });
      const cursors = items.map((item) => BigInt(item.cursor));
      expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(items.every((item) => item.cluster === null || item.cluster.clusterName === 'sim-east')).toBe(true);

      // Velero's Backup object on the healthy cluster, named after the Canopy backup; nothing on the other.
      const backups = simulated('sim-east').api.list(simulated('sim-east').api.resource('velero.io/v1', 'Backup'), { namespace: 'velero' }).items as any[];
      expect(backups.map((b) => b.spec.includedNamespaces)).toEqual([['shop']]);

      // The read model follows the log: a moment after the subscription saw the last event, the query shows it too.
      let listed = await gateway.ok(viewer, WORKSPACE_BACKUPS, { w: workspaceId });
      for (let tries = 0; listed.workspace.backups[0]?.status !== 'PARTIALLY_FAILED' && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await gateway.ok(viewer, WORKSPACE_BACKUPS, { w: workspaceId });
      }
      expect(listed.workspace.backups).toEqual([
        expect.objectContaining({
          id: backupId,
          status: 'PARTIALLY_FAILED',
          clusters: { skipped: 1 },
          clusterDetails: expect.arrayContaining([
            { clusterName: 'sim-east', phase: 'COMPLETED', skipReason: null },
            { clusterName: 'sim-west', phase: null, skipReason: 'UNREACHABLE' },
          ]),
        }),
      ]);

      // A subscription to the finished backup replays it and completes.
      const replay = watcher.subscribe(PROGRESS, { w: workspaceId, b: backupId });
      await replay.ended(15_000);
      expect(replay.results.map((r) => (r.data as any).backupProgress.cursor)).toEqual(items.map((item) => item.cursor));

      await simulated('sim-west').setFault('healthy');
      const restoreId = (await gateway.ok(team.owner, RESTORE, { b: backupId })).restoreBackup.id as string;
      expect(restoreId).toBeTruthy();
      await eventually(() => (simulated('sim-east').api.list(simulated('sim-east').api.resource('velero.io/v1', 'Restore'), { namespace: 'velero' }).items as any[]).length === 1, 'the Restore object', 15_000);
      const [restore] = simulated('sim-east').api.list(simulated('sim-east').api.resource('velero.io/v1', 'Restore'), { namespace: 'velero' }).items as any[];
      expect(restore.spec).toMatchObject({ backupName: backups[0].metadata.name, includeClusterResources: false, preserveNodePorts: true, restorePVs: true });
    } finally {
      await watcher.dispose();
    }
  }, 90_000);
});
