import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, Q, TestGateway, token, unique, type TeamSetup } from './client.js';

/**
 * Who may do what, through HTTP: every role × every workspace mutation. A caller with no role is told
 * the workspace does not exist (NOT_FOUND), never that they may not touch it.
 */

const ROLES = ['stranger', 'viewer', 'member', 'admin', 'owner', 'orgOwner'] as const;
type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { stranger: -1, viewer: 0, member: 1, admin: 2, owner: 3, orgOwner: 3 };
const LEAST = { viewer: 0, member: 1, admin: 2, owner: 3 } as const;

interface Fixture {
  team: TeamSetup;
  users: Record<Role, string>;
  workspaceId: string;
  version: number;
  /** Per role: a cluster attached in setup (for detachCluster). */
  clusters: Record<Role, string>;
  organizationId: string;
}

/** One mutation as a table row: the least role it needs and its variables for `role` (unique per role, so every allowed role can succeed in turn). */
interface Row {
  mutation: keyof typeof Q;
  least: keyof typeof LEAST;
  variables: (f: Fixture, role: Role) => Record<string, unknown>;
  /** Work done in setup so that the mutation can succeed for `role`. */
  prepare?: (gateway: TestGateway, f: Fixture, role: Role) => Promise<void>;
}

const ROWS: Row[] = [
  { mutation: 'renameWorkspace', least: 'admin', variables: (_f, role) => ({ name: `renamed-${role.toLowerCase()}` }) },
  { mutation: 'describeWorkspace', least: 'admin', variables: (_f, role) => ({ description: `described by ${role}` }) },
  { mutation: 'addMember', least: 'admin', variables: (_f, role) => ({ userId: `new-${role}`, role: 'MEMBER' }) },
  {
    mutation: 'changeMemberRole',
    least: 'admin',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.addMember, at(f, { userId: `change-${role}`, role: 'VIEWER' })).then(bump(f)),
    variables: (_f, role) => ({ userId: `change-${role}`, role: 'MEMBER' }),
  },
  {
    mutation: 'removeMember',
    least: 'admin',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.addMember, at(f, { userId: `remove-${role}`, role: 'VIEWER' })).then(bump(f)),
    variables: (_f, role) => ({ userId: `remove-${role}` }),
  },
  { mutation: 'attachCluster', least: 'member', variables: (_f, role) => ({ name: `attach-${role.toLowerCase()}`, simulator: `attach-${role.toLowerCase()}` }) },
  {
    mutation: 'detachCluster',
    least: 'member',
    prepare: async (g, f, role) => {
      const data = await g.ok(f.team.owner, Q.attachCluster, at(f, { name: `detach-${role.toLowerCase()}`, simulator: `detach-${role.toLowerCase()}` }));
      bump(f)(data);
      f.clusters[role] = data.attachCluster.clusterId;
    },
    variables: (f, role) => ({ clusterId: f.clusters[role] }),
  },
  { mutation: 'addNamespace', least: 'member', variables: (_f, role) => ({ namespace: `add-${role.toLowerCase()}` }) },
  {
    mutation: 'removeNamespace',
    least: 'member',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.addNamespace, at(f, { namespace: `rm-${role.toLowerCase()}` })).then(bump(f)),
    variables: (_f, role) => ({ namespace: `rm-${role.toLowerCase()}` }),
  },
  { mutation: 'setWorkspaceBudget', least: 'admin', variables: (_f, role) => ({ cpu: String(10_000 + ROLES.indexOf(role)), memory: `${10_000 + ROLES.indexOf(role)}Gi` }) },
  {
    mutation: 'setNamespaceQuota',
    least: 'admin',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.addNamespace, at(f, { namespace: `quota-${role.toLowerCase()}` })).then(bump(f)),
    variables: (_f, role) => ({ namespace: `quota-${role.toLowerCase()}`, clusterId: null, cpu: '1', memory: '1Gi' }),
  },
  {
    mutation: 'removeNamespaceQuota',
    least: 'admin',
    prepare: async (g, f, role) => {
      bump(f)(await g.ok(f.team.owner, Q.addNamespace, at(f, { namespace: `unquota-${role.toLowerCase()}` })));
      bump(f)(await g.ok(f.team.owner, Q.setNamespaceQuota, at(f, { namespace: `unquota-${role.toLowerCase()}`, clusterId: null, cpu: '1', memory: '1Gi' })));
    },
    variables: (_f, role) => ({ namespace: `unquota-${role.toLowerCase()}`, clusterId: null }),
  },
  {
    mutation: 'addRoleBinding',
    least: 'admin',
    variables: (_f, role) => ({ binding: { name: `rb-${role.toLowerCase()}`, namespaces: ['/.*/'], roleKind: 'ClusterRole', roleName: 'view', subjects: [{ kind: 'Group', name: 'all' }] } }),
  },
  {
    mutation: 'removeRoleBinding',
    least: 'admin',
    prepare: (g, f, role) =>
      g
        .ok(f.team.owner, Q.addRoleBinding, at(f, { binding: { name: `rrb-${role.toLowerCase()}`, namespaces: ['/.*/'], roleKind: 'Role', roleName: 'edit', subjects: [{ kind: 'User', name: 'u' }] } }))
        .then(bump(f)),
    variables: (_f, role) => ({ name: `rrb-${role.toLowerCase()}` }),
  },
  { mutation: 'addClusterRoleBinding', least: 'admin', variables: (_f, role) => ({ binding: { name: `crb-${role.toLowerCase()}`, clusterRole: 'view', subjects: [{ kind: 'User', name: 'u' }] } }) },
  {
    mutation: 'removeClusterRoleBinding',
    least: 'admin',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.addClusterRoleBinding, at(f, { binding: { name: `rcrb-${role.toLowerCase()}`, clusterRole: 'view', subjects: [{ kind: 'User', name: 'u' }] } })).then(bump(f)),
    variables: (_f, role) => ({ name: `rcrb-${role.toLowerCase()}` }),
  },
  {
    mutation: 'restrictImage',
    least: 'admin',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.addNamespace, at(f, { namespace: `img-${role.toLowerCase()}` })).then(bump(f)),
    variables: (_f, role) => ({ namespace: `img-${role.toLowerCase()}`, image: 'docker.io/library/nginx:*' }),
  },
  {
    mutation: 'liftImageRestriction',
    least: 'admin',
    prepare: async (g, f, role) => {
      bump(f)(await g.ok(f.team.owner, Q.addNamespace, at(f, { namespace: `lift-${role.toLowerCase()}` })));
      bump(f)(await g.ok(f.team.owner, Q.restrictImage, at(f, { namespace: `lift-${role.toLowerCase()}`, image: 'busybox:*' })));
    },
    variables: (_f, role) => ({ namespace: `lift-${role.toLowerCase()}`, image: 'busybox:*' }),
  },
  { mutation: 'writeSecret', least: 'admin', variables: (_f, role) => ({ name: `secret-${role.toLowerCase()}`, values: [{ key: 'token', value: 'x' }] }) },
  {
    mutation: 'deleteSecret',
    least: 'admin',
    prepare: (g, f, role) => g.ok(f.team.owner, Q.writeSecret, at(f, { name: `gone-${role.toLowerCase()}`, values: [{ key: 'k', value: 'v' }] })).then(bump(f)),
    variables: (_f, role) => ({ name: `gone-${role.toLowerCase()}` }),
  },
];

/** The fixture's workspace at its current version, with `variables`. */
function at(f: Fixture, variables: Record<string, unknown>): Record<string, unknown> {
  return { workspaceId: f.workspaceId, expectedVersion: f.version, ...variables };
}

/** Moves the fixture to the version a mutation's answer reports. */
function bump(f: Fixture) {
  return (data: Record<string, { version: number }>) => {
    f.version = Object.values(data)[0]!.version;
  };
}

describe('API: authorization', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await TestGateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** A workspace where viewer, member, admin and owner are explicit members, orgOwner owns the organization, and stranger has no role. */
  async function fixture(): Promise<Fixture> {
    const team = await createTeam(gateway);
    const users = Object.fromEntries(ROLES.map((role) => [role, unique(role)])) as Record<Role, string>;
    await gateway.ok(team.owner, Q.addOrganizationOwner, { organizationId: team.organizationId, userId: users.orgOwner });
    const created = await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: unique('authz'), kind: 'PROJECT' });
    const f: Fixture = { team, users, workspaceId: created.createWorkspace.workspaceId, version: 0, clusters: {} as Record<Role, string>, organizationId: team.organizationId };
    for (const role of ['viewer', 'member', 'admin', 'owner'] as const) {
      bump(f)(await gateway.ok(team.owner, Q.addMember, at(f, { userId: users[role], role: role.toUpperCase() })));
    }
    return f;
  }

  describe('every workspace mutation × every role (one workspace for the whole table; names are unique per row and role)', () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await fixture();
    });

    it.each(ROWS)('$mutation (least role: $least): succeeds from the least role up; FORBIDDEN below it and NOT_FOUND for a stranger, appending nothing', async (row) => {
      for (const role of ROLES) await row.prepare?.(gateway, f, role);
      const outcomes: Record<string, string> = {};
      for (const role of ROLES) {
        const before = await gateway.head();
        const response = await gateway.gql(f.users[role], Q[row.mutation], at(f, row.variables(f, role)));
        const error = response.body.errors?.[0];
        outcomes[role] = error ? String(error.extensions?.code) : 'ok';
        if (error) {
          expect(await gateway.head()).toBe(before);
          expect(response.body.data).toBeNull();
          if (role === 'stranger') expect(error.extensions).toEqual({ code: 'NOT_FOUND', workspaceId: f.workspaceId });
          else expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', role, required: row.least });
        } else {
          const change = Object.values(response.body.data as Record<string, { version: number; changed: boolean }>)[0]!;
          expect(change.changed).toBe(true);
          expect(change.version).toBe(f.version + 1);
          f.version = change.version;
        }
      }
      const expected = Object.fromEntries(ROLES.map((role) => [role, role === 'stranger' ? 'NOT_FOUND' : RANK[role] >= LEAST[row.least] ? 'ok' : 'FORBIDDEN']));
      expect(outcomes).toEqual(expected);
    });
  });

  it('deleteWorkspace: owners (explicit or of the organization) only; FORBIDDEN below, NOT_FOUND for a stranger', async () => {
    const f = await fixture();
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const error = await gateway.expectError(f.users[role], Q.deleteWorkspace, at(f, {}), 'FORBIDDEN');
      expect(error.extensions).toMatchObject({ required: 'owner', role });
    }
    await gateway.expectError(f.users.stranger, Q.deleteWorkspace, at(f, {}), 'NOT_FOUND');
    // The explicit owner deletes this one; the organization owner deletes another one where they hold no explicit role.
    const deleted = (await gateway.ok(f.users.owner, Q.deleteWorkspace, at(f, {}))).deleteWorkspace;
    expect(deleted).toMatchObject({ changed: true, version: f.version + 1, workspace: null });
    const other = await gateway.ok(f.team.owner, Q.createWorkspace, { organizationId: f.organizationId, name: unique('other'), kind: 'PROJECT' });
    expect((await gateway.ok(f.users.orgOwner, Q.myPermissions, { workspaceId: other.createWorkspace.workspaceId })).myPermissions.role).toBe('OWNER');
    const second = (await gateway.ok(f.users.orgOwner, Q.deleteWorkspace, { workspaceId: other.createWorkspace.workspaceId, expectedVersion: 0 })).deleteWorkspace;
    expect(second).toMatchObject({ changed: true, version: 1, workspace: null });
  });

  it.each([
    ['createWorkspace', (f: Fixture, role: Role) => ({ organizationId: f.organizationId, name: `by-${role.toLowerCase()}`, kind: 'PROJECT' })],
    ['addOrganizationOwner', (f: Fixture, role: Role) => ({ organizationId: f.organizationId, userId: `extra-owner-${role}` })],
  ] as const)('%s: organization owners only; FORBIDDEN for workspace roles, NOT_FOUND for a stranger', async (mutation, variables) => {
    const f = await fixture();
    for (const role of ['viewer', 'member', 'admin', 'owner'] as const) {
      await gateway.expectError(f.users[role], Q[mutation], variables(f, role), 'FORBIDDEN');
    }
    await gateway.expectError(f.users.stranger, Q[mutation], variables(f, 'stranger'), 'NOT_FOUND');
    const data = await gateway.ok(f.users.orgOwner, Q[mutation], variables(f, 'orgOwner'));
    expect(Object.values(data)[0]).toMatchObject({ changed: true, replayed: false });
  });

  it('shows each role its permissions, and the organization owner OWNER without being an explicit member', async () => {
    const f = await fixture();
    const workspace = (await gateway.ok(f.team.owner, Q.workspace, { id: f.workspaceId })).workspace;
    expect(workspace.members).toContainEqual({ userId: f.users.orgOwner, role: 'OWNER', source: 'ORGANIZATION_OWNER' });
    const expected = {
      viewer: [true, false, false, false, false, false, false],
      member: [true, true, false, false, false, false, false],
      admin: [true, true, true, true, true, true, false],
      owner: [true, true, true, true, true, true, true],
      orgOwner: [true, true, true, true, true, true, true],
    };
    for (const [role, flags] of Object.entries(expected)) {
      const p = (await gateway.ok(f.users[role as Role], Q.myPermissions, { workspaceId: f.workspaceId })).myPermissions;
      expect([p.canRead, p.canCreateResources, p.canGovern, p.canManageSecrets, p.canManageMembers, p.canRename, p.canDelete]).toEqual(flags);
      expect(p.role).toBe(role === 'orgOwner' ? 'OWNER' : role.toUpperCase());
    }
    await gateway.expectError(f.users.stranger, Q.myPermissions, { workspaceId: f.workspaceId }, 'NOT_FOUND');
  });

  describe('across workspaces', () => {
    it('gives a member of workspace A nothing of workspace B, with A’s ids or B’s, in the same organization or another', async () => {
      const a = await fixture();
      const admin = a.users.admin;
      // A has a cluster and a namespace the admin knows the ids of.
      const attached = await gateway.ok(a.team.owner, Q.attachCluster, at(a, { name: 'a-cluster', simulator: 'a-sim' }));
      bump(a)(attached);
      const aCluster: string = attached.attachCluster.clusterId;
      bump(a)(await gateway.ok(a.team.owner, Q.addNamespace, at(a, { namespace: 'a-ns' })));

      // B1 in the same organization, B2 in another one; each with a cluster of its own.
      const b1 = (await gateway.ok(a.team.owner, Q.createWorkspace, { organizationId: a.organizationId, name: unique('b1'), kind: 'PROJECT' })).createWorkspace;
      const bTeam = await createTeam(gateway);
      const b2Id = bTeam.defaultWorkspaceId;
      const b2Cluster = (await gateway.ok(bTeam.owner, Q.attachCluster, { workspaceId: b2Id, expectedVersion: 0, name: 'b-cluster', simulator: 'b-sim' })).attachCluster.clusterId;

      for (const bId of [b1.workspaceId, b2Id]) {
        const version = bId === b2Id ? 1 : 0;
        // Queries of B.
        await gateway.expectError(admin, Q.workspace, { id: bId }, 'NOT_FOUND');
        await gateway.expectError(admin, Q.myPermissions, { workspaceId: bId }, 'NOT_FOUND');
        // A's ids against B.
        await gateway.expectError(admin, Q.detachCluster, { workspaceId: bId, expectedVersion: version, clusterId: aCluster }, 'NOT_FOUND');
        await gateway.expectError(admin, Q.setNamespaceQuota, { workspaceId: bId, expectedVersion: version, namespace: 'a-ns', clusterId: aCluster, cpu: '1', memory: '1Gi' }, 'NOT_FOUND');
        await gateway.expectError(admin, Q.addMember, { workspaceId: bId, expectedVersion: version, userId: admin, role: 'OWNER' }, 'NOT_FOUND');
        await gateway.expectError(admin, Q.writeSecret, { workspaceId: bId, expectedVersion: version, name: 's', values: [{ key: 'k', value: 'v' }] }, 'NOT_FOUND');
      }
      // B's cluster id against A (where the admin may govern): not a cluster of A.
      await gateway.expectError(admin, Q.setNamespaceQuota, at(a, { namespace: 'a-ns', clusterId: b2Cluster, cpu: '1', memory: '1Gi' }), 'NOT_FOUND', 'clusterId');
      await gateway.expectError(admin, Q.detachCluster, at(a, { clusterId: b2Cluster }), 'NOT_FOUND', 'clusterId');

      // Lists show A only.
      const all = (await gateway.ok(admin, Q.workspaces, {})).workspaces as { id: string }[];
      expect(all.map((w) => w.id)).toEqual([a.workspaceId]);
      expect((await gateway.ok(admin, Q.workspaces, { organizationId: bTeam.organizationId })).workspaces).toEqual([]);
      const organizations = (await gateway.ok(admin, Q.organizations)).organizations as { id: string; workspaces: { id: string }[] }[];
      expect(organizations.map((o) => o.id)).toEqual([a.organizationId]);
      expect(organizations[0]!.workspaces.map((w) => w.id)).toEqual([a.workspaceId]);
      await gateway.expectError(admin, Q.organization, { id: bTeam.organizationId }, 'NOT_FOUND');
      // And nothing in B's organization is created by a stranger to it.
      await gateway.expectError(admin, Q.createWorkspace, { organizationId: bTeam.organizationId, name: 'intruder', kind: 'PROJECT' }, 'NOT_FOUND');
    });

    it('answers a workspace the caller has no role in exactly as one that does not exist', async () => {
      const f = await fixture();
      const missing = '00000000-0000-4000-8000-000000000000';
      const existing = await gateway.gql(f.users.stranger, Q.workspace, { id: f.workspaceId });
      const absent = await gateway.gql(f.users.stranger, Q.workspace, { id: missing });
      expect(JSON.stringify(existing.body).replaceAll(f.workspaceId, 'ID')).toBe(JSON.stringify(absent.body).replaceAll(missing, 'ID'));
      const existingMutation = await gateway.gql(f.users.stranger, Q.addNamespace, { workspaceId: f.workspaceId, expectedVersion: f.version, namespace: 'x' });
      const absentMutation = await gateway.gql(f.users.stranger, Q.addNamespace, { workspaceId: missing, expectedVersion: f.version, namespace: 'x' });
      expect(JSON.stringify(existingMutation.body).replaceAll(f.workspaceId, 'ID')).toBe(JSON.stringify(absentMutation.body).replaceAll(missing, 'ID'));
      // Not even a stale version gives it away (the version is checked only for those who may see it).
      const stale = await gateway.gql(f.users.stranger, Q.addNamespace, { workspaceId: f.workspaceId, expectedVersion: f.version + 7, namespace: 'x' });
      expect(stale.body.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', workspaceId: f.workspaceId });
    });
  });

  describe('authentication', () => {
    const cases: [string, () => Promise<string | undefined>, string][] = [
      ['no Authorization header', async () => undefined, 'missing_token'],
      ['an empty Authorization header', async () => '', 'missing_token'],
      ['Basic credentials', async () => `Basic ${Buffer.from('alice:secret').toString('base64')}`, 'malformed_header'],
      ['two tokens', async () => `Bearer ${await token('alice')} ${await token('alice')}`, 'malformed_header'],
      ['a garbage token', async () => 'Bearer not.a.jwt', 'invalid_token'],
      ['a token signed with another secret', async () => `Bearer ${await token('alice', { secret: 'some-other-secret-that-is-32-bytes-long!!' })}`, 'invalid_token'],
      ['an expired token', async () => `Bearer ${await token('alice', { expiredSecondsAgo: 60 })}`, 'expired_token'],
    ];

    it.each(cases)('%s: HTTP 401, UNAUTHENTICATED with the reason, nothing run', async (_name, header, reason) => {
      const team = await createTeam(gateway);
      const authorization = await header();
      const response = await gateway.expectLogUnchanged(() =>
        gateway.gql(authorization === undefined ? null : { authorization }, Q.addNamespace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, namespace: 'x' }),
      );
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="canopy"/);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
      expect(response.body.errors![0]!.message).toMatch(/token|Authorization/);
      // Queries are refused the same way.
      const query = await gateway.gql(authorization === undefined ? null : { authorization }, Q.organizations);
      expect(query.status).toBe(401);
      expect(query.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
      expect((await gateway.ok(team.owner, Q.workspace, { id: team.defaultWorkspaceId })).workspace.namespaces).toEqual([]);
    });

    it('accepts the same request with a valid token', async () => {
      const team = await createTeam(gateway);
      const response = await gateway.gql({ authorization: `Bearer ${await token(team.owner)}` }, Q.addNamespace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, namespace: 'x' });
      expect(response.status).toBe(200);
      expect(response.body.data.addNamespace).toMatchObject({ version: 1, changed: true });
    });
  });
});
