import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, Q, TestGateway, unique, type Caller } from './client.js';

/**
 * A whole workspace lifecycle through HTTP, as a console would drive it: every workspace mutation
 * passes the version the previous one returned.
 */
describe('API: the lifecycle of an organization and its workspaces', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await TestGateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** Runs one workspace mutation at `tracker.version` and checks it moved the version by exactly one. */
  async function step(caller: Caller, tracker: { workspaceId: string; version: number }, query: string, variables: Record<string, unknown> = {}) {
    const data = await gateway.ok(caller, query, { workspaceId: tracker.workspaceId, expectedVersion: tracker.version, ...variables });
    const change = Object.values(data)[0] as { workspaceId: string; version: number; changed: boolean; replayed: boolean; clusterId: string | null; workspace: any };
    expect(change).toMatchObject({ workspaceId: tracker.workspaceId, version: tracker.version + 1, changed: true, replayed: false });
    if (change.workspace) expect(change.workspace.version).toBe(tracker.version + 1);
    tracker.version = change.version;
    return change;
  }

  it('creates a team, its workspaces, members and governance, reads them back, then takes them apart', async () => {
    const owner = unique('owner');
    const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(unique) as [string, string, string, string];

    // An organization comes with its default workspace, in the same event.
    const created = (await gateway.ok(owner, Q.createOrganization, { name: 'Acme Platform', kind: 'TEAM' })).createOrganization;
    expect(created).toMatchObject({ version: 1, changed: true, replayed: false, organization: { name: 'Acme Platform', kind: 'TEAM', version: 1, owners: [owner] } });
    const organizationId: string = created.organizationId;
    expect(created.organization.id).toBe(organizationId);
    expect(created.organization.workspaces).toEqual([{ id: expect.any(String), name: 'default', kind: 'DEFAULT', version: 0 }]);
    const defaultWorkspaceId: string = created.organization.workspaces[0].id;

    // A project and an environment workspace; a new workspace's stream is empty: version 0.
    const projectChange = (await gateway.ok(owner, Q.createWorkspace, { organizationId, name: 'payments', kind: 'PROJECT' })).createWorkspace;
    expect(projectChange).toMatchObject({ version: 0, changed: true, replayed: false, workspace: { organizationId, name: 'payments', kind: 'PROJECT', stage: null, version: 0 } });
    const environmentChange = (await gateway.ok(owner, Q.createWorkspace, { organizationId, name: 'payments-prod', kind: 'ENVIRONMENT', stage: 'production' })).createWorkspace;
    expect(environmentChange.workspace).toMatchObject({ name: 'payments-prod', kind: 'ENVIRONMENT', stage: 'production', version: 0 });
    const project = { workspaceId: projectChange.workspaceId as string, version: 0 };

    // Renaming is decided on the organization stream (names are unique there) and moves the workspace's version.
    const renamed = (await gateway.ok(owner, Q.renameWorkspace, { workspaceId: project.workspaceId, expectedVersion: 0, name: 'billing' })).renameWorkspace;
    expect(renamed).toMatchObject({ version: 1, changed: true, replayed: false, workspace: { name: 'billing', version: 1 } });
    project.version = 1;

    await step(owner, project, Q.describeWorkspace, { description: 'Invoices, payments and the ledger.' });

    // Members with each role; one changes role, one is removed.
    await step(owner, project, Q.addMember, { userId: alice, role: 'ADMIN' });
    await step(owner, project, Q.addMember, { userId: bob, role: 'MEMBER' });
    await step(alice, project, Q.addMember, { userId: carol, role: 'VIEWER' });
    await step(owner, project, Q.addMember, { userId: dave, role: 'OWNER' });
    await step(alice, project, Q.changeMemberRole, { userId: bob, role: 'ADMIN' });
    await step(alice, project, Q.removeMember, { userId: carol });

    // Two clusters, one per kind of connection.
    const simulator = await step(bob, project, Q.attachCluster, { name: 'sim-eu', simulator: 'small' });
    // (simulator: null said explicitly: omitting it is refused, see the known bug below.)
    const kubeconfig = await step(bob, project, Q.attachCluster, { name: 'prod-eu', kubeconfig: { path: '/etc/canopy/prod.kubeconfig', context: 'prod-eu-1' }, simulator: null });
    const simulatorId = simulator.clusterId!;
    const kubeconfigId = kubeconfig.clusterId!;
    expect(simulatorId).toEqual(expect.any(String));
    expect(kubeconfigId).not.toBe(simulatorId);

    await step(bob, project, Q.addNamespace, { namespace: 'api' });
    await step(bob, project, Q.addNamespace, { namespace: 'worker' });

    // Governance: a budget, quotas on every cluster and one per-cluster override (2 clusters: api 2×2, worker 1 + 0.5 cores).
    await step(alice, project, Q.setWorkspaceBudget, { cpu: '8', memory: '16Gi' });
    await step(alice, project, Q.setNamespaceQuota, { namespace: 'api', clusterId: null, cpu: '2', memory: '4Gi' });
    await step(alice, project, Q.setNamespaceQuota, { namespace: 'worker', clusterId: null, cpu: '1', memory: '2Gi' });
    await step(alice, project, Q.setNamespaceQuota, { namespace: 'worker', clusterId: simulatorId, cpu: '500m', memory: '1Gi' });
    await step(alice, project, Q.addRoleBinding, {
      binding: {
        name: 'developers',
        namespaces: ['api', '/^team-.*$/'],
        roleKind: 'ClusterRole',
        roleName: 'edit',
        subjects: [
          { kind: 'Group', name: 'payments-devs' },
          { kind: 'ServiceAccount', name: 'deployer', namespace: 'api' },
        ],
      },
    });
    await step(alice, project, Q.addClusterRoleBinding, { binding: { name: 'auditors', clusterRole: 'view', subjects: [{ kind: 'User', name: 'auditor@example.com' }] } });
    await step(alice, project, Q.restrictImage, { namespace: 'api', image: 'docker.io/library/nginx:*' });

    // A secret written twice: its version counts the writes.
    const firstPassword = `pw-${unique('first')}`;
    const secondPassword = `pw-${unique('second')}`;
    const firstWrite = await step(alice, project, Q.writeSecret, { name: 'db-credentials', values: [{ key: 'username', value: 'billing' }, { key: 'password', value: firstPassword }] });
    expect(firstWrite.workspace.secrets).toEqual([{ name: 'db-credentials', version: 1, keys: ['password', 'username'], updatedBy: alice, updatedAt: expect.any(String) }]);
    const secondWrite = await step(owner, project, Q.writeSecret, { name: 'db-credentials', values: [{ key: 'username', value: 'billing' }, { key: 'password', value: secondPassword }] });
    expect(secondWrite.workspace.secrets).toEqual([{ name: 'db-credentials', version: 2, keys: ['password', 'username'], updatedBy: owner, updatedAt: expect.any(String) }]);

    // Everything reads back through the queries.
    const listed = (await gateway.ok(owner, Q.workspaces, { organizationId })).workspaces as any[];
    expect(listed.map((w) => [w.name, w.kind, w.stage])).toEqual([
      ['billing', 'PROJECT', null],
      ['default', 'DEFAULT', null],
      ['payments-prod', 'ENVIRONMENT', 'production'],
    ]);
    const workspace = (await gateway.ok(owner, Q.workspace, { id: project.workspaceId })).workspace;
    expect(listed[0]).toEqual(workspace);
    expect(workspace).toMatchObject({
      id: project.workspaceId,
      organizationId,
      name: 'billing',
      kind: 'PROJECT',
      stage: null,
      description: 'Invoices, payments and the ledger.',
      version: project.version,
      memberCount: 4,
      clusterCount: 2,
      namespaceCount: 2,
      namespaces: ['api', 'worker'],
      budget: { cpu: '8', memory: '16Gi' },
      roleBindings: [
        {
          name: 'developers',
          namespaces: ['api', '/^team-.*$/'],
          roleKind: 'ClusterRole',
          roleName: 'edit',
          subjects: [
            { kind: 'Group', name: 'payments-devs', namespace: null },
            { kind: 'ServiceAccount', name: 'deployer', namespace: 'api' },
          ],
        },
      ],
      clusterRoleBindings: [{ name: 'auditors', clusterRole: 'view', subjects: [{ kind: 'User', name: 'auditor@example.com', namespace: null }] }],
      restrictedImages: [{ namespace: 'api', image: 'docker.io/library/nginx:*' }],
      secrets: [{ name: 'db-credentials', version: 2, keys: ['password', 'username'], updatedBy: owner, updatedAt: expect.any(String) }],
      myPermissions: { role: 'OWNER', canRead: true, canCreateResources: true, canGovern: true, canManageSecrets: true, canManageMembers: true, canRename: true, canDelete: true },
    });
    expect(new Date(workspace.secrets[0].updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(firstWrite.workspace.secrets[0].updatedAt).getTime());
    const sortMembers = (members: any[]) => [...members].sort((a, b) => a.userId.localeCompare(b.userId));
    expect(sortMembers(workspace.members)).toEqual(
      sortMembers([
        { userId: owner, role: 'OWNER', source: 'ORGANIZATION_OWNER' },
        { userId: alice, role: 'ADMIN', source: 'EXPLICIT' },
        { userId: bob, role: 'ADMIN', source: 'EXPLICIT' },
        { userId: dave, role: 'OWNER', source: 'EXPLICIT' },
      ]),
    );
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect([...workspace.clusters].sort(byId)).toEqual(
      [
        { id: simulatorId, name: 'sim-eu', connection: { kind: 'SIMULATOR', kubeconfigPath: null, kubeconfigContext: null, simulator: 'small' } },
        { id: kubeconfigId, name: 'prod-eu', connection: { kind: 'KUBECONFIG', kubeconfigPath: '/etc/canopy/prod.kubeconfig', kubeconfigContext: 'prod-eu-1', simulator: null } },
      ].sort(byId),
    );
    const byQuota = (a: any, b: any) => `${a.namespace}/${a.clusterId ?? ''}`.localeCompare(`${b.namespace}/${b.clusterId ?? ''}`);
    expect([...workspace.quotas].sort(byQuota)).toEqual(
      [
        { namespace: 'api', clusterId: null, cpu: '2', memory: '4Gi' },
        { namespace: 'worker', clusterId: null, cpu: '1', memory: '2Gi' },
        { namespace: 'worker', clusterId: simulatorId, cpu: '500m', memory: '1Gi' },
      ].sort(byQuota),
    );
    // Queries show who wrote a secret and its keys, never a value.
    const everything = JSON.stringify(await gateway.gql(owner, Q.workspaces, {}));
    expect(everything).not.toContain(firstPassword);
    expect(everything).not.toContain(secondPassword);

    // Each caller's permissions, as the console shows or hides buttons.
    const permissions = async (caller: string) => (await gateway.ok(caller, Q.myPermissions, { workspaceId: project.workspaceId })).myPermissions;
    expect(await permissions(alice)).toEqual({ role: 'ADMIN', canRead: true, canCreateResources: true, canGovern: true, canManageSecrets: true, canManageMembers: true, canRename: true, canDelete: false });
    expect(await permissions(dave)).toMatchObject({ role: 'OWNER', canDelete: true });
    expect((await gateway.ok(dave, Q.workspace, { id: project.workspaceId })).workspace.myPermissions).toMatchObject({ role: 'OWNER' });
    // The removed member no longer sees the workspace, nor (holding no other role) the organization.
    await gateway.expectError(carol, Q.myPermissions, { workspaceId: project.workspaceId }, 'NOT_FOUND');
    expect((await gateway.ok(carol, Q.organizations)).organizations).toEqual([]);
    // A member sees the organization and only the workspaces they hold a role in.
    expect((await gateway.ok(alice, Q.organizations)).organizations).toEqual([
      { id: organizationId, name: 'Acme Platform', kind: 'TEAM', version: expect.any(Number), owners: [owner], workspaces: [{ id: project.workspaceId, name: 'billing', kind: 'PROJECT' }] },
    ]);

    // A workspace with clusters cannot be deleted; detach them first.
    await gateway.expectError(owner, Q.deleteWorkspace, { workspaceId: project.workspaceId, expectedVersion: project.version }, 'WORKSPACE_NOT_EMPTY');
    const detached = await step(bob, project, Q.detachCluster, { clusterId: simulatorId });
    // The simulator's quota override went with it.
    expect(detached.workspace.quotas.map((q: any) => q.clusterId)).toEqual([null, null]);
    await step(bob, project, Q.detachCluster, { clusterId: kubeconfigId });

    // An admin may not delete; an owner may.
    await gateway.expectError(alice, Q.deleteWorkspace, { workspaceId: project.workspaceId, expectedVersion: project.version }, 'FORBIDDEN');
    const deleted = (await gateway.ok(dave, Q.deleteWorkspace, { workspaceId: project.workspaceId, expectedVersion: project.version })).deleteWorkspace;
    expect(deleted).toEqual({ workspaceId: project.workspaceId, version: project.version + 1, changed: true, replayed: false, workspace: null });

    // Gone for everyone, and its name is free again.
    await gateway.expectError(owner, Q.workspace, { id: project.workspaceId }, 'NOT_FOUND');
    await gateway.expectError(dave, Q.myPermissions, { workspaceId: project.workspaceId }, 'NOT_FOUND');
    await gateway.expectError(owner, Q.addNamespace, { workspaceId: project.workspaceId, expectedVersion: deleted.version, namespace: 'late' }, 'NOT_FOUND');
    expect(((await gateway.ok(owner, Q.workspaces, { organizationId })).workspaces as any[]).map((w) => w.name)).toEqual(['default', 'payments-prod']);
    expect((await gateway.ok(alice, Q.organizations)).organizations).toEqual([]);
    const reborn = (await gateway.ok(owner, Q.createWorkspace, { organizationId, name: 'billing', kind: 'PROJECT' })).createWorkspace;
    expect(reborn.workspaceId).not.toBe(project.workspaceId);
    expect(reborn.workspace).toMatchObject({ name: 'billing', version: 0, members: [{ userId: owner, role: 'OWNER', source: 'ORGANIZATION_OWNER' }], secrets: [], namespaces: [] });

    // The default workspace stays.
    expect((await gateway.ok(owner, Q.workspace, { id: defaultWorkspaceId })).workspace).toMatchObject({ name: 'default', kind: 'DEFAULT' });
  });
  it('keeps the description given when a workspace is created', async () => {
    const team = await createTeam(gateway);
    const created = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'docs', kind: 'PROJECT', description: 'Team handbook.' })).createWorkspace;
    expect(created.workspace.description).toBe('Team handbook.');
    expect((await gateway.ok(team.owner, Q.workspace, { id: created.workspaceId })).workspace.description).toBe('Team handbook.');
  });

  it('never deletes a default workspace (PROTECTED_WORKSPACE), renames a team one but not a personal one', async () => {
    const team = await createTeam(gateway);
    const error = await gateway.expectError(team.owner, Q.deleteWorkspace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0 }, 'PROTECTED_WORKSPACE');
    expect(error.extensions?.['workspaceId']).toBe(team.defaultWorkspaceId);
    expect((await gateway.ok(team.owner, Q.workspace, { id: team.defaultWorkspaceId })).workspace).toMatchObject({ name: 'default', kind: 'DEFAULT' });

    const renamed = (await gateway.ok(team.owner, Q.renameWorkspace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, name: 'main' })).renameWorkspace;
    expect(renamed.workspace).toMatchObject({ name: 'main', kind: 'DEFAULT' });

    const me = unique('solo');
    const personal = (await gateway.ok(me, Q.createOrganization, { name: 'Just me', kind: 'PERSONAL' })).createOrganization.organization;
    expect(personal).toMatchObject({ kind: 'PERSONAL', owners: [me], workspaces: [{ name: 'personal', kind: 'DEFAULT' }] });
    const personalId: string = personal.workspaces[0].id;
    await gateway.expectError(me, Q.renameWorkspace, { workspaceId: personalId, expectedVersion: 0, name: 'mine' }, 'PROTECTED_WORKSPACE');
    await gateway.expectError(me, Q.deleteWorkspace, { workspaceId: personalId, expectedVersion: 0 }, 'PROTECTED_WORKSPACE');
    expect((await gateway.ok(me, Q.workspace, { id: personalId })).workspace.name).toBe('personal');
  });

  it('refuses a second workspace with a live name (NAME_TAKEN), on create and on rename', async () => {
    const team = await createTeam(gateway);
    const first = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'web', kind: 'PROJECT' })).createWorkspace;
    await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'web', kind: 'ENVIRONMENT', stage: 'dev' }, 'NAME_TAKEN', 'name');
    await gateway.expectError(team.owner, Q.renameWorkspace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, name: 'web' }, 'NAME_TAKEN', 'name');
    // The same name in another organization is fine.
    const other = await createTeam(gateway);
    await gateway.ok(other.owner, Q.createWorkspace, { organizationId: other.organizationId, name: 'web', kind: 'PROJECT' });
    expect(first.workspace.name).toBe('web');
  });
  describe('nullable arguments left out mean null', () => {
    async function workspaceWithNamespace() {
      const team = await createTeam(gateway);
      const ws = { workspaceId: team.defaultWorkspaceId, version: 0 };
      await step(team.owner, ws, Q.addNamespace, { namespace: 'api' });
      return { team, ws };
    }

    it('attachCluster with only a kubeconfig', async () => {
      const { team, ws } = await workspaceWithNamespace();
      const change = await step(team.owner, ws, Q.attachCluster, { name: 'prod', kubeconfig: { path: '/etc/canopy/prod.kubeconfig' } });
      expect(change.workspace.clusters).toEqual([
        { id: change.clusterId, name: 'prod', connection: { kind: 'KUBECONFIG', kubeconfigPath: '/etc/canopy/prod.kubeconfig', kubeconfigContext: null, simulator: null } },
      ]);
    });

    it('setNamespaceQuota without clusterId', async () => {
      const { team, ws } = await workspaceWithNamespace();
      const change = await step(team.owner, ws, Q.setNamespaceQuota, { namespace: 'api', cpu: '1', memory: '1Gi' });
      expect(change.workspace.quotas).toEqual([{ namespace: 'api', clusterId: null, cpu: '1', memory: '1Gi' }]);
    });

    it('removeNamespaceQuota without clusterId', async () => {
      const { team, ws } = await workspaceWithNamespace();
      await step(team.owner, ws, Q.setNamespaceQuota, { namespace: 'api', clusterId: null, cpu: '1', memory: '1Gi' });
      const change = await step(team.owner, ws, Q.removeNamespaceQuota, { namespace: 'api' });
      expect(change.workspace.quotas).toEqual([]);
    });
  });

  it('refuses to take away the last owner (LAST_OWNER)', async () => {
    const team = await createTeam(gateway);
    const ws = { workspaceId: (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'ops', kind: 'PROJECT' })).createWorkspace.workspaceId, version: 0 };
    // The only explicit owner (the organization owner, an owner too, does not count).
    const first = unique('first-owner');
    await step(team.owner, ws, Q.addMember, { userId: first, role: 'OWNER' });
    await gateway.expectError(team.owner, Q.removeMember, { workspaceId: ws.workspaceId, expectedVersion: ws.version, userId: first }, 'LAST_OWNER', 'userId');
    await gateway.expectError(team.owner, Q.changeMemberRole, { workspaceId: ws.workspaceId, expectedVersion: ws.version, userId: first, role: 'ADMIN' }, 'LAST_OWNER', 'userId');
    // Only an owner may take the owner role away.
    const admin = unique('admin');
    await step(team.owner, ws, Q.addMember, { userId: admin, role: 'ADMIN' });
    await gateway.expectError(admin, Q.changeMemberRole, { workspaceId: ws.workspaceId, expectedVersion: ws.version, userId: first, role: 'VIEWER' }, 'FORBIDDEN');
    await gateway.expectError(admin, Q.addMember, { workspaceId: ws.workspaceId, expectedVersion: ws.version, userId: unique('x'), role: 'OWNER' }, 'FORBIDDEN');
    // A second owner makes the first one removable.
    await step(team.owner, ws, Q.addMember, { userId: unique('second-owner'), role: 'OWNER' });
    await step(team.owner, ws, Q.removeMember, { userId: first });
  });

  it('records a member leaving on their own, who then no longer sees the workspace', async () => {
    const team = await createTeam(gateway);
    const viewer = unique('viewer');
    const ws = { workspaceId: team.defaultWorkspaceId, version: 0 };
    await step(team.owner, ws, Q.addMember, { userId: viewer, role: 'VIEWER' });
    await gateway.gql(viewer, Q.removeMember, { workspaceId: ws.workspaceId, expectedVersion: ws.version, userId: viewer });
    const events = await gateway.streamEvents(`workspace-${ws.workspaceId}`);
    expect(events.map((e) => e.type)).toEqual(['MemberAdded', 'MemberRemoved']);
    await gateway.expectError(viewer, Q.workspace, { id: ws.workspaceId }, 'NOT_FOUND');
  });
  it('answers a member leaving with their change, not with an error', async () => {
    const team = await createTeam(gateway);
    const viewer = unique('viewer');
    const ws = { workspaceId: team.defaultWorkspaceId, version: 0 };
    await step(team.owner, ws, Q.addMember, { userId: viewer, role: 'VIEWER' });
    const left = await step(viewer, ws, Q.removeMember, { userId: viewer });
    expect(left.workspace).toBeNull();
  });
  it('answers an organization owner stepping down with the change, not with an error', async () => {
    const team = await createTeam(gateway);
    const second = unique('second-owner');
    await gateway.ok(team.owner, Q.addOrganizationOwner, { organizationId: team.organizationId, userId: second });
    const response = await gateway.gql(second, `mutation($o: ID!, $u: String!) { removeOrganizationOwner(organizationId: $o, userId: $u) { version changed } }`, {
      o: team.organizationId,
      u: second,
    });
    expect((await gateway.streamEvents(`organization-${team.organizationId}`)).map((e) => e.type)).toContain('OrganizationOwnerRemoved');
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.removeOrganizationOwner).toEqual({ version: 3, changed: true });
  });
});
