import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTeam, Q, TestGateway, token, type TeamSetup } from './client.js';

/** Input the API refuses: each refusal names the field, and nothing reaches the log. */
describe('API: invalid input', () => {
  let gateway: TestGateway;
  let team: TeamSetup;
  /** A workspace with namespace "api" and one simulator cluster, for governance input. */
  let ws: { workspaceId: string; version: number; clusterId: string };

  beforeAll(async () => {
    gateway = await TestGateway.start();
    team = await createTeam(gateway);
    const attached = (await gateway.ok(team.owner, Q.attachCluster, { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, name: 'sim', simulator: 'small' })).attachCluster;
    await gateway.ok(team.owner, Q.addNamespace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 1, namespace: 'api' });
    ws = { workspaceId: team.defaultWorkspaceId, version: 2, clusterId: attached.clusterId };
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const at = (variables: Record<string, unknown>) => ({ workspaceId: ws.workspaceId, expectedVersion: ws.version, ...variables });
  const BAD_NAMES: [string, string][] = [
    ['upper case', 'Payments'],
    ['64 characters', 'a'.repeat(64)],
    ['empty', ''],
    ['spaces', 'my workspace'],
    ['a leading dash', '-web'],
    ['an underscore', 'my_ws'],
  ];

  describe.each(BAD_NAMES)('a name with %s', (_what, name) => {
    it('is refused for a new workspace, a rename, a namespace and a cluster', async () => {
      await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name, kind: 'PROJECT' }, 'BAD_USER_INPUT', 'name');
      await gateway.expectError(team.owner, Q.renameWorkspace, at({ name }), 'BAD_USER_INPUT', 'name');
      await gateway.expectError(team.owner, Q.addNamespace, at({ namespace: name }), 'BAD_USER_INPUT', 'namespace');
      await gateway.expectError(team.owner, Q.attachCluster, at({ name, simulator: 'other' }), 'BAD_USER_INPUT', 'name');
      await gateway.expectError(team.owner, Q.attachCluster, at({ name: 'other', simulator: name }), 'BAD_USER_INPUT', 'connection');
      await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'env', kind: 'ENVIRONMENT', stage: name }, 'BAD_USER_INPUT', 'stage');
    });
  });

  it('accepts the longest name, 63 characters', async () => {
    const name = 'a'.repeat(63);
    const created = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name, kind: 'PROJECT' })).createWorkspace;
    expect(created.workspace.name).toBe(name);
    expect((await gateway.ok(team.owner, Q.addNamespace, { workspaceId: created.workspaceId, expectedVersion: 0, namespace: name })).addNamespace.version).toBe(1);
  });

  describe('quantities', () => {
    const BAD_CPU = ['-1', '1e9', 'abc', '200000', '1.5.2', '', '0x10', '2 cores', '100001'];
    const BAD_MEMORY = ['-1', '1e9', 'abc', '2Pi', '0.5', '4gb', '', '1Ei'];

    it.each(BAD_CPU)('refuses CPU %p for a budget and a quota', async (cpu) => {
      await gateway.expectError(team.owner, Q.setWorkspaceBudget, at({ cpu, memory: '1Gi' }), 'BAD_USER_INPUT', 'cpu');
      await gateway.expectError(team.owner, Q.setNamespaceQuota, at({ namespace: 'api', clusterId: null, cpu, memory: '1Gi' }), 'BAD_USER_INPUT', 'cpu');
    });

    it.each(BAD_MEMORY)('refuses memory %p for a budget and a quota', async (memory) => {
      await gateway.expectError(team.owner, Q.setWorkspaceBudget, at({ cpu: '1', memory }), 'BAD_USER_INPUT', 'memory');
      await gateway.expectError(team.owner, Q.setNamespaceQuota, at({ namespace: 'api', clusterId: ws.clusterId, cpu: '1', memory }), 'BAD_USER_INPUT', 'memory');
    });

    it('accepts the largest quantities (100,000 cores, 1 PiB) and shows them in canonical form', async () => {
      const team2 = await createTeam(gateway);
      const change = (await gateway.ok(team2.owner, Q.setWorkspaceBudget, { workspaceId: team2.defaultWorkspaceId, expectedVersion: 0, cpu: '100000', memory: '1Pi' })).setWorkspaceBudget;
      expect(change.workspace.budget).toEqual({ cpu: '100000', memory: '1Pi' });
      const again = (await gateway.ok(team2.owner, Q.setWorkspaceBudget, { workspaceId: team2.defaultWorkspaceId, expectedVersion: 1, cpu: '1500m', memory: '1024Mi' })).setWorkspaceBudget;
      expect(again.workspace.budget).toEqual({ cpu: '1500m', memory: '1Gi' });
    });

    it('refuses quotas that add up over the budget (QUOTA_EXCEEDS_BUDGET), and a budget below the quotas set', async () => {
      const team2 = await createTeam(gateway);
      const w = { workspaceId: team2.defaultWorkspaceId, version: 0 };
      const run = async (query: string, variables: Record<string, unknown>) => {
        w.version = (Object.values(await gateway.ok(team2.owner, query, { ...w, expectedVersion: w.version, ...variables }))[0] as { version: number }).version;
      };
      await run(Q.attachCluster, { name: 'one', simulator: 'one' });
      await run(Q.addNamespace, { namespace: 'api' });
      await run(Q.addNamespace, { namespace: 'web' });
      await run(Q.setWorkspaceBudget, { cpu: '4', memory: '8Gi' });
      await run(Q.setNamespaceQuota, { namespace: 'api', clusterId: null, cpu: '3', memory: '2Gi' });
      const vars = (variables: Record<string, unknown>) => ({ workspaceId: w.workspaceId, expectedVersion: w.version, ...variables });

      const cpu = await gateway.expectError(team2.owner, Q.setNamespaceQuota, vars({ namespace: 'web', clusterId: null, cpu: '1500m', memory: '1Gi' }), 'QUOTA_EXCEEDS_BUDGET');
      expect(cpu.extensions).toMatchObject({ resource: 'cpu', total: '4500m', budget: '4' });
      const memory = await gateway.expectError(team2.owner, Q.setNamespaceQuota, vars({ namespace: 'web', clusterId: null, cpu: '1', memory: '7Gi' }), 'QUOTA_EXCEEDS_BUDGET');
      expect(memory.extensions).toMatchObject({ resource: 'memory', total: '9Gi', budget: '8Gi' });
      // Unlimited quotas never fit a limited budget.
      await gateway.expectError(team2.owner, Q.setNamespaceQuota, vars({ namespace: 'web', clusterId: null, cpu: 'unlimited', memory: '1Gi' }), 'QUOTA_EXCEEDS_BUDGET');
      // A second cluster doubles every quota on every cluster.
      await gateway.expectError(team2.owner, Q.attachCluster, vars({ name: 'two', simulator: 'two' }), 'QUOTA_EXCEEDS_BUDGET');
      await gateway.expectError(team2.owner, Q.setWorkspaceBudget, vars({ cpu: '2', memory: '8Gi' }), 'QUOTA_EXCEEDS_BUDGET');
      // Exactly at the budget is fine.
      await run(Q.setNamespaceQuota, { namespace: 'web', clusterId: null, cpu: '1', memory: '6Gi' });
      expect((await gateway.ok(team2.owner, Q.workspace, { id: w.workspaceId })).workspace.quotas).toHaveLength(2);
    });
  });

  describe('enums and GraphQL validation', () => {
    it('refuses an unknown role written in the query, before anything runs (HTTP 400)', async () => {
      const query = `mutation { addMember(workspaceId: "${ws.workspaceId}", expectedVersion: ${ws.version}, userId: "eve", role: SUPERUSER) { version } }`;
      const response = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, query));
      expect(response.status).toBe(400);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(response.body.errors?.[0]?.message).toMatch(/SUPERUSER/);
    });

    it('refuses an unknown role passed as a variable (HTTP 400, BAD_USER_INPUT)', async () => {
      const response = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.addMember, at({ userId: 'eve', role: 'SUPERUSER' })));
      expect(response.status).toBe(400);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.message).toMatch(/\$role/);
      // Lower-case values are the enum's internal names, not GraphQL's: refused too.
      const lower = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.addMember, at({ userId: 'eve', role: 'admin' })));
      expect(lower.status).toBe(400);
    });

    it('refuses a mutation with a missing argument or an unknown field', async () => {
      const missing = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, `mutation { addNamespace(workspaceId: "${ws.workspaceId}", namespace: "x") { version } }`));
      expect(missing.status).toBe(400);
      expect(missing.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const unknown = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, `mutation { dropEverything { version } }`));
      expect(unknown.status).toBe(400);
    });

    it('refuses a body that is not JSON (HTTP 400, field body)', async () => {
      const response = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, '', {}, { rawBody: '{"query": "mutation {' }));
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
    });
  });

  describe('sizes', () => {
    it('refuses a description over 1024 characters, and takes one of exactly 1024', async () => {
      await gateway.expectError(team.owner, Q.describeWorkspace, at({ description: 'd'.repeat(1025) }), 'BAD_USER_INPUT', 'description');
      await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'described', kind: 'PROJECT', description: 'd'.repeat(1025) }, 'BAD_USER_INPUT', 'description');
      const team2 = await createTeam(gateway);
      const change = (await gateway.ok(team2.owner, Q.describeWorkspace, { workspaceId: team2.defaultWorkspaceId, expectedVersion: 0, description: 'd'.repeat(1024) })).describeWorkspace;
      expect(change.workspace.description).toHaveLength(1024);
    });

    it('refuses a secret value over 64 KiB (70 KB), a secret of no keys, bad key and secret names, and takes 64 KiB exactly', async () => {
      const big = 'v'.repeat(70_000);
      await gateway.expectError(team.owner, Q.writeSecret, at({ name: 'big', values: [{ key: 'blob', value: big }] }), 'BAD_USER_INPUT', 'values');
      // 64 KiB in bytes, not characters: 30,000 three-byte characters are 90 KB.
      await gateway.expectError(team.owner, Q.writeSecret, at({ name: 'big', values: [{ key: 'blob', value: '€'.repeat(30_000) }] }), 'BAD_USER_INPUT', 'values');
      await gateway.expectError(team.owner, Q.writeSecret, at({ name: 'empty', values: [] }), 'BAD_USER_INPUT', 'values');
      await gateway.expectError(team.owner, Q.writeSecret, at({ name: 'keys', values: [{ key: '../etc', value: 'x' }] }), 'BAD_USER_INPUT', 'values');
      await gateway.expectError(team.owner, Q.writeSecret, at({ name: 'keys', values: [{ key: 'a', value: 'x' }, { key: 'a', value: 'y' }] }), 'BAD_USER_INPUT', 'values');
      await gateway.expectError(team.owner, Q.writeSecret, at({ name: 'My_Secret', values: [{ key: 'a', value: 'x' }] }), 'BAD_USER_INPUT', 'name');
      const team2 = await createTeam(gateway);
      const change = (await gateway.ok(team2.owner, Q.writeSecret, { workspaceId: team2.defaultWorkspaceId, expectedVersion: 0, name: 'big', values: [{ key: 'blob', value: 'v'.repeat(65_536) }] })).writeSecret;
      expect(change.workspace.secrets).toEqual([expect.objectContaining({ name: 'big', version: 1, keys: ['blob'] })]);
    });

    it('refuses a request body over the limit with HTTP 413 before reading it', async () => {
      const huge = 'x'.repeat(1024 * 1024 + 1);
      const response = await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.describeWorkspace, at({ description: huge })));
      expect(response.status).toBe(413);
      expect(response.body.errors).toEqual([{ message: expect.stringMatching(/over 1048576 bytes/), extensions: { code: 'BAD_USER_INPUT', field: 'body' } }]);
    });

    it('refuses a streamed (chunked) body over the limit with HTTP 413 too', async () => {
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 20) return controller.close();
          sent++;
          controller.enqueue(chunk);
        },
      });
      const before = await gateway.head();
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(team.owner)}` },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(((await response.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
      expect(await gateway.head()).toBe(before);
    });
  });

  describe('clusters, stages, bindings, images, members', () => {
    it('refuses both kubeconfig and simulator, and neither', async () => {
      await gateway.expectError(team.owner, Q.attachCluster, at({ name: 'both', simulator: 'both', kubeconfig: { path: '/k', context: null } }), 'BAD_USER_INPUT', 'connection');
      await gateway.expectError(team.owner, Q.attachCluster, at({ name: 'neither', simulator: null, kubeconfig: null }), 'BAD_USER_INPUT', 'connection');
      await gateway.expectError(team.owner, Q.attachCluster, at({ name: 'nopath', simulator: null, kubeconfig: { path: '', context: null } }), 'BAD_USER_INPUT', 'connection');
    });

    it('refuses the same cluster or cluster name twice', async () => {
      await gateway.expectError(team.owner, Q.attachCluster, at({ name: 'sim', simulator: 'other' }), 'NAME_TAKEN', 'name');
      await gateway.expectError(team.owner, Q.attachCluster, at({ name: 'sim-again', simulator: 'small' }), 'CONFLICT', 'connection');
    });

    it('refuses a stage on a project workspace and an environment without one', async () => {
      await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'proj', kind: 'PROJECT', stage: 'production' }, 'BAD_USER_INPUT', 'stage');
      await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'env', kind: 'ENVIRONMENT' }, 'BAD_USER_INPUT', 'stage');
      await gateway.expectError(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'env', kind: 'ENVIRONMENT', stage: null }, 'BAD_USER_INPUT', 'stage');
    });

    it('refuses bad role bindings: a broken /regex/, an unknown namespace, only exclusions, a service account without namespace', async () => {
      const binding = { name: 'rb', namespaces: ['api'], roleKind: 'Role', roleName: 'edit', subjects: [{ kind: 'User', name: 'u' }] };
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, namespaces: ['/[/'] } }), 'BAD_USER_INPUT', 'namespaces.0');
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, namespaces: ['api', 'nope'] } }), 'NOT_FOUND', 'namespaces.1');
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, namespaces: ['~/^kube-/'] } }), 'BAD_USER_INPUT', 'namespaces');
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, subjects: [{ kind: 'ServiceAccount', name: 'ci' }] } }), 'BAD_USER_INPUT', 'subjects');
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, subjects: [] } }), 'BAD_USER_INPUT', 'subjects');
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, name: 'Bad Name' } }), 'BAD_USER_INPUT', 'name');
      await gateway.expectError(team.owner, Q.addRoleBinding, at({ binding: { ...binding, roleName: 'a/b' } }), 'BAD_USER_INPUT', 'role.name');
    });

    it('refuses a bad image pattern, a quota or image on a namespace outside the workspace, and an empty user id', async () => {
      await gateway.expectError(team.owner, Q.restrictImage, at({ namespace: 'api', image: 'NGINX' }), 'BAD_USER_INPUT', 'image');
      await gateway.expectError(team.owner, Q.restrictImage, at({ namespace: 'elsewhere', image: 'nginx' }), 'NOT_FOUND', 'namespace');
      await gateway.expectError(team.owner, Q.setNamespaceQuota, at({ namespace: 'elsewhere', clusterId: null, cpu: '1', memory: '1Gi' }), 'NOT_FOUND', 'namespace');
      await gateway.expectError(team.owner, Q.setNamespaceQuota, at({ namespace: 'api', clusterId: 'no-such-cluster', cpu: '1', memory: '1Gi' }), 'NOT_FOUND', 'clusterId');
      await gateway.expectError(team.owner, Q.addMember, at({ userId: '', role: 'VIEWER' }), 'BAD_USER_INPUT', 'userId');
      await gateway.expectError(team.owner, Q.createOrganization, { name: '   ', kind: 'TEAM' }, 'BAD_USER_INPUT', 'name');
    });

    it('left the workspace as the setup made it', async () => {
      const workspace = (await gateway.ok(team.owner, Q.workspace, { id: ws.workspaceId })).workspace;
      expect(workspace).toMatchObject({ version: ws.version, namespaces: ['api'], clusterCount: 1, quotas: [], roleBindings: [], secrets: [], restrictedImages: [], description: '' });
    });
  });
});
