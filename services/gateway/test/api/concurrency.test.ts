import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import { Directory } from '@canopy/workspaces';
import { createTeam, Q, TestGateway, unique, type GqlResponse } from './client.js';

/** Optimistic concurrency and idempotent retries, over HTTP. */
describe('API: concurrency and idempotency', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await TestGateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const field = (response: GqlResponse, name: string) => response.body.data?.[name];

  describe('stale versions', () => {
    it('refuses a stale expectedVersion with CONFLICT naming the current version, for workspace and rename mutations alike', async () => {
      const team = await createTeam(gateway);
      const ws = team.defaultWorkspaceId;
      await gateway.ok(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 0, namespace: 'one' });
      await gateway.ok(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 1, namespace: 'two' });
      for (const stale of [0, 1, 3, 99]) {
        const error = await gateway.expectError(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: stale, namespace: 'three' }, 'CONFLICT', 'expectedVersion');
        expect(error.extensions).toEqual({ code: 'CONFLICT', field: 'expectedVersion', workspaceId: ws, currentVersion: 2 });
      }
      await gateway.expectError(team.owner, Q.renameWorkspace, { workspaceId: ws, expectedVersion: 1, name: 'main' }, 'CONFLICT', 'expectedVersion');
      await gateway.expectError(team.owner, Q.writeSecret, { workspaceId: ws, expectedVersion: 1, name: 's', values: [{ key: 'k', value: 'v' }] }, 'CONFLICT', 'expectedVersion');
      await gateway.expectError(team.owner, Q.deleteWorkspace, { workspaceId: (await createWs(team)).workspaceId, expectedVersion: 4 }, 'CONFLICT', 'expectedVersion');
      // A negative version is bad input, not a conflict.
      await gateway.expectError(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: -1, namespace: 'three' }, 'BAD_USER_INPUT', 'expectedVersion');
      // The version the conflict named works.
      expect((await gateway.ok(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 2, namespace: 'three' })).addNamespace.version).toBe(3);
    });
  });

  // Renames live on the organization stream but count into the workspace's version, like every other change.
  it('refuses a second rename based on the version the first one was based on', async () => {
    const team = await createTeam(gateway);
    const ws = team.defaultWorkspaceId;
    await gateway.ok(team.owner, Q.renameWorkspace, { workspaceId: ws, expectedVersion: 0, name: 'first' });
    await gateway.expectError(team.owner, Q.renameWorkspace, { workspaceId: ws, expectedVersion: 0, name: 'second' }, 'CONFLICT', 'expectedVersion');
  });

  async function createWs(team: Awaited<ReturnType<typeof createTeam>>) {
    const data = await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: unique('ws'), kind: 'PROJECT' });
    return { workspaceId: data.createWorkspace.workspaceId as string, version: 0 };
  }

  describe('idempotent retries', () => {
    it('createOrganization: the same key returns the same organization, replayed, appending nothing', async () => {
      const owner = unique('owner');
      const key = unique('key');
      const first = field(await gateway.gql(owner, Q.createOrganization, { name: 'Retry Inc', kind: 'TEAM', key }), 'createOrganization');
      expect(first).toMatchObject({ changed: true, replayed: false, version: 1 });
      const retry = field(await gateway.expectLogUnchanged(() => gateway.gql(owner, Q.createOrganization, { name: 'Retry Inc', kind: 'TEAM', key })), 'createOrganization');
      expect(retry).toEqual({ ...first, replayed: true });
      expect((await gateway.ok(owner, Q.organizations)).organizations).toHaveLength(1);
      // The same key from another user is another command.
      const other = field(await gateway.gql(unique('owner'), Q.createOrganization, { name: 'Retry Inc', kind: 'TEAM', key }), 'createOrganization');
      expect(other.organizationId).not.toBe(first.organizationId);
      // A different command under the key is refused.
      await gateway.expectError(owner, Q.createOrganization, { name: 'Other name', kind: 'TEAM', key }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
    });

    it('createWorkspace: the same key returns the same workspace, replayed, appending nothing', async () => {
      const team = await createTeam(gateway);
      const key = unique('key');
      const variables = { organizationId: team.organizationId, name: 'retried', kind: 'PROJECT', key };
      const first = field(await gateway.gql(team.owner, Q.createWorkspace, variables), 'createWorkspace');
      expect(first).toMatchObject({ changed: true, replayed: false });
      const retry = field(await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.createWorkspace, variables)), 'createWorkspace');
      expect(retry).toMatchObject({ workspaceId: first.workspaceId, version: first.version, changed: true, replayed: true });
      await gateway.expectError(team.owner, Q.createWorkspace, { ...variables, name: 'another-name' }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
      const names = ((await gateway.ok(team.owner, Q.workspaces, { organizationId: team.organizationId })).workspaces as { name: string }[]).map((w) => w.name);
      expect(names).toEqual(['default', 'retried']);
    });

    it('addMember: the same key returns the first result even after later changes; a different command under it is refused', async () => {
      const team = await createTeam(gateway);
      const ws = team.defaultWorkspaceId;
      const key = unique('key');
      const variables = { workspaceId: ws, expectedVersion: 0, userId: 'alice', role: 'MEMBER', key };
      const first = field(await gateway.gql(team.owner, Q.addMember, variables), 'addMember');
      expect(first).toMatchObject({ version: 1, changed: true, replayed: false });
      const retry = field(await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.addMember, variables)), 'addMember');
      expect(retry).toMatchObject({ version: 1, changed: true, replayed: true });
      await gateway.ok(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 1, namespace: 'later' });
      const late = field(await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.addMember, variables)), 'addMember');
      expect(late).toMatchObject({ version: 1, replayed: true });
      expect(late.workspace.version).toBe(2);
      // The same key for another member, another role, or another mutation of the workspace.
      await gateway.expectError(team.owner, Q.addMember, { ...variables, userId: 'bob' }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
      await gateway.expectError(team.owner, Q.addMember, { ...variables, role: 'ADMIN' }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
      await gateway.expectError(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 0, namespace: 'x', key }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
      const members = (await gateway.streamEvents(`workspace-${ws}`)).filter((e) => e.type === 'MemberAdded');
      expect(members).toHaveLength(1);
    });

    it('attachCluster: the same key gives the same cluster id back', async () => {
      const team = await createTeam(gateway);
      const key = unique('key');
      const variables = { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, name: 'sim', simulator: 'small', key };
      const first = field(await gateway.gql(team.owner, Q.attachCluster, variables), 'attachCluster');
      expect(first).toMatchObject({ version: 1, changed: true, replayed: false, clusterId: expect.any(String) });
      const retry = field(await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.attachCluster, variables)), 'attachCluster');
      expect(retry).toMatchObject({ version: 1, replayed: true, clusterId: first.clusterId });
      expect(retry.workspace.clusters).toEqual([{ id: first.clusterId, name: 'sim', connection: expect.objectContaining({ kind: 'SIMULATOR' }) }]);
      await gateway.expectError(team.owner, Q.attachCluster, { ...variables, name: 'other' }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
    });

    it('writeSecret: the same key records the secret once (version 1)', async () => {
      const team = await createTeam(gateway);
      const key = unique('key');
      const variables = { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, name: 'api-token', values: [{ key: 'token', value: unique('value') }], key };
      const first = field(await gateway.gql(team.owner, Q.writeSecret, variables), 'writeSecret');
      expect(first).toMatchObject({ version: 1, changed: true, replayed: false });
      const retry = field(await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.writeSecret, variables)), 'writeSecret');
      expect(retry).toMatchObject({ version: 1, replayed: true });
      expect(retry.workspace.secrets).toEqual([expect.objectContaining({ name: 'api-token', version: 1 })]);
      await gateway.expectError(team.owner, Q.writeSecret, { ...variables, name: 'other-secret' }, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
      expect((await gateway.streamEvents(`workspace-${team.defaultWorkspaceId}`)).map((e) => e.type)).toEqual(['SecretWritten']);
    });

    it('deleteWorkspace: the same key answers the deletion again instead of NOT_FOUND', async () => {
      const team = await createTeam(gateway);
      const { workspaceId } = await createWs(team);
      const key = unique('key');
      const first = field(await gateway.gql(team.owner, Q.deleteWorkspace, { workspaceId, expectedVersion: 0, key }), 'deleteWorkspace');
      expect(first).toEqual({ workspaceId, version: 1, changed: true, replayed: false, workspace: null });
      const retry = field(await gateway.expectLogUnchanged(() => gateway.gql(team.owner, Q.deleteWorkspace, { workspaceId, expectedVersion: 0, key })), 'deleteWorkspace');
      expect(retry).toEqual({ ...first, replayed: true });
      // Without the key it is just gone.
      await gateway.expectError(team.owner, Q.deleteWorkspace, { workspaceId, expectedVersion: 1 }, 'NOT_FOUND');
      const organizationEvents = await gateway.streamEvents(`organization-${team.organizationId}`);
      expect(organizationEvents.filter((e) => e.type === 'WorkspaceDeleted')).toHaveLength(1);
    });

    it('records once when the same keyed request is sent 10 times at once', async () => {
      const team = await createTeam(gateway);
      const variables = { workspaceId: team.defaultWorkspaceId, expectedVersion: 0, namespace: 'once', key: unique('key') };
      const responses = await Promise.all(Array.from({ length: 10 }, () => gateway.gql(team.owner, Q.addNamespace, variables)));
      for (const response of responses) expect(response.body.errors).toBeUndefined();
      const answers = responses.map((r) => field(r, 'addNamespace'));
      expect(answers.every((a) => a.version === 1 && a.changed)).toBe(true);
      expect((await gateway.streamEvents(`workspace-${team.defaultWorkspaceId}`)).map((e) => e.type)).toEqual(['NamespaceAdded']);
      expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    });
  });

  describe('50 concurrent writers on one workspace', () => {
    const N = 50;

    it('lets exactly one of 50 mutations with the same expectedVersion through; the 49 others get CONFLICT and append nothing', async () => {
      const team = await createTeam(gateway);
      const ws = team.defaultWorkspaceId;
      await gateway.ok(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 0, namespace: 'base' });
      const before = await gateway.head();
      const responses = await Promise.all(Array.from({ length: N }, (_, i) => gateway.gql(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: 1, namespace: `racer-${i}` })));
      const winners = responses.filter((r) => r.body.errors === undefined);
      const losers = responses.filter((r) => r.body.errors !== undefined);
      expect(winners).toHaveLength(1);
      expect(field(winners[0]!, 'addNamespace')).toMatchObject({ version: 2, changed: true });
      expect(losers).toHaveLength(N - 1);
      for (const loser of losers) {
        expect(loser.status).toBe(200);
        expect(loser.body.errors).toHaveLength(1);
        expect(loser.body.errors![0]!.extensions).toEqual({ code: 'CONFLICT', field: 'expectedVersion', workspaceId: ws, currentVersion: 2 });
      }
      const events = await gateway.streamEvents(`workspace-${ws}`);
      expect(events.map((e) => e.type)).toEqual(['NamespaceAdded', 'NamespaceAdded']);
      expect(await gateway.head()).toBeGreaterThan(before);
      const namespaces = (await gateway.ok(team.owner, Q.workspace, { id: ws })).workspace.namespaces as string[];
      expect(namespaces).toHaveLength(2);
      expect(namespaces).toContain('base');
    });

    it('records every one of 50 writers exactly once when each retries on CONFLICT with the version it names; the API and a replay of the log agree', async () => {
      const team = await createTeam(gateway);
      const ws = team.defaultWorkspaceId;
      let attempts = 0;
      // Half add a namespace, half add a member: two kinds of event interleaved on one stream.
      const writer = async (i: number): Promise<number> => {
        let version = 0;
        for (;;) {
          attempts++;
          const response =
            i % 2 === 0
              ? await gateway.gql(team.owner, Q.addNamespace, { workspaceId: ws, expectedVersion: version, namespace: `ns-${i}` })
              : await gateway.gql(team.owner, Q.addMember, { workspaceId: ws, expectedVersion: version, userId: `user-${i}`, role: 'VIEWER' });
          const error = response.body.errors?.[0];
          if (!error) return Object.values(response.body.data as Record<string, { version: number }>)[0]!.version;
          if (error.extensions?.code !== 'CONFLICT') throw new Error(`writer ${i}: ${JSON.stringify(error)}`);
          version = error.extensions['currentVersion'] as number;
          // As a real client would, with a little jitter so that the retries do not all collide again.
          await sleep(Math.random() * 20);
        }
      };
      const versions = await Promise.all(Array.from({ length: N }, (_, i) => writer(i)));
      // Each success got its own version: 1..50, no two alike.
      expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(attempts).toBeGreaterThan(N);
      expect(attempts).toBeLessThanOrEqual((N * (N + 1)) / 2);

      const events = await gateway.streamEvents(`workspace-${ws}`);
      const count = (type: string) => events.filter((e) => e.type === type).length;
      expect(events).toHaveLength(N);
      expect(count('NamespaceAdded')).toBe(N / 2);
      expect(count('MemberAdded')).toBe(N / 2);
      const recorded = events.map((e) => (e.type === 'NamespaceAdded' ? (e.data as { namespace: string }).namespace : (e.data as { userId: string }).userId));
      expect(new Set(recorded).size).toBe(N);

      // The API's view.
      const api = (await gateway.ok(team.owner, Q.workspace, { id: ws })).workspace;
      expect(api.version).toBe(N);
      expect(api.namespaces).toEqual(Array.from({ length: N / 2 }, (_, k) => `ns-${2 * k}`).sort());

      // A fresh Directory folded from the log alone.
      const log = new EventLog(gateway.store, canopyEventRegistry());
      const replayed = new Directory();
      for await (const event of gateway.store.readAll()) replayed.apply(log.upcast(event));
      const view = replayed.workspace(ws)!;
      expect(view).toBeDefined();
      expect(view.version).toBe(api.version);
      expect([...view.state.namespaces].sort()).toEqual(api.namespaces);
      const apiMembers = (api.members as { userId: string; role: string; source: string }[]).filter((m) => m.source === 'EXPLICIT').map((m) => [m.userId, m.role.toLowerCase()]);
      expect([...view.state.members].sort(([a], [b]) => a.localeCompare(b))).toEqual(apiMembers.sort(([a], [b]) => a!.localeCompare(b!)));
      expect(api.memberCount).toBe(N / 2 + 1);
      expect([...view.organization.owners]).toEqual([team.owner]);
    });

    it('creates 20 workspaces at once in one organization, each once, with distinct names', async () => {
      const team = await createTeam(gateway);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => gateway.gql(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: `parallel-${i}`, kind: 'PROJECT' })),
      );
      const errors = responses.flatMap((r) => r.body.errors ?? []);
      expect(errors).toEqual([]);
      const names = ((await gateway.ok(team.owner, Q.workspaces, { organizationId: team.organizationId })).workspaces as { name: string }[]).map((w) => w.name);
      expect(names).toHaveLength(21);
    });
  });
});
