import { afterAll, afterEach, expect, it } from '@jest/globals';
import { EventLog, type RecordedEvent } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import { organizationStream, workspaceHistory, workspaceStream, type CommandContext } from '@canopy/workspaces';
import { auditEntries, workspaceStreams, type AuditEntry, type AuditQuery } from '../src/index.js';
import { as, closeKeyStore, startHarness, type Backend, type Harness } from './harness.js';

const simulator = (name: string) => ({ kind: 'simulator', simulator: name });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The audit read model's cases, on PGlite (audit.test.ts) and PostgreSQL (audit.postgres.test.ts). */
export function auditCases(backend: Backend): void {
  let h: Harness | undefined;
  const open = async () => (h = await startHarness(backend));
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await closeKeyStore();
  });

  const schema = (h: Harness) => h.runner.activeSchema('audit');
  /** Every entry of a query, one page of 1,000. */
  const all = async (h: Harness, query: Omit<AuditQuery, 'first'>): Promise<AuditEntry[]> => {
    const page = await auditEntries(h.db, schema(h), { ...query, first: 1000 });
    expect(page.hasNextPage).toBe(false);
    return page.entries;
  };
  /** Every event of the log whose stream is one of `streams`, in log order. */
  const logEvents = async (h: Harness, streams: ReadonlySet<string>): Promise<RecordedEvent[]> => {
    const events: RecordedEvent[] = [];
    for await (const event of h.store.readAll({ filter: workspaceStreams })) if (streams.has(event.stream)) events.push(event);
    return events;
  };

  async function team(h: Harness) {
    const { commands, directory } = h.service;
    const { organizationId } = await commands.createOrganization(as('ada'), { name: 'Acme', kind: 'team' });
    const [defaultId] = [...directory.organization(organizationId)!.state.workspaces.keys()];
    const web = (await commands.createWorkspace(as('ada'), { organizationId, name: 'web', kind: 'project' })).workspaceId;
    const api = (await commands.createWorkspace(as('ada'), { organizationId, name: 'api', kind: 'environment', stage: 'dev' })).workspaceId;
    return { organizationId, defaultId: defaultId!, web, api };
  }

  it("shows a workspace's history with its organization-stream events, in log order, as the service's history does", async () => {
    const h = await open();
    const { commands } = h.service;
    const { organizationId, defaultId, web, api } = await team(h);
    const traced: CommandContext = { userId: 'ada', correlationId: 'req-42' };
    await commands.workspaceCommand(traced, web, h.version(web), { type: 'AddNamespace', namespace: 'shop' }, () => ({ type: 'AddNamespace', namespace: 'shop' }));
    await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'admin' });
    await commands.renameWorkspace(as('bob'), web, h.version(web), 'store');
    await h.ws('bob', web, { type: 'DescribeWorkspace', description: 'the store' });
    await commands.addOrganizationOwner(as('ada'), organizationId, 'carol');
    await h.ws('ada', api, { type: 'AddNamespace', namespace: 'jobs' });
    await h.sync();

    const entries = await all(h, { workspaceId: web });
    expect(entries.map((e) => [e.stream, e.type, e.actor])).toEqual([
      [organizationStream(organizationId), 'WorkspaceCreated', 'ada'],
      [workspaceStream(web), 'NamespaceAdded', 'ada'],
      [workspaceStream(web), 'MemberAdded', 'ada'],
      [organizationStream(organizationId), 'WorkspaceRenamed', 'bob'],
      [workspaceStream(web), 'WorkspaceDescribed', 'bob'],
    ]);
    expect(entries.every((e) => e.organizationId === organizationId && e.workspaceId === web)).toBe(true);
    expect(entries.map((e) => e.position)).toEqual([...entries.map((e) => e.position)].sort((a, b) => (a < b ? -1 : 1)));
    expect(entries.map((e) => e.revision)).toEqual([1n, 0n, 1n, 3n, 2n]);
    expect(entries.map((e) => e.correlationId)).toEqual([null, 'req-42', null, null, null]);
    expect(entries[3]!.data).toEqual({ organizationId, workspaceId: web, name: 'store', previousName: 'web' });
    expect(entries.every((e) => e.recordedAt instanceof Date && !Number.isNaN(e.recordedAt.getTime()))).toBe(true);

    // The organization's creation concerns its default workspace; owner changes concern the organization only.
    expect((await all(h, { workspaceId: defaultId })).map((e) => e.type)).toEqual(['OrganizationCreated']);
    const organization = await all(h, { organizationId });
    expect(organization.filter((e) => e.workspaceId === null).map((e) => e.type)).toEqual(['OrganizationOwnerAdded']);

    // Every workspace's trail equals what the workspaces service's own history reads from the log.
    const log = new EventLog(h.store, canopyEventRegistry());
    for (const id of [defaultId, web, api]) {
      const history = await workspaceHistory(log, id);
      expect((await all(h, { workspaceId: id })).map((e) => [e.position, e.stream, e.revision, e.type, e.actor ?? undefined, e.recordedAt.getTime(), e.data])).toEqual(
        history.map((e) => [e.position, e.stream, e.revision, e.type, e.actor, e.recordedAt.getTime(), e.data]),
      );
    }
  });

  it('filters by time range, actor and type', async () => {
    const h = await open();
    const { commands } = h.service;
    const { organizationId, web } = await team(h);
    await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'admin' });
    await h.ws('ada', web, { type: 'AddNamespace', namespace: 'a' });
    await sleep(20);
    await h.ws('bob', web, { type: 'AddNamespace', namespace: 'b' });
    await h.ws('bob', web, { type: 'RemoveNamespace', namespace: 'a' });
    await commands.renameWorkspace(as('bob'), web, h.version(web), 'store');
    await sleep(20);
    await h.ws('ada', web, { type: 'AddNamespace', namespace: 'c' });
    await h.ws('ada', web, { type: 'RemoveMember', userId: 'bob' });
    await h.sync();

    const entries = await all(h, { workspaceId: web });
    expect(entries).toHaveLength(8);
    const byBob = entries.filter((e) => e.actor === 'bob');
    expect(byBob.map((e) => e.type)).toEqual(['NamespaceAdded', 'NamespaceRemoved', 'WorkspaceRenamed']);

    // Time: since is inclusive, until exclusive.
    const since = byBob[0]!.recordedAt;
    const until = entries[6]!.recordedAt;
    expect(until.getTime()).toBeGreaterThan(byBob[2]!.recordedAt.getTime());
    const inRange = (e: AuditEntry) => e.recordedAt >= since && e.recordedAt < until;
    expect(await all(h, { workspaceId: web, since, until })).toEqual(entries.filter(inRange));
    expect((await all(h, { workspaceId: web, since, until })).map((e) => e.actor)).toEqual(['bob', 'bob', 'bob']);
    expect(await all(h, { workspaceId: web, since })).toEqual(entries.filter((e) => e.recordedAt >= since));
    expect(await all(h, { workspaceId: web, until: since })).toEqual(entries.filter((e) => e.recordedAt < since));
    expect(await all(h, { workspaceId: web, since: until, until: since })).toEqual([]);

    // Actor, types, and all together (also on the organization's trail).
    expect(await all(h, { workspaceId: web, actor: 'bob' })).toEqual(byBob);
    expect(await all(h, { workspaceId: web, actor: 'nobody' })).toEqual([]);
    expect((await all(h, { workspaceId: web, types: ['NamespaceAdded', 'NamespaceRemoved'] })).map((e) => e.data)).toEqual([
      { workspaceId: web, namespace: 'a' },
      { workspaceId: web, namespace: 'b' },
      { workspaceId: web, namespace: 'a' },
      { workspaceId: web, namespace: 'c' },
    ]);
    expect(await all(h, { workspaceId: web, types: [] })).toEqual([]);
    expect(await all(h, { workspaceId: web, actor: 'ada', types: ['NamespaceAdded'], since })).toEqual(entries.filter((e) => e.actor === 'ada' && e.type === 'NamespaceAdded' && e.recordedAt >= since));
    expect((await all(h, { organizationId, actor: 'bob', types: ['WorkspaceRenamed'] })).map((e) => [e.workspaceId, e.type])).toEqual([[web, 'WorkspaceRenamed']]);
    expect((await all(h, { organizationId, until: since })).map((e) => e.type)).toEqual(['OrganizationCreated', 'WorkspaceCreated', 'WorkspaceCreated', 'MemberAdded', 'NamespaceAdded']);
  });

  it('pages with first/after through every entry exactly once, oldest or newest first', async () => {
    const h = await open();
    const { organizationId, web, api } = await team(h);
    for (const namespace of ['a', 'b', 'c', 'd']) {
      await h.ws('ada', web, { type: 'AddNamespace', namespace });
      await h.ws('ada', api, { type: 'AddNamespace', namespace });
    }
    await h.ws('ada', web, { type: 'AddMember', userId: 'bob', role: 'admin' });
    await h.ws('bob', web, { type: 'RemoveNamespace', namespace: 'a' });
    await expect(h.ws('bob', api, { type: 'AddNamespace', namespace: 'e' })).rejects.toMatchObject({ code: expect.any(String) }); // bob has no role in api
    await h.sync();

    for (const scope of [{ workspaceId: web }, { organizationId }, { organizationId, actor: 'ada', types: ['NamespaceAdded'] }] as Omit<AuditQuery, 'first'>[]) {
      const everything = await all(h, scope);
      expect(everything.length).toBeGreaterThan(4);
      for (const newestFirst of [false, true]) {
        const expected = newestFirst ? [...everything].reverse() : everything;
        for (const first of [1, 2, 3, everything.length, everything.length + 1]) {
          const seen: AuditEntry[] = [];
          let after: bigint | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(everything.length);
            const page = await auditEntries(h.db, schema(h), { ...scope, first, newestFirst, ...(after === undefined ? {} : { after }) });
            expect(page.entries.length).toBeLessThanOrEqual(first);
            seen.push(...page.entries);
            if (!page.hasNextPage) break;
            expect(page.entries).toHaveLength(first);
            after = page.entries.at(-1)!.position;
          }
          expect(seen).toEqual(expected);
        }
      }
      // A cursor past either end gives an empty last page.
      expect(await auditEntries(h.db, schema(h), { ...scope, first: 5, after: everything.at(-1)!.position })).toEqual({ entries: [], hasNextPage: false });
      expect(await auditEntries(h.db, schema(h), { ...scope, first: 5, newestFirst: true, after: everything[0]!.position })).toEqual({ entries: [], hasNextPage: false });
      expect(await auditEntries(h.db, schema(h), { ...scope, first: 0 })).toEqual({ entries: [], hasNextPage: true });
    }
  });

  it("keeps a deleted workspace's history readable, and the organization's trail spans all its workspaces and no other organization's", async () => {
    const h = await open();
    const { commands, directory } = h.service;
    const { organizationId, defaultId, web, api } = await team(h);
    const other = await commands.createOrganization(as('bob'), { name: 'Other', kind: 'team' });
    const [otherDefault] = [...directory.organization(other.organizationId)!.state.workspaces.keys()];
    const otherWeb = (await commands.createWorkspace(as('bob'), { organizationId: other.organizationId, name: 'web', kind: 'project' })).workspaceId;
    const c1 = commands.newClusterId(as('ada'), web);
    await h.ws('ada', web, { type: 'AttachCluster', clusterId: c1, name: 'east', connection: simulator('east') });
    await h.ws('bob', otherWeb, { type: 'AddNamespace', namespace: 'shop' });
    await h.ws('ada', web, { type: 'AddNamespace', namespace: 'shop' });
    await h.ws('ada', web, { type: 'DetachCluster', clusterId: c1 });
    await commands.deleteWorkspace(as('ada'), web, h.version(web));
    await h.ws('ada', api, { type: 'AddNamespace', namespace: 'jobs' });
    await h.sync();
    expect(directory.workspace(web)).toBeUndefined();

    const history = await all(h, { workspaceId: web });
    expect(history.map((e) => e.type)).toEqual(['WorkspaceCreated', 'ClusterAttached', 'NamespaceAdded', 'ClusterDetached', 'WorkspaceClosed', 'WorkspaceDeleted']);
    expect(history.at(-1)).toMatchObject({ stream: organizationStream(organizationId), workspaceId: web, organizationId, actor: 'ada', data: { organizationId, workspaceId: web, name: 'web' } });

    // The organization's trail: every event of its stream and of its workspaces' streams (the deleted one's too), in log order.
    const streams = new Set([organizationStream(organizationId), ...[defaultId, web, api].map(workspaceStream)]);
    const expected = await logEvents(h, streams);
    const trail = await all(h, { organizationId });
    expect(trail.map((e) => [e.position, e.stream, e.revision, e.type])).toEqual(expected.map((e) => [e.position, e.stream, e.revision, e.type]));
    expect(trail.every((e) => e.organizationId === organizationId)).toBe(true);
    expect(new Set(trail.map((e) => e.workspaceId))).toEqual(new Set([defaultId, web, api]));
    const others = await all(h, { organizationId: other.organizationId });
    expect(others.map((e) => [e.stream, e.type])).toEqual([
      [organizationStream(other.organizationId), 'OrganizationCreated'],
      [organizationStream(other.organizationId), 'WorkspaceCreated'],
      [workspaceStream(otherWeb), 'NamespaceAdded'],
    ]);
    expect(others.map((e) => e.workspaceId)).toEqual([otherDefault, otherWeb, otherWeb]);
    expect(await all(h, { organizationId: 'no-such-organization' })).toEqual([]);
    expect(await all(h, { workspaceId: 'no-such-workspace' })).toEqual([]);
  });

  it('never stores sealed values: SecretWritten shows each key as [sealed]', async () => {
    const h = await open();
    const { commands } = h.service;
    const { organizationId, web } = await team(h);
    await commands.writeSecret(as('ada'), web, h.version(web), 'db', [
      { key: 'password', value: 'hunter2-plain' },
      { key: 'user', value: 'admin-plain' },
    ]);
    await commands.writeSecret(as('ada'), web, h.version(web), 'db', [{ key: 'password', value: 'hunter3-plain' }]);
    await h.ws('ada', web, { type: 'DeleteSecret', name: 'db' });
    await h.sync();

    const secrets = await all(h, { workspaceId: web, types: ['SecretWritten', 'SecretDeleted'] });
    expect(secrets.map((e) => e.data)).toEqual([
      { workspaceId: web, name: 'db', version: 1, values: { password: '[sealed]', user: '[sealed]' }, writtenBy: 'ada' },
      { workspaceId: web, name: 'db', version: 2, values: { password: '[sealed]' }, writtenBy: 'ada' },
      { workspaceId: web, name: 'db' },
    ]);

    // What the log holds is ciphertext; none of it (nor the plain values) is anywhere in the audit tables.
    const sealed: string[] = [];
    for (const event of await logEvents(h, new Set([workspaceStream(web)]))) {
      if (event.type !== 'SecretWritten') continue;
      for (const value of Object.values((event.data as { values: Record<string, { iv: string; ciphertext: string; tag: string }> }).values)) {
        sealed.push(value.ciphertext, value.iv, value.tag);
      }
    }
    expect(sealed).toHaveLength(9);
    const tables = await h.db.query<{ text: string }>(
      `SELECT (SELECT coalesce(string_agg(e::text, E'\\n'), '') FROM ${schema(h)}.entries e) || (SELECT coalesce(string_agg(w::text, E'\\n'), '') FROM ${schema(h)}.workspaces w) AS text`,
    );
    const text = tables[0]!.text;
    expect(text).toContain(web);
    for (const secret of [...sealed, 'hunter2-plain', 'hunter3-plain', 'admin-plain', 'ciphertext', 'A256GCM']) expect(text).not.toContain(secret);
    expect((await all(h, { organizationId })).filter((e) => JSON.stringify(e.data).includes('ciphertext'))).toEqual([]);
  });

  it('rebuilds to the same checksum, and refuses a query without exactly one scope', async () => {
    const h = await open();
    const { organizationId, web } = await team(h);
    await h.ws('ada', web, { type: 'AddNamespace', namespace: 'shop' });
    await h.service.commands.writeSecret(as('ada'), web, h.version(web), 'token', [{ key: 'value', value: 'abc' }]);
    await h.sync();
    const live = await h.runner.checksum('audit');
    await h.runner.rebuild('audit');
    const rebuilt = await h.runner.checksum('audit');
    expect([rebuilt.checksum, rebuilt.position]).toEqual([live.checksum, live.position]);
    // One row per event of the organization and workspace streams (the log may be shared with other tests: all of it).
    const [count] = await h.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema(h)}.entries`);
    let events = 0;
    for await (const _ of h.store.readAll({ filter: workspaceStreams })) events++;
    expect(Number(count!.n)).toBe(events);

    await expect(auditEntries(h.db, schema(h), { first: 1 })).rejects.toThrow(/exactly one/);
    await expect(auditEntries(h.db, schema(h), { organizationId, workspaceId: web, first: 1 })).rejects.toThrow(/exactly one/);
    await expect(auditEntries(h.db, schema(h), { workspaceId: web, first: -1 })).rejects.toThrow(/first/);
    await expect(auditEntries(h.db, schema(h), { workspaceId: web, first: 1.5 })).rejects.toThrow(/first/);
  });
}
