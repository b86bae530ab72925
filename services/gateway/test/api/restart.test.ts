import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog, openPgliteEventStore, type RecordedEvent } from '@canopy/eventstore';
import { loadOrCreateDevMasterKey, openKeyStore } from '@canopy/keystore';
import { canopyEventRegistry } from '@canopy/schema';
import { DEV_MASTER_KEY_FILE } from '../../src/gateway.js';
import { createTeam, Q, TestGateway, unique, type TeamSetup } from './client.js';

/**
 * The gateway keeps nothing that the log and the key store do not: after a restart on the same data
 * directory it serves the same state, and it finishes a deletion that a crash left half done.
 *
 * One restart serves the whole file (each costs seconds): the setup builds a workspace with everything in
 * it and a second one whose deletion "crashed" half way (WorkspaceClosed appended straight to the log while
 * the gateway is down, without WorkspaceDeleted), then restarts the gateway once.
 */
describe('API: restarts', () => {
  let gateway: TestGateway;
  let team: TeamSetup;
  const viewer = unique('viewer');
  const key = unique('key');
  /** The workspace with state, its version before the restart, and the answer to a keyed mutation. */
  let kept: string;
  let version: number;
  let keyed: { version: number };
  /** The workspace whose deletion was interrupted. */
  let halfDeleted: string;
  let before: unknown;
  let headBefore: bigint;

  /** What the API shows, leaving out the half-deleted workspace (and so the organization's version, which its deletion moves). */
  const snapshot = async () => ({
      workspace: (await gateway.ok(team.owner, Q.workspace, { id: kept })).workspace,
      workspaces: ((await gateway.ok(team.owner, Q.workspaces, {})).workspaces as { id: string }[]).filter((w) => w.id !== halfDeleted),
      organizations: ((await gateway.ok(team.owner, Q.organizations)).organizations as { version: number; workspaces: { id: string }[] }[]).map(({ version: _, ...organization }) => ({
        ...organization,
        workspaces: organization.workspaces.filter((w) => w.id !== halfDeleted),
      })),
      viewer: (await gateway.ok(viewer, Q.workspaces, {})).workspaces,
      viewerPermissions: (await gateway.ok(viewer, Q.myPermissions, { workspaceId: kept })).myPermissions,
    });

  beforeAll(async () => {
    gateway = await TestGateway.start();
    team = await createTeam(gateway);
    kept = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'kept', kind: 'ENVIRONMENT', stage: 'staging' })).createWorkspace.workspaceId;
    version = 0;
    const run = async (query: string, variables: Record<string, unknown>) => {
      const data = await gateway.ok(team.owner, query, { workspaceId: kept, expectedVersion: version, ...variables });
      version = (Object.values(data)[0] as { version: number }).version;
      return data;
    };
    await run(Q.describeWorkspace, { description: 'Survives restarts.' });
    await run(Q.addMember, { userId: viewer, role: 'VIEWER' });
    const cluster = (await run(Q.attachCluster, { name: 'sim', simulator: 'small' })).attachCluster.clusterId;
    await run(Q.addNamespace, { namespace: 'api' });
    await run(Q.setWorkspaceBudget, { cpu: '4', memory: '8Gi' });
    await run(Q.setNamespaceQuota, { namespace: 'api', clusterId: cluster, cpu: '2', memory: '4Gi' });
    await run(Q.addRoleBinding, { binding: { name: 'devs', namespaces: ['/^a/'], roleKind: 'ClusterRole', roleName: 'edit', subjects: [{ kind: 'Group', name: 'devs' }] } });
    await run(Q.restrictImage, { namespace: 'api', image: 'busybox:*' });
    await run(Q.writeSecret, { name: 'token', values: [{ key: 'value', value: 'v' }] });
    keyed = (await gateway.ok(team.owner, Q.addNamespace, { workspaceId: kept, expectedVersion: version, namespace: 'keyed', key })).addNamespace;
    version = keyed.version;

    // The workspace whose deletion is interrupted; with a secret, so that it has a data key to destroy.
    halfDeleted = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'half-deleted', kind: 'PROJECT' })).createWorkspace.workspaceId;
    await gateway.ok(team.owner, Q.writeSecret, { workspaceId: halfDeleted, expectedVersion: 0, name: 'token', values: [{ key: 'value', value: 'v' }] });

    before = await snapshot();
    headBefore = await gateway.head();

    await gateway.whileStopped(async () => {
      // The crash: WorkspaceClosed is in the log, WorkspaceDeleted is not (and the data key, which sealed the
      // secret above, is not destroyed: the last test shows the restart destroyed it).
      const store = await openPgliteEventStore({ dataDir: join(gateway.dataDir, 'log') });
      try {
        await new EventLog(store, canopyEventRegistry()).append(
          `workspace-${halfDeleted}`,
          [{ type: 'WorkspaceClosed', data: { workspaceId: halfDeleted, organizationId: team.organizationId } }],
          { expectedRevision: 0n, context: { actor: team.owner } },
        );
      } finally {
        await store.close();
      }
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function eventsAfter(position: bigint): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of gateway.store.readAll({ after: position })) events.push(event);
    return events;
  }

  it('serves the same state after a restart on the same data directory, having appended only the end of the interrupted deletion', async () => {
    expect(await snapshot()).toEqual(before);
    expect((before as { workspaces: unknown[] }).workspaces).toHaveLength(2);
    expect(before).toMatchObject({
      workspace: { name: 'kept', stage: 'staging', description: 'Survives restarts.', version, namespaces: ['api', 'keyed'], clusterCount: 1, roleBindings: [{ name: 'devs' }] },
      viewerPermissions: { role: 'VIEWER' },
    });
    expect((await eventsAfter(headBefore)).map((e) => [e.stream, e.type])).toEqual([
      [`workspace-${halfDeleted}`, 'WorkspaceClosed'],
      [`organization-${team.organizationId}`, 'WorkspaceDeleted'],
    ]);
  });

  it('carries on after the restart: versions go on, stale ones are refused, keyed retries are still recognised', async () => {
    const retry = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.addNamespace, { workspaceId: kept, expectedVersion: keyed.version - 1, namespace: 'keyed', key }));
    expect(retry.body.data.addNamespace).toMatchObject({ version: keyed.version, replayed: true });
    await gateway.expectError(team.owner, Q.addNamespace, { workspaceId: kept, expectedVersion: version - 1, namespace: 'late' }, 'CONFLICT', 'expectedVersion');
    expect((await gateway.ok(team.owner, Q.addNamespace, { workspaceId: kept, expectedVersion: version, namespace: 'late' })).addNamespace.version).toBe(version + 1);
    // The data key made before the restart still seals: the secret gets its version 2.
    const rewritten = (await gateway.ok(team.owner, Q.writeSecret, { workspaceId: kept, expectedVersion: version + 1, name: 'token', values: [{ key: 'value', value: 'w' }] })).writeSecret;
    expect(rewritten.workspace.secrets).toEqual([expect.objectContaining({ name: 'token', version: 2 })]);
  });

  it('finishes the interrupted deletion at start: removed from its organization by the system, its name free again', async () => {
    const deleted = (await gateway.streamEvents(`organization-${team.organizationId}`)).filter((e) => e.type === 'WorkspaceDeleted');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.data).toEqual({ organizationId: team.organizationId, workspaceId: halfDeleted, name: 'half-deleted' });
    expect(deleted[0]!.metadata).toMatchObject({ actor: 'canopy' });
    await gateway.expectError(team.owner, Q.workspace, { id: halfDeleted }, 'NOT_FOUND');
    const names = ((await gateway.ok(team.owner, Q.workspaces, { organizationId: team.organizationId })).workspaces as { name: string }[]).map((w) => w.name);
    expect(names).toEqual(['default', 'kept']);
    const again = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'half-deleted', kind: 'PROJECT' })).createWorkspace;
    expect(again.workspaceId).not.toBe(halfDeleted);
    expect(again.workspace.name).toBe('half-deleted');
  });
  it('shows a secret’s updatedAt as recorded in the log', async () => {
    const other = await createTeam(gateway);
    // Five writes, so that the bug shows even if one append happens to take under a millisecond.
    const shown: string[] = [];
    for (let v = 0; v < 5; v++) {
      const written = (await gateway.ok(other.owner, Q.writeSecret, { workspaceId: other.defaultWorkspaceId, expectedVersion: v, name: 'token', values: [{ key: 'value', value: `v${v}` }] })).writeSecret;
      shown.push(written.workspace.secrets[0].updatedAt);
    }
    const recorded = (await gateway.streamEvents(`workspace-${other.defaultWorkspaceId}`)).map((e) => (e.metadata as { occurredAt: string }).occurredAt);
    expect(shown).toEqual(recorded);
  });

  // Last: the key store's PGlite database serves one process at a time, so the gateway stops for good here.
  it('destroyed the data key of the workspace whose deletion it finished, and only that one', async () => {
    await gateway.stopServer();
    const keys = await openKeys();
    try {
      expect(await keys.keys.isDestroyed(halfDeleted)).toBe(true);
      await expect(keys.keys.dataKey(halfDeleted)).rejects.toMatchObject({ code: 'SECRET_KEY_DESTROYED' });
      expect(await keys.keys.isDestroyed(kept)).toBe(false);
    } finally {
      await keys.close();
    }
  });

  async function openKeys() {
    const { key: masterKey } = await loadOrCreateDevMasterKey(join(gateway.dataDir, DEV_MASTER_KEY_FILE));
    return openKeyStore({ kind: 'pglite', dataDir: join(gateway.dataDir, 'keys') }, masterKey);
  }
});
