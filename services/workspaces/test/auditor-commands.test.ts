import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog, openPgliteEventStore, type EventStore } from '@canopy/eventstore';
import { openKeyStore, type OpenedKeyStore } from '@canopy/keystore';
import { canopyEventRegistry, CanopyError, ErrorCode } from '@canopy/schema';
import { organizationStream, startWorkspacesService, streamHistory, workspaceHistory, type CommandContext, type WorkspacesService } from '../src/index.js';

const as = (userId: string): CommandContext => ({ userId });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CanopyError) return error.code;
    throw error;
  }
  throw new Error('expected a CanopyError');
}

/**
 * The command handlers with auditors, on an in-memory log: auditors are
 * refused (FORBIDDEN), not told the organization or its workspaces do not
 * exist (NOT_FOUND) as strangers are, because they read its history.
 */
describe('organization auditors through the command handlers', () => {
  let store: EventStore;
  let keys: OpenedKeyStore;
  let service: WorkspacesService;
  let log: EventLog;

  beforeAll(async () => {
    store = await openPgliteEventStore();
    keys = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
    log = new EventLog(store, canopyEventRegistry());
    service = await startWorkspacesService({ log, keys: keys.keys });
  });
  afterAll(async () => {
    await service.close();
    await keys.close();
    await store.close();
  });

  async function team() {
    const { commands, directory } = service;
    const { organizationId } = await commands.createOrganization(as('ada'), { name: 'Acme', kind: 'team' });
    const [defaultId] = [...directory.organization(organizationId)!.state.workspaces.keys()];
    const { workspaceId: web } = await commands.createWorkspace(as('ada'), { organizationId, name: 'web', kind: 'project' });
    return { organizationId, defaultId: defaultId!, web };
  }

  const version = (workspaceId: string) => service.directory.workspace(workspaceId)!.version;

  it('owners add and remove auditors; a repeat changes nothing and appends nothing', async () => {
    const { commands, directory } = service;
    const { organizationId } = await team();
    const added = await commands.addOrganizationAuditor(as('ada'), organizationId, 'ivy');
    expect(added).toMatchObject({ version: 3, changed: true, replayed: false });
    expect(await commands.addOrganizationAuditor(as('ada'), organizationId, 'ivy')).toMatchObject({ version: 3, changed: false });
    expect([...directory.organization(organizationId)!.state.auditors]).toEqual(['ivy']);
    expect(await commands.removeOrganizationAuditor(as('ada'), organizationId, 'ivy')).toMatchObject({ version: 4, changed: true });
    expect(await commands.removeOrganizationAuditor(as('ada'), organizationId, 'ivy')).toMatchObject({ version: 4, changed: false });
    expect(directory.organization(organizationId)!.state.auditors.size).toBe(0);

    const events = [];
    for await (const event of log.readStream(organizationStream(organizationId))) events.push(event);
    expect(events.slice(2).map((e) => [e.type, e.data, e.metadata.actor])).toEqual([
      ['OrganizationAuditorAdded', { organizationId, userId: 'ivy' }, 'ada'],
      ['OrganizationAuditorRemoved', { organizationId, userId: 'ivy' }, 'ada'],
    ]);
  });

  it('a retry under the same idempotency key is replayed', async () => {
    const { organizationId } = await team();
    const first = await service.commands.addOrganizationAuditor({ userId: 'ada', idempotencyKey: 'k1' }, organizationId, 'ivy');
    const retry = await service.commands.addOrganizationAuditor({ userId: 'ada', idempotencyKey: 'k1' }, organizationId, 'ivy');
    expect(retry).toMatchObject({ version: first.version, changed: true, replayed: true });
    expect(await codeOf(service.commands.removeOrganizationAuditor({ userId: 'ada', idempotencyKey: 'k1' }, organizationId, 'ivy'))).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
  });

  it('strangers are told the organization does not exist; workspace members and auditors are refused', async () => {
    const { commands } = service;
    const { organizationId, web } = await team();
    await commands.workspaceCommand(as('ada'), web, version(web), {}, () => ({ type: 'AddMember', userId: 'bob', role: 'admin' }));
    await commands.addOrganizationAuditor(as('ada'), organizationId, 'ivy');

    expect(await codeOf(commands.addOrganizationAuditor(as('eve'), organizationId, 'eve'))).toBe(ErrorCode.NOT_FOUND);
    expect(await codeOf(commands.removeOrganizationAuditor(as('eve'), organizationId, 'ivy'))).toBe(ErrorCode.NOT_FOUND);
    expect(await codeOf(commands.addOrganizationAuditor(as('bob'), organizationId, 'bob'))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.addOrganizationAuditor(as('ada'), 'no-such-organization', 'ivy'))).toBe(ErrorCode.NOT_FOUND);

    // The auditor knows the organization: every command is FORBIDDEN, none NOT_FOUND.
    expect(await codeOf(commands.addOrganizationAuditor(as('ivy'), organizationId, 'eve'))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.removeOrganizationAuditor(as('ivy'), organizationId, 'ivy'))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.addOrganizationOwner(as('ivy'), organizationId, 'ivy'))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.removeOrganizationOwner(as('ivy'), organizationId, 'ada'))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.createWorkspace(as('ivy'), { organizationId, name: 'api', kind: 'project' }))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.renameWorkspace(as('ivy'), web, version(web), 'shop'))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.deleteWorkspace(as('ivy'), web, version(web)))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.workspaceCommand(as('ivy'), web, version(web), {}, () => ({ type: 'AddNamespace', namespace: 'web' })))).toBe(ErrorCode.FORBIDDEN);
    expect(await codeOf(commands.writeSecret(as('ivy'), web, version(web), 'db', [{ key: 'password', value: 'x' }]))).toBe(ErrorCode.FORBIDDEN);
    // A stranger still does not see the workspace.
    expect(await codeOf(commands.workspaceCommand(as('eve'), web, version(web), {}, () => ({ type: 'AddNamespace', namespace: 'web' })))).toBe(ErrorCode.NOT_FOUND);

    // Auditing grants no role and takes none away: an auditor who is also a member acts by their role.
    await commands.addOrganizationAuditor(as('ada'), organizationId, 'bob');
    expect(await commands.workspaceCommand(as('bob'), web, version(web), {}, () => ({ type: 'AddNamespace', namespace: 'web' }))).toMatchObject({ changed: true });

    // Removed, the auditor is a stranger again.
    await commands.removeOrganizationAuditor(as('ada'), organizationId, 'ivy');
    expect(await codeOf(commands.addOrganizationOwner(as('ivy'), organizationId, 'ivy'))).toBe(ErrorCode.NOT_FOUND);
    expect(await codeOf(commands.renameWorkspace(as('ivy'), web, version(web), 'shop'))).toBe(ErrorCode.NOT_FOUND);
  });

  it("shows in the organization stream's history (canopy history --stream), not in a workspace's", async () => {
    const { organizationId, web } = await team();
    await service.commands.addOrganizationAuditor(as('ada'), organizationId, 'ivy');
    await service.commands.removeOrganizationAuditor(as('ada'), organizationId, 'ivy');
    const entries = await streamHistory(log, organizationStream(organizationId));
    expect(entries.slice(2).map((e) => [e.type, e.actor, e.data])).toEqual([
      ['OrganizationAuditorAdded', 'ada', { organizationId, userId: 'ivy' }],
      ['OrganizationAuditorRemoved', 'ada', { organizationId, userId: 'ivy' }],
    ]);
    // Like owners, auditors concern the organization, not one workspace.
    expect((await workspaceHistory(log, web)).map((e) => e.type)).toEqual(['WorkspaceCreated']);
  });

  it('a user id is validated: BAD_USER_INPUT naming userId, nothing appended', async () => {
    const { organizationId } = await team();
    const error = await service.commands.addOrganizationAuditor(as('ada'), organizationId, '').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanopyError);
    expect((error as CanopyError).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect((error as CanopyError).details).toMatchObject({ field: 'userId' });
    expect(service.directory.organization(organizationId)!.revision).toBe(1n);
  });
});
