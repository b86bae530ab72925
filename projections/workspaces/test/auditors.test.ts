import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { auditedOrganizationIds, effectiveRoles, isAuditor, workspacesOf } from '../src/index.js';
import { as, closeKeyStore, startHarness, type Harness } from './harness.js';
import { sharedPgliteBackend } from './pglite-backend.js';

/**
 * Organization auditors in the read models (`organization_auditors`, kept
 * with the organizations and owners by `applyOrganizationEvent`): who audits
 * which organization, by user and for a batch of organizations. The log is
 * shared by the file's tests, so each test names users of its own.
 */
describe('organization auditors in the read models (PGlite)', () => {
  const backend = sharedPgliteBackend();
  let h: Harness | undefined;
  const open = async () => (h = await startHarness(backend));
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await closeKeyStore();
    await backend.teardown();
  });

  async function organization(h: Harness, owner: string, name: string) {
    const { commands, directory } = h.service;
    const { organizationId } = await commands.createOrganization(as(owner), { name, kind: 'team' });
    const [defaultId] = [...directory.organization(organizationId)!.state.workspaces.keys()];
    return { organizationId, defaultId: defaultId! };
  }

  it('answers the organizations a user audits, and which of a batch they audit', async () => {
    const h = await open();
    const { commands } = h.service;
    const membership = () => h.schema('membership');
    const acme = await organization(h, 'ada', 'Acme');
    const globex = await organization(h, 'bob', 'Globex');
    const ours = [acme.organizationId, globex.organizationId];
    const sorted = (ids: string[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

    await commands.addOrganizationAuditor(as('ada'), acme.organizationId, 'ivy-1');
    await commands.addOrganizationAuditor(as('bob'), globex.organizationId, 'ivy-1');
    await commands.addOrganizationAuditor(as('ada'), acme.organizationId, 'joe-1');
    await commands.addOrganizationAuditor(as('ada'), acme.organizationId, 'ivy-1'); // already: nothing appended
    await h.sync();

    expect(await auditedOrganizationIds(h.db, membership(), 'ivy-1')).toEqual(sorted(ours));
    expect(await auditedOrganizationIds(h.db, membership(), 'joe-1')).toEqual([acme.organizationId]);
    expect(await auditedOrganizationIds(h.db, membership(), 'nobody-1')).toEqual([]);
    // Owning is not auditing.
    expect(await auditedOrganizationIds(h.db, membership(), 'ada')).toEqual([]);

    expect(await isAuditor(h.db, membership(), 'ivy-1', [...ours, 'no-such-organization'])).toEqual(new Set(ours));
    expect(await isAuditor(h.db, membership(), 'joe-1', [...ours, acme.organizationId])).toEqual(new Set([acme.organizationId]));
    expect(await isAuditor(h.db, membership(), 'ada', ours)).toEqual(new Set());
    expect(await isAuditor(h.db, membership(), 'ivy-1', [])).toEqual(new Set());

    // Auditing grants no workspace role.
    expect(await effectiveRoles(h.db, membership(), 'ivy-1', [acme.defaultId, globex.defaultId])).toEqual(new Map());
    expect(await workspacesOf(h.db, membership(), 'ivy-1')).toEqual([]);

    // Removed, they audit no more; removing again changes nothing.
    await commands.removeOrganizationAuditor(as('ada'), acme.organizationId, 'ivy-1');
    expect(await commands.removeOrganizationAuditor(as('ada'), acme.organizationId, 'ivy-1')).toMatchObject({ changed: false });
    await h.sync();
    expect(await auditedOrganizationIds(h.db, membership(), 'ivy-1')).toEqual([globex.organizationId]);
    expect(await isAuditor(h.db, membership(), 'ivy-1', ours)).toEqual(new Set([globex.organizationId]));
    expect(await isAuditor(h.db, membership(), 'joe-1', ours)).toEqual(new Set([acme.organizationId]));
  });

  it('agrees with the domain for every user, also after a workspace is deleted, and rebuilds to the same checksum', async () => {
    const h = await open();
    const { commands, directory } = h.service;
    const acme = await organization(h, 'ada', 'Acme');
    const { workspaceId: web } = await commands.createWorkspace(as('ada'), { organizationId: acme.organizationId, name: 'web', kind: 'project' });
    await commands.addOrganizationAuditor(as('ada'), acme.organizationId, 'ivy-2');
    await commands.addOrganizationAuditor(as('ada'), acme.organizationId, 'joe-2');
    await commands.addOrganizationOwner(as('ada'), acme.organizationId, 'kim-2');
    await commands.addOrganizationAuditor(as('kim-2'), acme.organizationId, 'kim-2'); // an owner may audit too
    await commands.removeOrganizationAuditor(as('kim-2'), acme.organizationId, 'joe-2');
    await commands.deleteWorkspace(as('ada'), web, directory.workspace(web)!.version);
    await h.sync();

    const auditors = directory.organization(acme.organizationId)!.state.auditors;
    expect([...auditors].sort()).toEqual(['ivy-2', 'kim-2']);
    for (const user of ['ada', 'ivy-2', 'joe-2', 'kim-2']) {
      expect(await isAuditor(h.db, h.schema('membership'), user, [acme.organizationId])).toEqual(auditors.has(user) ? new Set([acme.organizationId]) : new Set());
    }

    const live = await h.runner.checksum('membership');
    await h.runner.rebuild('membership');
    const rebuilt = await h.runner.checksum('membership');
    expect([rebuilt.checksum, rebuilt.position]).toEqual([live.checksum, live.position]);
    expect(await auditedOrganizationIds(h.db, h.schema('membership'), 'ivy-2')).toEqual([acme.organizationId]);
  });
});
