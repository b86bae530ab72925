/**
 * A dashboard page through the composed gateway: workspaces with their
 * members, quota summaries and cluster counts. The SQL statements it costs
 * are counted by the gateway itself (`canopy_read_model_query_statements_total`
 * on /metrics): the DataLoaders make it a small fixed number, whatever the
 * number of workspaces on the page.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProject, createTeam, Q, TestGateway, type TeamSetup } from './client.js';

const DASHBOARD = `query Dashboard($organizationId: ID) {
  workspaces(organizationId: $organizationId, first: 100) {
    nodes {
      id name kind memberCount clusterCount namespaceCount
      members { nodes { userId role source } }
      budget { cpu memory }
      quotas { nodes { namespace clusterId cpu memory } }
      myPermissions { role canGovern }
    }
  }
}`;

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await TestGateway.start();
});

afterAll(async () => {
  await gateway?.stop();
});

/** An organization with `count` workspaces besides its default one, each with a member, a namespace and its quota. */
async function organizationWith(count: number): Promise<TeamSetup> {
  const team = await createTeam(gateway);
  for (let i = 0; i < count - 1; i++) {
    const { workspaceId, version } = await createProject(gateway, team);
    const added = await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: version, userId: `member-${i}`, role: 'MEMBER' });
    const namespaced = await gateway.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: added.addMember.version, namespace: `team-${i}` });
    await gateway.ok(team.owner, Q.setNamespaceQuota, { workspaceId, expectedVersion: namespaced.addNamespace.version, namespace: `team-${i}`, cpu: '2', memory: '4Gi' });
  }
  return team;
}

async function statementsSoFar(): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('canopy_read_model_query_statements_total '));
  if (!line) throw new Error('canopy_read_model_query_statements_total is missing from /metrics');
  return Number(line.split(' ')[1]);
}

/** The dashboard query as the team's owner, and the statements it cost. */
async function dashboard(team: TeamSetup): Promise<{ workspaces: any[]; statements: number }> {
  // Read once first: the owner's own writes are then reflected, and the measured request only reads.
  await gateway.ok(team.owner, DASHBOARD, { organizationId: team.organizationId });
  const before = await statementsSoFar();
  const data = await gateway.ok(team.owner, DASHBOARD, { organizationId: team.organizationId });
  return { workspaces: data.workspaces, statements: (await statementsSoFar()) - before };
}

describe('a dashboard page of workspaces with members, quotas and counts', () => {
  it('costs the same few SQL statements for 5 workspaces as for 50', async () => {
    const small = await dashboard(await organizationWith(5));
    const large = await dashboard(await organizationWith(50));

    expect(small.workspaces).toHaveLength(5);
    expect(large.workspaces).toHaveLength(50);
    const projects = large.workspaces.filter((w) => w.kind === 'PROJECT');
    expect(projects).toHaveLength(49);
    for (const workspace of projects) {
      expect(workspace.members.map((m: { role: string }) => m.role).sort()).toEqual(['MEMBER', 'OWNER']);
      expect(workspace.quotas).toEqual([{ namespace: workspace.quotas[0].namespace, clusterId: null, cpu: '2', memory: '4Gi' }]);
      expect(workspace.namespaceCount).toBe(1);
    }

    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeGreaterThan(0);
    expect(large.statements).toBeLessThanOrEqual(6);
  });
});
