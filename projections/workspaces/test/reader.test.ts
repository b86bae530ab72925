import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadModelTx } from '@canopy/projections';
import { workspaceReads } from '../src/index.js';
import { as, closeKeyStore, startHarness, type Harness } from './harness.js';
import { sharedPgliteBackend } from './pglite-backend.js';

/**
 * The per-request reads the API resolves with: every lookup of one tick is
 * one SQL statement, whatever the number of workspaces; a repeated lookup
 * is answered from the request's cache; and nothing leaks across
 * workspaces the caller holds no role in.
 */
describe('workspace reads (DataLoader over the read models)', () => {
  const backend = sharedPgliteBackend();
  let h: Harness;
  const workspaceIds: string[] = [];
  let strangersWorkspace: string;

  beforeAll(async () => {
    h = await startHarness(backend);
    const { commands, directory } = h.service;
    const { organizationId } = await commands.createOrganization(as('ada'), { name: 'Acme', kind: 'team' });
    for (let i = 0; i < 30; i++) {
      const { workspaceId } = await commands.createWorkspace(as('ada'), { organizationId, name: `ws-${i}`, kind: 'project' });
      await h.ws('ada', workspaceId, { type: 'AddMember', userId: 'bob', role: i % 2 === 0 ? 'viewer' : 'admin' });
      await h.ws('ada', workspaceId, { type: 'AddNamespace', namespace: `ns-${i}` });
      workspaceIds.push(workspaceId);
    }
    const other = await commands.createOrganization(as('eve'), { name: 'Other', kind: 'team' });
    strangersWorkspace = [...directory.organization(other.organizationId)!.state.workspaces.keys()][0]!;
    await h.sync();
  }, 60_000);

  afterAll(async () => {
    await h.close();
    await closeKeyStore();
    await backend.teardown();
  });

  /** The reads of one request, with every statement they send counted. */
  function request(userId: string) {
    const statements: string[] = [];
    const counting: ReadModelTx = {
      query: (sql, params) => {
        statements.push(sql);
        return h.db.query(sql, params);
      },
      exec: (script) => h.db.exec(script),
    };
    return { reads: workspaceReads({ db: counting, schemaOf: (name) => h.runner.activeSchema(name) }, userId), statements };
  }

  it('answers a page of workspaces with one statement per kind of lookup, whatever the page size', async () => {
    for (const size of [1, 10, 30]) {
      const { reads, statements } = request('bob');
      const page = workspaceIds.slice(0, size);
      const [roles, records, members, details, quotas] = await Promise.all([
        Promise.all(page.map((id) => reads.roleIn(id))),
        Promise.all(page.map((id) => reads.workspace(id))),
        Promise.all(page.map((id) => reads.members(id))),
        Promise.all(page.map((id) => reads.details(id))),
        Promise.all(page.map((id) => reads.quotaSettings(id))),
      ]);
      expect(statements).toHaveLength(5);
      expect(roles).toEqual(page.map((_, i) => (i % 2 === 0 ? 'viewer' : 'admin')));
      expect(records.map((r) => r?.name)).toEqual(page.map((_, i) => `ws-${i}`));
      expect(members.map((m) => m.map((x) => x.userId))).toEqual(page.map(() => ['ada', 'bob']));
      expect(details.map((d) => d.namespaces)).toEqual(page.map((_, i) => [`ns-${i}`]));
      expect(quotas.every((q) => q.budget.cpu === 'unlimited')).toBe(true);
      // Asked again in the same request: answered from the cache.
      await Promise.all(page.map((id) => reads.roleIn(id)));
      expect(statements).toHaveLength(5);
    }
  });

  it('lists the caller’s workspaces in two statements, and their roles need no third', async () => {
    const { reads, statements } = request('bob');
    const visible = await reads.workspacesOf();
    expect(visible.map((w) => w.name)).toEqual(workspaceIds.map((_, i) => `ws-${i}`).sort());
    expect(statements).toHaveLength(2);
    await Promise.all(visible.map((w) => reads.roleIn(w.workspaceId)));
    expect(statements).toHaveLength(2);
  });

  it('gives a caller nothing of a workspace they hold no role in', async () => {
    const { reads } = request('bob');
    expect(await reads.roleIn(strangersWorkspace)).toBeUndefined();
    expect((await reads.workspacesOf()).some((w) => w.workspaceId === strangersWorkspace)).toBe(false);
    expect((await reads.organizations()).map((o) => o.name)).toEqual(['Acme']);
    expect(await reads.belongsTo((await request('eve').reads.organizations())[0]!.organizationId)).toBe(false);
  });
});
