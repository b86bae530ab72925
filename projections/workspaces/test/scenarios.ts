import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import {
  desiredQuotas,
  effectiveRoles,
  membersOf,
  organizationIdsOf,
  organizationsById,
  quotaSettings,
  summaries,
  workspaceBudget,
  workspaceDetails,
  workspacesOf,
} from '../src/index.js';
import { as, closeKeyStore, expectReadModelsMatchDirectory, startHarness, type Backend, type Harness } from './harness.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const simulator = (name: string) => ({ kind: 'simulator', simulator: name });

/** The hand-written scenarios, on PGlite (scenarios.test.ts) and PostgreSQL (scenarios.postgres.test.ts). */
export function scenarioCases(backend: Backend): void {
  let h: Harness | undefined;
  const open = async () => (h = await startHarness(backend));
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await closeKeyStore();
  });

  async function teamWithWorkspaces(h: Harness) {
    const { commands, directory } = h.service;
    const { organizationId } = await commands.createOrganization(as('ada'), { name: 'Acme', kind: 'team' });
    const [defaultId] = [...directory.organization(organizationId)!.state.workspaces.keys()];
    const web = (await commands.createWorkspace(as('ada'), { organizationId, name: 'web', kind: 'project', description: 'the shop' })).workspaceId;
    const api = (await commands.createWorkspace(as('ada'), { organizationId, name: 'api', kind: 'environment', stage: 'dev' })).workspaceId;
    return { organizationId, defaultId: defaultId!, web, api };
  }

  describe('membership', () => {
    it('answers effective roles: explicit members, organization owners, changes, leaving, deletion', async () => {
      const h = await open();
      const { commands } = h.service;
      const { organizationId, defaultId, web, api } = await teamWithWorkspaces(h);
      const schema = () => h.schema('membership');
      const all = [defaultId, web, api];

      await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'admin' });
      await h.ws('ada', web, { type: 'AddMember', userId: 'carol', role: 'viewer' });
      await h.ws('bob', web, { type: 'ChangeMemberRole', userId: 'carol', role: 'member' });
      await h.ws('ada', api, { type: 'AddMember', userId: 'carol', role: 'member' });
      await h.ws('ada', api, { type: 'AddMember', userId: 'dan', role: 'viewer' });
      await h.ws('dan', api, { type: 'RemoveMember', userId: 'dan' }); // anyone may leave
      await h.sync();

      expect(await effectiveRoles(h.db, schema(), 'ada', all)).toEqual(new Map([[defaultId, 'owner'], [web, 'owner'], [api, 'owner']]));
      expect(await effectiveRoles(h.db, schema(), 'bob', all)).toEqual(new Map([[web, 'admin']]));
      expect(await effectiveRoles(h.db, schema(), 'carol', all)).toEqual(new Map([[web, 'member'], [api, 'member']]));
      expect(await effectiveRoles(h.db, schema(), 'dan', all)).toEqual(new Map());
      expect(await effectiveRoles(h.db, schema(), 'ada', [])).toEqual(new Map());
      expect(await effectiveRoles(h.db, schema(), 'ada', ['no-such-workspace'])).toEqual(new Map());

      // An organization owner owns every workspace, over an explicit role; removing them leaves the explicit one.
      await commands.addOrganizationOwner(as('ada'), organizationId, 'bob');
      await h.sync();
      expect(await effectiveRoles(h.db, schema(), 'bob', all)).toEqual(new Map([[defaultId, 'owner'], [web, 'owner'], [api, 'owner']]));
      expect((await workspacesOf(h.db, schema(), 'bob')).map((w) => [w.name, w.role, w.source])).toEqual(
        [['api', 'owner', 'organization-owner'], ['default', 'owner', 'organization-owner'], ['web', 'owner', 'organization-owner']],
      );
      await commands.removeOrganizationOwner(as('bob'), organizationId, 'bob');
      await h.sync();
      expect(await effectiveRoles(h.db, schema(), 'bob', all)).toEqual(new Map([[web, 'admin']]));

      // Renaming shows in the list; deleting (close, then delete from the organization) ends every role.
      await commands.renameWorkspace(as('ada'), web, h.version(web), 'shop');
      await commands.deleteWorkspace(as('ada'), api, h.version(api));
      await h.sync();
      expect(await effectiveRoles(h.db, schema(), 'carol', all)).toEqual(new Map([[web, 'member']]));
      expect(await effectiveRoles(h.db, schema(), 'ada', all)).toEqual(new Map([[defaultId, 'owner'], [web, 'owner']]));
      expect(await workspacesOf(h.db, schema(), 'carol')).toEqual([
        { workspaceId: web, organizationId, name: 'shop', kind: 'project', stage: null, role: 'member', source: 'explicit' },
      ]);
      expect((await workspacesOf(h.db, schema(), 'ada')).map((w) => w.name)).toEqual(['default', 'shop']);
      // A new workspace may take the deleted one's name.
      await commands.createWorkspace(as('ada'), { organizationId, name: 'api', kind: 'project' });
      await expectReadModelsMatchDirectory(h, ['ada', 'bob', 'carol', 'dan']);
    });

    it('keeps organizations apart', async () => {
      const h = await open();
      const { commands, directory } = h.service;
      const acme = await commands.createOrganization(as('ada'), { name: 'Acme', kind: 'team' });
      const personal = await commands.createOrganization(as('bob'), { name: 'Bob', kind: 'personal' });
      const [acmeDefault] = [...directory.organization(acme.organizationId)!.state.workspaces.keys()];
      const [bobsOwn] = [...directory.organization(personal.organizationId)!.state.workspaces.keys()];
      await h.sync();
      expect(await effectiveRoles(h.db, h.schema('membership'), 'ada', [acmeDefault!, bobsOwn!])).toEqual(new Map([[acmeDefault, 'owner']]));
      // (Other tests share this log: look at these two organizations only.)
      const ours = (await workspacesOf(h.db, h.schema('membership'), 'bob')).filter((w) => [acme.organizationId, personal.organizationId].includes(w.organizationId));
      expect(ours).toEqual([
        { workspaceId: bobsOwn, organizationId: personal.organizationId, name: 'personal', kind: 'default', stage: null, role: 'owner', source: 'organization-owner' },
      ]);
    });
  });

  describe('quotas and workspace summary', () => {
    it('holds the effective quota per namespace × cluster, the budget, and the list page counts and version', async () => {
      const h = await open();
      const { commands } = h.service;
      const { organizationId, web, api } = await teamWithWorkspaces(h);
      const c1 = commands.newClusterId(as('ada'), web);
      await h.ws('ada', web, { type: 'AttachCluster', clusterId: c1, name: 'east', connection: simulator('east') });
      const c2 = commands.newClusterId(as('ada'), web);
      await h.ws('ada', web, { type: 'AttachCluster', clusterId: c2, name: 'west', connection: simulator('west') });
      await h.ws('ada', web, { type: 'AddNamespace', namespace: 'shop' });
      await h.ws('ada', web, { type: 'AddNamespace', namespace: 'jobs' });
      await h.ws('ada', web, { type: 'SetWorkspaceBudget', cpu: '10', memory: '16Gi' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'shop', clusterId: null, cpu: '1', memory: '1Gi' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'shop', clusterId: c2, cpu: '2', memory: '2Gi' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'jobs', clusterId: c1, cpu: '500m', memory: '512Mi' });
      await h.sync();

      const q = () => desiredQuotas(h.db, h.schema('quotas'), web);
      const row = (namespace: string, clusterId: string, clusterName: string, cpu: number | null, memory: number | null, source: 'override' | 'namespace' | null) => ({
        namespace,
        clusterId,
        clusterName,
        cpu,
        memory,
        source,
        observed: null,
      });
      const sorted = <T extends { namespace: string; clusterId: string }>(rows: T[]) =>
        rows.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0));
      expect(await q()).toEqual(
        sorted([
          row('jobs', c1, 'east', 500, 512 * MiB, 'override'),
          row('jobs', c2, 'west', null, null, null),
          row('shop', c1, 'east', 1000, GiB, 'namespace'),
          row('shop', c2, 'west', 2000, 2 * GiB, 'override'),
        ]),
      );
      expect(await workspaceBudget(h.db, h.schema('quotas'), web)).toEqual({ cpu: 10_000, memory: 16 * GiB });
      expect(await workspaceBudget(h.db, h.schema('quotas'), api)).toEqual({ cpu: 'unlimited', memory: 'unlimited' });

      // Removing an override falls back to the namespace's quota; unlimited is unlimited, not "none".
      await h.ws('ada', web, { type: 'RemoveNamespaceQuota', namespace: 'shop', clusterId: c2 });
      await h.ws('ada', web, { type: 'SetWorkspaceBudget', cpu: 'unlimited', memory: 'unlimited' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'jobs', clusterId: null, cpu: 'unlimited', memory: '1Gi' });
      await h.sync();
      expect(await q()).toEqual(
        sorted([
          row('jobs', c1, 'east', 500, 512 * MiB, 'override'),
          row('jobs', c2, 'west', 'unlimited' as never, GiB, 'namespace'),
          row('shop', c1, 'east', 1000, GiB, 'namespace'),
          row('shop', c2, 'west', 1000, GiB, 'namespace'),
        ]),
      );

      // Detaching a cluster drops its overrides; removing a namespace ends its quotas.
      await h.ws('ada', web, { type: 'DetachCluster', clusterId: c1 });
      await h.ws('ada', web, { type: 'RemoveNamespace', namespace: 'shop' });
      await h.sync();
      expect(await q()).toEqual([row('jobs', c2, 'west', 'unlimited' as never, GiB, 'namespace')]);
      await h.ws('ada', web, { type: 'AttachCluster', clusterId: c1, name: 'east', connection: simulator('east') });
      await h.ws('ada', web, { type: 'AddNamespace', namespace: 'shop' });
      await h.sync();
      expect(await q()).toEqual(
        sorted([
          row('jobs', c1, 'east', 'unlimited' as never, GiB, 'namespace'),
          row('jobs', c2, 'west', 'unlimited' as never, GiB, 'namespace'),
          row('shop', c1, 'east', null, null, null),
          row('shop', c2, 'west', null, null, null),
        ]),
      );

      // Governance, secrets and members for the summary.
      await h.ws('ada', web, { type: 'AddRoleBinding', name: 'devs', namespaces: ['shop', '/^job/'], role: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'bob', namespace: null }] });
      await h.ws('ada', web, { type: 'AddClusterRoleBinding', name: 'viewers', clusterRole: 'view', subjects: [{ kind: 'Group', name: 'ops', namespace: null }] });
      await h.ws('ada', web, { type: 'RestrictImage', namespace: 'shop', image: 'docker.io/library/nginx:*' });
      await h.ws('ada', web, { type: 'RestrictImage', namespace: 'jobs', image: 'docker.io/library/redis:*' });
      await h.ws('ada', web, { type: 'RestrictImage', namespace: 'jobs', image: 'quay.io/evil' });
      await h.ws('ada', web, { type: 'LiftImageRestriction', namespace: 'jobs', image: 'quay.io/evil' });
      await commands.writeSecret(as('ada'), web, h.version(web), 'db', [{ key: 'password', value: 'hunter2' }]);
      await commands.writeSecret(as('ada'), web, h.version(web), 'db', [{ key: 'password', value: 'hunter3' }]);
      await commands.writeSecret(as('ada'), web, h.version(web), 'token', [{ key: 'value', value: 'abc' }]);
      await commands.writeSecret(as('ada'), web, h.version(web), 'old', [{ key: 'value', value: 'x' }]);
      await h.ws('ada', web, { type: 'DeleteSecret', name: 'old' });
      await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'admin' });
      await h.ws('ada', web, { type: 'AddMember', userId: 'ada', role: 'owner' }); // an organization owner listed explicitly too counts once
      await h.ws('ada', web, { type: 'DescribeWorkspace', description: 'the web shop' });
      await commands.renameWorkspace(as('ada'), web, h.version(web), 'shop');
      await commands.addOrganizationOwner(as('ada'), organizationId, 'carol');
      await h.sync();

      const [summary] = await summaries(h.db, h.schema('workspace_summary'), [web]);
      expect(summary).toEqual({
        workspaceId: web,
        organizationId,
        organizationName: 'Acme',
        name: 'shop',
        kind: 'project',
        stage: null,
        description: 'the web shop',
        version: h.version(web),
        memberCount: 3, // ada, carol (organization owners), bob
        clusterCount: 2,
        namespaceCount: 2,
        secretCount: 2,
        roleBindingCount: 1,
        clusterRoleBindingCount: 1,
        restrictedImageCount: 2,
      });
      expect(h.version(web)).toBe(30);
      const [apiSummary] = await summaries(h.db, h.schema('workspace_summary'), [api]);
      expect(apiSummary).toMatchObject({ name: 'api', kind: 'environment', stage: 'dev', description: '', version: 0, memberCount: 2, clusterCount: 0 });

      // A workspace with clusters cannot be deleted; emptied, it can, and is gone from every read model.
      await expect(commands.deleteWorkspace(as('ada'), web, h.version(web))).rejects.toMatchObject({ code: 'WORKSPACE_NOT_EMPTY' });
      await h.ws('ada', web, { type: 'DetachCluster', clusterId: c1 });
      await h.ws('ada', web, { type: 'DetachCluster', clusterId: c2 });
      await commands.deleteWorkspace(as('ada'), web, h.version(web));
      await h.sync();
      expect(await summaries(h.db, h.schema('workspace_summary'), [web, api])).toEqual([apiSummary]);
      expect(await desiredQuotas(h.db, h.schema('quotas'), web)).toEqual([]);
      expect(await workspaceBudget(h.db, h.schema('quotas'), web)).toBeUndefined();
      expect(await effectiveRoles(h.db, h.schema('membership'), 'bob', [web])).toEqual(new Map());
      await expectReadModelsMatchDirectory(h, ['ada', 'bob', 'carol']);
    });

    it('rebuilds every read model to the same checksum', async () => {
      const h = await open();
      const { web } = await teamWithWorkspaces(h);
      const c1 = h.service.commands.newClusterId(as('ada'), web);
      await h.ws('ada', web, { type: 'AttachCluster', clusterId: c1, name: 'east', connection: simulator('east') });
      await h.ws('ada', web, { type: 'AddNamespace', namespace: 'shop' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'shop', clusterId: c1, cpu: '1', memory: '1Gi' });
      await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'viewer' });
      await h.sync();
      const names = ['membership', 'quotas', 'workspace_summary'];
      const live = await Promise.all(names.map((name) => h.runner.checksum(name)));
      await h.runner.rebuild();
      const rebuilt = await Promise.all(names.map((name) => h.runner.checksum(name)));
      expect(rebuilt.map((c) => [c.name, c.checksum, c.position])).toEqual(live.map((c) => [c.name, c.checksum, c.position]));
    });
  });

  describe('what the API shows of workspaces and organizations', () => {
    it('lists details, members and quota settings of many workspaces at once; secrets by key name only', async () => {
      const h = await open();
      const { commands, directory } = h.service;
      const { defaultId, web, api } = await teamWithWorkspaces(h);
      const c1 = commands.newClusterId(as('ada'), web);
      await h.ws('ada', web, { type: 'AttachCluster', clusterId: c1, name: 'east', connection: simulator('east') });
      const c2 = commands.newClusterId(as('ada'), web);
      await h.ws('ada', web, { type: 'AttachCluster', clusterId: c2, name: 'west', connection: { kind: 'kubeconfig', path: '/etc/kube/west', context: null } });
      await h.ws('ada', web, { type: 'AddNamespace', namespace: 'shop' });
      await h.ws('ada', web, { type: 'AddNamespace', namespace: 'jobs' });
      await h.ws('ada', web, { type: 'SetWorkspaceBudget', cpu: '10', memory: 'unlimited' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'shop', clusterId: c2, cpu: '2', memory: '2Gi' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'shop', clusterId: null, cpu: '1', memory: '1Gi' });
      await h.ws('ada', web, { type: 'SetNamespaceQuota', namespace: 'jobs', clusterId: c1, cpu: '500m', memory: 'unlimited' });
      await h.ws('ada', web, { type: 'AddRoleBinding', name: 'devs', namespaces: ['shop', '/^job/'], role: { kind: 'Role', name: 'deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'shop' }] });
      await h.ws('ada', web, { type: 'AddClusterRoleBinding', name: 'viewers', clusterRole: 'view', subjects: [{ kind: 'Group', name: 'ops', namespace: null }] });
      await h.ws('ada', web, { type: 'RestrictImage', namespace: 'shop', image: 'redis' });
      await h.ws('ada', web, { type: 'RestrictImage', namespace: 'jobs', image: 'nginx:*' });
      await commands.writeSecret(as('ada'), web, h.version(web), 'db', [{ key: 'user', value: 'admin' }, { key: 'password', value: 'hunter2' }]);
      await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'admin' });
      await commands.writeSecret(as('bob'), web, h.version(web), 'db', [{ key: 'password', value: 'hunter3' }, { key: 'host', value: 'db.internal' }]);
      await h.ws('ada', web, { type: 'AddMember', userId: 'ada', role: 'viewer' }); // an organization owner listed explicitly too shows once, as owner
      await h.ws('ada', api, { type: 'AddMember', userId: 'dan', role: 'viewer' });
      await h.sync();

      const all = [defaultId, web, api, 'no-such-workspace'];
      const details = await workspaceDetails(h.db, h.schema('workspace_summary'), all);
      expect([...details.keys()].sort()).toEqual([defaultId, web, api].sort());
      const secret = directory.workspace(web)!.state.secrets.get('db')!;
      expect(details.get(web)).toEqual({
        clusters: [
          { id: c1, name: 'east', connection: { kind: 'simulator', simulator: 'east' } },
          { id: c2, name: 'west', connection: { kind: 'kubeconfig', path: '/etc/kube/west', context: null } },
        ],
        namespaces: ['jobs', 'shop'],
        roleBindings: [{ name: 'devs', namespaces: ['shop', '/^job/'], role: { kind: 'Role', name: 'deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'shop' }] }],
        clusterRoleBindings: [{ name: 'viewers', clusterRole: 'view', subjects: [{ kind: 'Group', name: 'ops', namespace: null }] }],
        restrictedImages: [
          { namespace: 'jobs', image: 'nginx:*' },
          { namespace: 'shop', image: 'redis' },
        ],
        secrets: [{ name: 'db', version: 2, keys: ['host', 'password'], writtenBy: 'bob', writtenAt: secret.writtenAt }],
      });
      expect(secret.writtenAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(details.get(api)).toEqual({ clusters: [], namespaces: [], roleBindings: [], clusterRoleBindings: [], restrictedImages: [], secrets: [] });
      // Neither the values nor their ciphertext reach the read model.
      const stored = JSON.stringify(await h.db.query(`SELECT * FROM ${h.schema('workspace_summary')}.secrets WHERE workspace_id = $1`, [web]));
      for (const value of ['hunter2', 'hunter3', 'db.internal', secret.values.password!.ciphertext, secret.values.host!.iv]) expect(stored).not.toContain(value);

      const members = await membersOf(h.db, h.schema('membership'), all);
      expect(members.get(web)).toEqual([
        { userId: 'ada', role: 'owner', source: 'organization-owner' },
        { userId: 'bob', role: 'admin', source: 'explicit' },
      ]);
      expect(members.get(api)).toEqual([
        { userId: 'ada', role: 'owner', source: 'organization-owner' },
        { userId: 'dan', role: 'viewer', source: 'explicit' },
      ]);
      expect(members.has('no-such-workspace')).toBe(false);

      const quotas = await quotaSettings(h.db, h.schema('quotas'), all);
      expect(quotas.get(web)).toEqual({
        budget: { cpu: 10_000, memory: 'unlimited' },
        quotas: [
          { namespace: 'jobs', clusterId: c1, cpu: 500, memory: 'unlimited' },
          { namespace: 'shop', clusterId: null, cpu: 1000, memory: GiB },
          { namespace: 'shop', clusterId: c2, cpu: 2000, memory: 2 * GiB },
        ],
      });
      expect(quotas.get(api)).toEqual({ budget: { cpu: 'unlimited', memory: 'unlimited' }, quotas: [] });

      // A detached cluster disappears, with its overrides; a deleted workspace from every batch.
      await h.ws('ada', web, { type: 'DetachCluster', clusterId: c1 });
      await commands.deleteWorkspace(as('ada'), api, h.version(api));
      await h.sync();
      expect((await workspaceDetails(h.db, h.schema('workspace_summary'), [web])).get(web)!.clusters.map((c) => c.name)).toEqual(['west']);
      expect((await quotaSettings(h.db, h.schema('quotas'), [web])).get(web)!.quotas.map((q) => [q.namespace, q.clusterId])).toEqual([
        ['shop', null],
        ['shop', c2],
      ]);
      expect([...(await membersOf(h.db, h.schema('membership'), [web, api])).keys()]).toEqual([web]);
      expect([...(await workspaceDetails(h.db, h.schema('workspace_summary'), [web, api])).keys()]).toEqual([web]);
      expect([...(await quotaSettings(h.db, h.schema('quotas'), [web, api])).keys()]).toEqual([web]);
      await expectReadModelsMatchDirectory(h, ['ada', 'bob', 'carol', 'dan']);
    });

    it('answers organizations by id, with their version and owners, and the organizations of a user', async () => {
      const h = await open();
      const { commands } = h.service;
      const { organizationId, web, api } = await teamWithWorkspaces(h);
      const other = (await commands.createOrganization(as('bob'), { name: 'Bob', kind: 'personal' })).organizationId;
      await commands.addOrganizationOwner(as('ada'), organizationId, 'carol');
      await commands.renameWorkspace(as('ada'), web, h.version(web), 'shop');
      await h.ws('ada', api, { type: 'AddMember', userId: 'bob', role: 'member' });
      await h.sync();

      const organizations = await organizationsById(h.db, h.schema('workspace_summary'), [organizationId, other, organizationId, 'no-such-organization']);
      // Created, two workspaces created, an owner added, a rename: five events on the organization stream.
      expect(organizations).toEqual(
        new Map([
          [organizationId, { organizationId, name: 'Acme', kind: 'team', owners: ['ada', 'carol'], version: 5 }],
          [other, { organizationId: other, name: 'Bob', kind: 'personal', owners: ['bob'], version: 1 }],
        ]),
      );

      // (Other tests share this log: look at these two organizations only.)
      const ours = async (userId: string) => (await organizationIdsOf(h.db, h.schema('membership'), userId)).filter((id) => [organizationId, other].includes(id));
      expect(await ours('bob')).toEqual([organizationId, other].sort());
      expect(await ours('carol')).toEqual([organizationId]);
      expect(await ours('dan')).toEqual([]);
      // Leaving its only workspace of the organization, bob no longer belongs to it.
      await h.ws('bob', api, { type: 'RemoveMember', userId: 'bob' });
      await h.sync();
      expect(await ours('bob')).toEqual([other]);
      await expectReadModelsMatchDirectory(h, ['ada', 'bob', 'carol', 'dan']);
    });
  });
}
