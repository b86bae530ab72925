import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProject, createTeam, Q, TestGateway, unique, type TeamSetup } from './client.js';

/**
 * The audit trail over GraphQL: who may read it (admins and owners of the
 * workspace, the organization's owners and auditors), what it shows
 * (every change with its actor and time, secret values sealed), and how it
 * pages and filters.
 */

let gateway: TestGateway;
let team: TeamSetup;
let workspaceId: string;
let version: number;
const admin = unique('admin');
const viewer = unique('viewer');
const auditor = unique('auditor');
const stranger = unique('stranger');

interface Entry {
  position: string;
  stream: string;
  type: string;
  actor: string | null;
  workspaceId: string | null;
  recordedAt: string;
  data: Record<string, unknown>;
}

async function history(caller: string, variables: Record<string, unknown>): Promise<{ entries: Entry[]; hasNextPage: boolean; endCursor: string | null }> {
  const data = await gateway.ok(caller, Q.workspaceHistory, { workspaceId, ...variables });
  const page = data.workspaceHistory;
  return { entries: page.edges.map((edge: { node: Entry }) => edge.node), hasNextPage: page.pageInfo.hasNextPage, endCursor: page.pageInfo.endCursor };
}

async function change(caller: string, mutation: keyof typeof Q, variables: Record<string, unknown>): Promise<void> {
  const data = await gateway.ok(caller, Q[mutation], { workspaceId, expectedVersion: version, ...variables });
  version = (Object.values(data)[0] as { version: number }).version;
}

beforeAll(async () => {
  gateway = await TestGateway.start();
  team = await createTeam(gateway);
  ({ workspaceId, version } = await createProject(gateway, team, 'audited'));
  await change(team.owner, 'addMember', { userId: admin, role: 'ADMIN' });
  await change(team.owner, 'addMember', { userId: viewer, role: 'VIEWER' });
  await change(admin, 'addNamespace', { namespace: 'web' });
  await change(admin, 'writeSecret', { name: 'db', values: [{ key: 'password', value: 'hunter2-plain' }] });
  await change(team.owner, 'renameWorkspace', { name: 'audited-renamed' });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

describe('workspace history', () => {
  it("lists every change of the workspace in log order, its creation and rename included, with actor and time", async () => {
    const { entries, hasNextPage } = await history(admin, { first: 100 });
    expect(hasNextPage).toBe(false);
    expect(entries.map((e) => e.type)).toEqual(['WorkspaceCreated', 'MemberAdded', 'MemberAdded', 'NamespaceAdded', 'SecretWritten', 'WorkspaceRenamed']);
    expect(entries.map((e) => e.actor)).toEqual([team.owner, team.owner, team.owner, admin, admin, team.owner]);
    const positions = entries.map((e) => BigInt(e.position));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    for (const entry of entries) {
      expect(entry.workspaceId).toBe(workspaceId);
      expect(Number.isNaN(Date.parse(entry.recordedAt))).toBe(false);
    }
  });

  it('never shows a secret value, plain or sealed', async () => {
    const response = await gateway.gql(admin, Q.workspaceHistory, { workspaceId, first: 100 });
    const text = JSON.stringify(response.body);
    expect(text).not.toContain('hunter2-plain');
    const secret = response.body.data.workspaceHistory.edges.map((e: { node: Entry }) => e.node).find((e: Entry) => e.type === 'SecretWritten');
    expect(secret.data['values']).toEqual({ password: '[sealed]' });
  });

  it('pages with first/after: every entry exactly once, in both orders', async () => {
    for (const newestFirst of [false, true]) {
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page = await history(admin, { first: 2, after, newestFirst });
        seen.push(...page.entries.map((e) => e.position));
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      const all = (await history(admin, { first: 100, newestFirst })).entries.map((e) => e.position);
      expect(seen).toEqual(all);
      expect(new Set(seen).size).toBe(6);
    }
  });

  it('filters by actor, by type and by time', async () => {
    expect((await history(team.owner, { actor: admin })).entries.map((e) => e.type)).toEqual(['NamespaceAdded', 'SecretWritten']);
    expect((await history(team.owner, { types: ['MemberAdded'] })).entries).toHaveLength(2);
    const all = (await history(team.owner, {})).entries;
    const future = new Date(Date.parse(all.at(-1)!.recordedAt) + 1).toISOString();
    expect((await history(team.owner, { since: future })).entries).toEqual([]);
    expect((await history(team.owner, { until: future })).entries).toHaveLength(all.length);
  });

  it('is for admins and owners: a viewer is FORBIDDEN, a stranger is told the workspace does not exist', async () => {
    expect((await gateway.expectError(viewer, Q.workspaceHistory, { workspaceId }, 'FORBIDDEN')).extensions?.['action']).toBe('readHistory');
    await gateway.expectError(stranger, Q.workspaceHistory, { workspaceId }, 'NOT_FOUND');
  });

  it('refuses bad paging input with BAD_USER_INPUT', async () => {
    await gateway.expectError(admin, Q.workspaceHistory, { workspaceId, first: 0 }, 'BAD_USER_INPUT', 'first');
    await gateway.expectError(admin, Q.workspaceHistory, { workspaceId, first: 501 }, 'BAD_USER_INPUT', 'first');
    await gateway.expectError(admin, Q.workspaceHistory, { workspaceId, after: 'not-a-cursor' }, 'BAD_USER_INPUT', 'after');
  });
});

describe('organization auditors', () => {
  it('an auditor reads every workspace history of the organization and the organization history, and changes nothing', async () => {
    await gateway.expectError(auditor, Q.workspaceHistory, { workspaceId }, 'NOT_FOUND');
    const added = await gateway.ok(team.owner, Q.addOrganizationAuditor, { organizationId: team.organizationId, userId: auditor });
    expect(added.addOrganizationAuditor).toMatchObject({ changed: true, consistent: true });

    const own = await gateway.ok(auditor, Q.workspaceHistory, { workspaceId, first: 100 });
    expect(own.workspaceHistory.edges).toHaveLength(6);
    const organization = await gateway.ok(auditor, Q.organizationHistory, { organizationId: team.organizationId, first: 500 });
    const types = organization.organizationHistory.edges.map((e: { node: Entry }) => e.node.type);
    expect(types).toEqual(expect.arrayContaining(['OrganizationCreated', 'WorkspaceCreated', 'MemberAdded', 'OrganizationAuditorAdded']));
    // The auditor sees the organization, holds no role in its workspaces, and may change nothing.
    expect((await gateway.ok(auditor, Q.organization, { id: team.organizationId })).organization.id).toBe(team.organizationId);
    expect((await gateway.ok(auditor, Q.workspaces, { organizationId: team.organizationId })).workspaces).toEqual([]);
    // They know the workspace exists (they read its history): a change is FORBIDDEN, not NOT_FOUND.
    await gateway.expectError(auditor, Q.addNamespace, { workspaceId, expectedVersion: version, namespace: 'nope' }, 'FORBIDDEN');
    await gateway.expectError(auditor, Q.addOrganizationOwner, { organizationId: team.organizationId, userId: auditor }, 'FORBIDDEN');
  });

  it("keeps a deleted workspace's history readable for owners and auditors", async () => {
    const doomed = await createProject(gateway, team, 'doomed');
    await gateway.ok(team.owner, Q.deleteWorkspace, { workspaceId: doomed.workspaceId, expectedVersion: doomed.version });
    for (const caller of [team.owner, auditor]) {
      const data = await gateway.ok(caller, Q.workspaceHistory, { workspaceId: doomed.workspaceId });
      expect(data.workspaceHistory.edges.map((e: { node: Entry }) => e.node.type)).toEqual(['WorkspaceCreated', 'WorkspaceClosed', 'WorkspaceDeleted']);
    }
  });

  it('is granted and withdrawn by owners only; members cannot read the organization history', async () => {
    await gateway.expectError(admin, Q.addOrganizationAuditor, { organizationId: team.organizationId, userId: admin }, 'FORBIDDEN');
    await gateway.expectError(admin, Q.organizationHistory, { organizationId: team.organizationId }, 'FORBIDDEN');
    await gateway.expectError(stranger, Q.organizationHistory, { organizationId: team.organizationId }, 'NOT_FOUND');
    await gateway.ok(team.owner, Q.removeOrganizationAuditor, { organizationId: team.organizationId, userId: auditor });
    await gateway.expectError(auditor, Q.workspaceHistory, { workspaceId }, 'NOT_FOUND');
    await gateway.expectError(auditor, Q.organizationHistory, { organizationId: team.organizationId }, 'NOT_FOUND');
  });
});
