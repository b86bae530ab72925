/**
 * Every list of the API is a Relay connection: `first`/`after`, `edges`
 * with cursors, `nodes`, `pageInfo` and `totalCount`. Paged here through the
 * composed gateway, as a frontend's "load more" does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProject, createTeam, Q, TestGateway, type TeamSetup } from './client.js';

const MEMBERS = `query Members($id: ID!, $first: Int, $after: String) {
  workspace(id: $id) { members(first: $first, after: $after) { totalCount edges { cursor node { userId role } } pageInfo { hasNextPage endCursor } } }
}`;

const WORKSPACES = `query Workspaces($organizationId: ID, $first: Int, $after: String) {
  workspaces(organizationId: $organizationId, first: $first, after: $after) { totalCount nodes { name } pageInfo { hasNextPage endCursor } }
}`;

let gateway: TestGateway;
let team: TeamSetup;
let workspaceId: string;
const users = Array.from({ length: 7 }, (_, i) => `user-${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  gateway = await TestGateway.start();
  team = await createTeam(gateway);
  let version: number;
  ({ workspaceId, version } = await createProject(gateway, team, 'paged'));
  for (const userId of [...users].reverse()) {
    version = (await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: version, userId, role: 'VIEWER' })).addMember.version;
  }
  for (const name of ['c-three', 'a-one', 'b-two']) await createProject(gateway, team, name);
});

afterAll(async () => {
  await gateway?.stop();
});

/** Every page of a connection, following endCursor. */
async function pages(read: (after: string | null) => Promise<{ totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } } & Record<string, any>>) {
  const all = [];
  let after: string | null = null;
  for (let guard = 0; guard < 50; guard++) {
    const page = await read(after);
    all.push(page);
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
  throw new Error('the connection never ended');
}

describe('Relay connections', () => {
  it('pages a workspace’s members by user id, every member once, with the total on every page', async () => {
    const read = async (after: string | null) => (await gateway.ok(team.owner, MEMBERS, { id: workspaceId, first: 3, after })).workspace.members;
    const all = await pages(read);
    expect(all.map((page) => page.edges.length)).toEqual([3, 3, 2]);
    expect(all.every((page) => page.totalCount === 8)).toBe(true);
    const ids = all.flatMap((page) => page.edges.map((edge: { node: { userId: string } }) => edge.node.userId));
    expect(ids).toEqual([...users, team.owner].sort());
    expect(all.at(-1)!.pageInfo.endCursor).toBe(all.at(-1)!.edges.at(-1).cursor);
  });

  it('continues from a cursor after the item it names was removed, skipping nothing', async () => {
    const first = (await gateway.ok(team.owner, MEMBERS, { id: workspaceId, first: 2 })).workspace.members;
    const removed = first.edges[1].node.userId as string;
    const { version } = (await gateway.ok(team.owner, Q.workspace, { id: workspaceId })).workspace;
    await gateway.ok(team.owner, Q.removeMember, { workspaceId, expectedVersion: version, userId: removed });
    const rest = (await gateway.ok(team.owner, MEMBERS, { id: workspaceId, first: 50, after: first.pageInfo.endCursor })).workspace.members;
    const expected = [...users, team.owner].sort().filter((id) => id > removed);
    expect(rest.edges.map((edge: { node: { userId: string } }) => edge.node.userId)).toEqual(expected);
  });

  it('pages the workspaces of an organization by name', async () => {
    const read = async (after: string | null) => (await gateway.ok(team.owner, WORKSPACES, { organizationId: team.organizationId, first: 2, after })).workspaces;
    const names = (await pages(read)).flatMap((page) => page.nodes.map((w: { name: string }) => w.name));
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['a-one', 'b-two', 'c-three', 'paged']));
    expect(names).toHaveLength(5);
  });

  it('refuses a page size out of range and a cursor it did not make, with BAD_USER_INPUT naming the argument', async () => {
    await gateway.expectError(team.owner, MEMBERS, { id: workspaceId, first: 0 }, 'BAD_USER_INPUT', 'first');
    await gateway.expectError(team.owner, MEMBERS, { id: workspaceId, first: 501 }, 'BAD_USER_INPUT', 'first');
    await gateway.expectError(team.owner, WORKSPACES, { first: 5, after: 'bm90LWEtY3Vyc29y' }, 'BAD_USER_INPUT', 'after');
  });
});
