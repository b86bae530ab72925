import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import { statusOf, WATCHER_ACTOR, WorkloadChanges, workloadsStream, type KubeObject } from '@canopy/workloads';
import { createProject, createTeam, Q, TestGateway, type TeamSetup } from './client.js';
import { eventually, WsClient } from './ws-client.js';

/**
 * The read models behind the API, seen from outside: after a mutation, the
 * caller's queries show the change (read-your-writes), whether or not its
 * answer asked for read-model fields; `/healthz` lists every projector,
 * and a projector stopped by an event it cannot apply is visible there
 * while mutations still answer, flagged; a subscription's access check
 * waits for the read models it reads, not for one left behind.
 */

const ADD_NAMESPACE = `mutation ($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!) {
  addNamespace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace) { version position }
}`;
const ADD_NAMESPACE_CONSISTENT = `mutation ($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!) {
  addNamespace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace) { version position consistent workspace { namespaces { nodes } } }
}`;
const NAMESPACES = `query ($id: ID!) { workspace(id: $id) { version namespaces { nodes } } }`;

interface ProjectorHealth {
  name: string;
  version: number;
  status: string;
  lag: string;
  error?: { message: string; event?: { type: string; stream: string } };
}

async function health(gateway: TestGateway): Promise<{ status: number; body: { status: string; projections: ProjectorHealth[] } }> {
  const response = await fetch(`${gateway.url}/healthz`);
  return { status: response.status, body: (await response.json()) as { status: string; projections: ProjectorHealth[] } };
}

describe('read-your-writes', () => {
  let gateway: TestGateway;
  let team: TeamSetup;

  beforeAll(async () => {
    gateway = await TestGateway.start();
    team = await createTeam(gateway);
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it("shows the caller their own change in the very next query, on a new request, though the mutation's answer did not wait for it", async () => {
    let { workspaceId, version } = await createProject(gateway, team);
    for (let i = 0; i < 20; i++) {
      const change = (await gateway.ok(team.owner, ADD_NAMESPACE, { workspaceId, expectedVersion: version, namespace: `ns-${i}` })).addNamespace;
      expect(BigInt(change.position)).toBeGreaterThan(0n);
      version = change.version;
      const listed = (await gateway.ok(team.owner, Q.workspaces, { organizationId: team.organizationId })).workspaces.find((w: { id: string }) => w.id === workspaceId);
      expect(listed.namespaces).toContain(`ns-${i}`);
      expect(listed.version).toBe(version);
    }
  });

  it("answers a mutation's read-model fields and `consistent` once the read models show the change", async () => {
    let { workspaceId, version } = await createProject(gateway, team);
    for (let i = 0; i < 10; i++) {
      const change = (await gateway.ok(team.owner, ADD_NAMESPACE_CONSISTENT, { workspaceId, expectedVersion: version, namespace: `ns-${i}` })).addNamespace;
      expect(change.consistent).toBe(true);
      expect(change.workspace.namespaces).toContain(`ns-${i}`);
      version = change.version;
    }
  });

  it('shows another caller the change when they pass its position in canopy-read-after', async () => {
    const { workspaceId } = await createProject(gateway, team);
    const viewer = `viewer-${workspaceId}`;
    let version = (await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: 0, userId: viewer, role: 'VIEWER' })).addMember.version;
    // The viewer's first read waits for nothing of theirs: the owner's change reached it by the header alone.
    for (let i = 0; i < 20; i++) {
      const change = (await gateway.ok(team.owner, ADD_NAMESPACE, { workspaceId, expectedVersion: version, namespace: `seen-${i}` })).addNamespace;
      version = change.version;
      const seen = await gateway.gql(viewer, NAMESPACES, { id: workspaceId }, { headers: { 'canopy-read-after': change.position } });
      expect(seen.body.errors).toBeUndefined();
      expect(seen.body.data.workspace).toMatchObject({ version });
      expect(seen.body.data.workspace.namespaces).toContain(`seen-${i}`);
    }
  });

  it('refuses a canopy-read-after that is not a log position, with BAD_USER_INPUT', async () => {
    for (const value of ['soon', '-1', '1e9', '99999999999999999999']) {
      const response = await gateway.gql(team.owner, NAMESPACES, { id: team.defaultWorkspaceId }, { headers: { 'canopy-read-after': value } });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'canopy-read-after' });
    }
  });

  it('lists every projector in /healthz, live and caught up', async () => {
    const { status, body } = await health(gateway);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.projections.map((p) => p.name).sort()).toEqual(['audit', 'backups', 'cost', 'membership', 'quotas', 'workloads', 'workspace_summary']);
    for (const projector of body.projections) expect(projector).toMatchObject({ status: 'live', lag: '0' });
  });

  it('measures the waits and the lag on /metrics', async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/canopy_projection_wait_seconds_count\{outcome="reached"\} [1-9]/);
    expect(text).toMatch(/canopy_projection_lag_events\{projector="membership",version="2"\} 0/);
  });
});

describe('a projector stopped by an event it cannot apply', () => {
  let gateway: TestGateway;
  let team: TeamSetup;

  beforeAll(async () => {
    // A long wait bound: the answer must not wait for a projector that will not get there.
    gateway = await TestGateway.start({ logLevel: 'error', env: { CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: '60000' } });
    team = await createTeam(gateway);
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('shows in /healthz naming the event; mutations still answer, with consistent: false, at once', async () => {
    const { workspaceId } = await createProject(gateway, team);
    // An event no contract knows, written past the API (as a bad deployment or a manual write could).
    await gateway.store.append(`workspace-${workspaceId}`, [{ type: 'WorkspaceExploded', data: { workspaceId } }]);
    let projections: ProjectorHealth[] = [];
    for (let attempt = 0; attempt < 100 && !projections.some((p) => p.status === 'failed'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      projections = (await health(gateway)).body.projections;
    }
    const { status, body } = await health(gateway);
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    const failed = body.projections.filter((p) => p.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const projector of failed) expect(projector.error?.event).toMatchObject({ type: 'WorkspaceExploded', stream: `workspace-${workspaceId}` });

    const started = performance.now();
    const change = (await gateway.ok(team.owner, Q.describeWorkspace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, description: 'still works' })).describeWorkspace;
    expect(change).toMatchObject({ changed: true, consistent: false });
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});

describe('a subscription while a read model it does not read is left behind', () => {
  let gateway: TestGateway;
  let team: TeamSetup;

  beforeAll(async () => {
    // A short wait bound: an access check that waited for every read model would be refused after it.
    gateway = await TestGateway.start({ logLevel: 'error', env: { CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: '1500' } });
    team = await createTeam(gateway);
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('is authorized from the membership read model and delivers, rather than refused with access_check_timeout', async () => {
    const { workspaceId, version } = await createProject(gateway, team);
    // The workloads read model stops at a status change it cannot apply (written past the watcher), as it would stay behind under a backlog.
    await gateway.store.append(workloadsStream(workspaceId), [{ type: 'WorkloadStatusChanged', data: { workspaceId } }]);
    await eventually(async () => ((await (await fetch(`${gateway.url}/healthz`)).json()) as { projections: ProjectorHealth[] }).projections.some((p) => p.name === 'workloads' && p.status === 'failed'), 'the workloads read model stopped');

    const client = await WsClient.as(gateway, team.owner);
    try {
      const statuses = client.subscribe(`subscription ($w: ID!) { workloadStatus(workspaceId: $w) { cursor name status } }`, { w: workspaceId });
      const events = client.events(workspaceId);
      await new Promise((resolve) => setTimeout(resolve, 300));

      const changes = new WorkloadChanges(workspaceId);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'apps', uid: 'web-1' }, spec: { containers: [{ name: 'main', image: 'web:1' }] }, status: { phase: 'Pending' } } as KubeObject;
      changes.observe({ clusterId: 'prod', namespace: 'apps', kind: 'Pod', name: 'web-1' }, statusOf('Pod', pod), new Date().toISOString());
      // Appended as the watcher appends.
      await new EventLog(gateway.store, canopyEventRegistry()).append(workloadsStream(workspaceId), changes.drain(), { context: { actor: WATCHER_ACTOR } });
      await gateway.ok(team.owner, Q.describeWorkspace, { workspaceId, expectedVersion: version, description: 'watched' });

      await statuses.until((s) => s.results.length > 0 || s.error !== undefined, 'a workload status change', 10_000);
      await events.until((s) => s.events.length > 0 || s.error !== undefined, 'a workspace event', 10_000);
      expect(statuses.error).toBeUndefined();
      expect(statuses.results[0]).toMatchObject({ data: { workloadStatus: { name: 'web-1', status: 'PENDING' } } });
      expect(events.error).toBeUndefined();
      expect(events.events[0]).toBeDefined();
    } finally {
      await client.dispose();
    }
  }, 60_000);
});
