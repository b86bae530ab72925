import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ExecutionResult } from 'graphql';
import { ErrorCode } from '@canopy/schema';
import { subgraphSdl } from '@canopy/workspaces';
import { dataOf, errorOf, logFeed, startGraphqlHarness, take, type GraphqlHarness } from './graphql-harness.js';
import { as, type Team } from './harness.js';

const BACKUP_NOW = `mutation($workspaceId: ID!, $backup: BackupNowInput!, $key: String) {
  backupNow(workspaceId: $workspaceId, backup: $backup, idempotencyKey: $key) { id changed replayed position consistent }
}`;
const CREATE_SCHEDULE = `mutation($workspaceId: ID!, $schedule: BackupScheduleInput!) {
  createBackupSchedule(workspaceId: $workspaceId, schedule: $schedule) { id changed position }
}`;
const WORKSPACE_BACKUPS = `query($id: ID!, $first: Int, $after: String, $status: [BackupStatus!], $scheduleId: ID, $onDemand: Boolean) {
  _entities(representations: [{ __typename: "Workspace", id: $id }]) {
    ... on Workspace {
      backups(first: $first, after: $after, status: $status, scheduleId: $scheduleId, onDemand: $onDemand) {
        edges { cursor node { id status } }
        nodes { id name status trigger scheduleId percent clusters { planned done failed skipped } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;
const PROGRESS = `subscription($workspaceId: ID!, $backupId: ID, $after: String) {
  backupProgress(workspaceId: $workspaceId, backupId: $backupId, after: $after) {
    cursor kind backupId workspaceId status finished
    cluster { clusterName phase itemsDone totalItems }
    progress { percent clusters { planned done failed skipped running pending } estimatedSecondsLeft }
  }
}`;

const backupInput = (team: Team, overrides: Record<string, unknown> = {}) => ({
  prefix: 'manual',
  locationId: team.locationId,
  includeAllDisks: true,
  includeClusterResources: 'AUTO',
  namespaces: ['shop', 'db'],
  ...overrides,
});

const report = (clusterId: string, phase: string, itemsDone: number, extra: Record<string, unknown> = {}) => ({
  clusterId,
  phase,
  itemsDone,
  totalItems: 200,
  warnings: 0,
  errors: 0,
  startedAt: '2026-03-01T10:00:00.000Z',
  observedAt: '2026-03-01T10:05:00.000Z',
  ...extra,
});

describe('the backups GraphQL API', () => {
  let g: GraphqlHarness;
  beforeAll(async () => {
    g = await startGraphqlHarness();
  }, 120_000);
  afterAll(async () => {
    await g?.close();
  });

  const watcher = as('velero-watcher');
  const backupNow = async (userId: string, team: Team, overrides: Record<string, unknown> = {}) =>
    g.run(userId, BACKUP_NOW, { workspaceId: team.workspaceId, backup: backupInput(team, overrides) });
  /** Runs a mutation that must be refused: its error, with nothing appended to the log. */
  async function refused(userId: string, query: string, variables: Record<string, unknown>) {
    const before = await g.h.head();
    const error = errorOf(await g.run(userId, query, variables));
    expect(await g.h.head()).toBe(before);
    return error;
  }

  it('prints a Federation 2 subgraph that extends Workspace by id', async () => {
    const sdl = subgraphSdl(g.schema);
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    expect(sdl).toMatch(/type Workspace\s+@key\(fields: "id"\)/);
    expect(sdl).toContain('backupProgress(');
    const service = dataOf(await g.run('ada', '{ _service { sdl } }'));
    expect(service._service.sdl).toContain('type Backup');
  });

  it('lets every role see backups and only admins and owners back up; strangers are told nothing exists', async () => {
    const team = await g.h.team();
    const created = dataOf(await backupNow('bob', team)).backupNow;
    expect(created).toMatchObject({ changed: true, replayed: false, consistent: true });
    // The viewer reads the backup at once (the admin's write is projected: `consistent` waited for it).
    const seen = dataOf(await g.run('dan', 'query($id: ID!) { backup(id: $id) { id workspaceId status requestedBy clusters { planned } } }', { id: created.id }));
    expect(seen.backup).toEqual({ id: created.id, workspaceId: team.workspaceId, status: 'PENDING', requestedBy: 'bob', clusters: { planned: 2 } });
    const listed = dataOf(await g.run('dan', WORKSPACE_BACKUPS, { id: team.workspaceId }));
    expect(listed._entities[0].backups.nodes.map((b: { id: string }) => b.id)).toEqual([created.id]);

    for (const userId of ['dan', 'carol']) {
      expect(await refused(userId, BACKUP_NOW, { workspaceId: team.workspaceId, backup: backupInput(team) })).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        details: { action: 'manageBackups' },
      });
    }
    expect((await refused('eve', BACKUP_NOW, { workspaceId: team.workspaceId, backup: backupInput(team) })).code).toBe(ErrorCode.NOT_FOUND);
    expect(errorOf(await g.run('eve', 'query($id: ID!) { backup(id: $id) { id } }', { id: created.id }))).toMatchObject({
      code: ErrorCode.NOT_FOUND,
      details: { field: 'backupId' },
    });
    // A router resolving the workspace for a stranger gets nothing.
    expect(dataOf(await g.run('eve', WORKSPACE_BACKUPS, { id: team.workspaceId }))._entities).toEqual([null]);
    // A retry with the same idempotency key answers the first result and records nothing.
    const keyed = { workspaceId: team.workspaceId, backup: backupInput(team), key: 'retry-1' };
    const once = dataOf(await g.run('bob', BACKUP_NOW, keyed)).backupNow;
    const head = await g.h.head();
    expect(dataOf(await g.run('bob', BACKUP_NOW, keyed)).backupNow).toEqual({ ...once, replayed: true });
    expect(await g.h.head()).toBe(head);
    // Viewers cannot restore or delete either.
    expect((await refused('dan', 'mutation($id: ID!) { deleteBackup(backupId: $id) { id } }', { id: created.id })).code).toBe(ErrorCode.FORBIDDEN);
  });

  it('refuses bad input with a stable code and the field, appending nothing', async () => {
    const team = await g.h.team();
    const schedule = { prefix: 'nightly', locationId: team.locationId, cron: '0 2 * * *', expiry: '30d', includeAllDisks: true, includeClusterResources: 'YES', namespaces: ['shop'] };
    const cases: [string, Record<string, unknown>, ErrorCode, string][] = [
      [CREATE_SCHEDULE, { workspaceId: team.workspaceId, schedule: { ...schedule, cron: '0 2 * *' } }, ErrorCode.BAD_USER_INPUT, 'cron'],
      [CREATE_SCHEDULE, { workspaceId: team.workspaceId, schedule: { ...schedule, cron: '@daily' } }, ErrorCode.BAD_USER_INPUT, 'cron'],
      [CREATE_SCHEDULE, { workspaceId: team.workspaceId, schedule: { ...schedule, expiry: '0h' } }, ErrorCode.BAD_USER_INPUT, 'expiry'],
      [CREATE_SCHEDULE, { workspaceId: team.workspaceId, schedule: { ...schedule, locationId: 'no-such-location' } }, ErrorCode.NOT_FOUND, 'locationId'],
      [CREATE_SCHEDULE, { workspaceId: team.workspaceId, schedule: { ...schedule, namespaces: [] } }, ErrorCode.BAD_USER_INPUT, 'namespaces'],
      [BACKUP_NOW, { workspaceId: team.workspaceId, backup: backupInput(team, { expiresAt: '2020-01-01T00:00:00Z' }) }, ErrorCode.BAD_USER_INPUT, 'expiresAt'],
      [BACKUP_NOW, { workspaceId: team.workspaceId, backup: backupInput(team, { namespaces: ['nope'] }) }, ErrorCode.NOT_FOUND, 'namespaces.0'],
    ];
    for (const [query, variables, code, field] of cases) {
      expect(await refused('bob', query, variables)).toMatchObject({ code, details: { field } });
    }
    const location = { name: 'leaky', provider: 'AWS', bucket: 'acme-backups', credentials: { secretName: 'Not A Name', key: 'cloud' } };
    expect(
      await refused('bob', 'mutation($w: ID!, $l: BackupLocationInput!) { addWorkspaceBackupLocation(workspaceId: $w, location: $l) { id } }', { w: team.workspaceId, l: location }),
    ).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: expect.stringMatching(/^credentials/) } });
    expect(errorOf(await g.run('bob', WORKSPACE_BACKUPS, { id: team.workspaceId, first: 501 }))).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'first' } });
    expect(errorOf(await g.run('bob', WORKSPACE_BACKUPS, { id: team.workspaceId, after: 'garbage' }))).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'after' } });
  });

  it('manages locations and schedules: create, change, pause, resume, delete, as the queries show them', async () => {
    const team = await g.h.team();
    const location = { name: 'local', provider: 'GCP', bucket: 'web-backups', prefix: 'web', credentials: { secretName: 'gcp-credentials', key: 'sa.json' } };
    const added = dataOf(
      await g.run('bob', 'mutation($w: ID!, $l: BackupLocationInput!) { addWorkspaceBackupLocation(workspaceId: $w, location: $l) { id changed } }', { w: team.workspaceId, l: location }),
    ).addWorkspaceBackupLocation;
    expect(added.changed).toBe(true);
    // Organization-wide locations are for the organization's owners only.
    expect((await refused('bob', 'mutation($o: ID!, $l: BackupLocationInput!) { addOrganizationBackupLocation(organizationId: $o, location: $l) { id } }', { o: team.organizationId, l: { ...location, name: 'shared' } })).code).toBe(ErrorCode.FORBIDDEN);
    dataOf(await g.run('bob', 'mutation($id: ID!) { changeBackupLocation(locationId: $id, changes: { bucket: "web-backups-2" }) { id changed } }', { id: added.id }));

    const created = dataOf(
      await g.run('bob', CREATE_SCHEDULE, {
        workspaceId: team.workspaceId,
        schedule: { prefix: 'nightly', locationId: added.id, cron: '0 2 * * *', expiry: '720h', includeAllDisks: true, includeClusterResources: 'NO', namespaces: ['shop', '/^d/'], clusters: [team.east] },
      }),
    ).createBackupSchedule;
    const change = (fields: string) =>
      g.run('bob', `mutation($w: ID!, $s: ID!) { changeBackupSchedule(workspaceId: $w, scheduleId: $s, changes: { ${fields} }) { id changed } }`, { w: team.workspaceId, s: created.id });
    expect(dataOf(await change('cron: "30 3 * * 1-5", clusters: null')).changeBackupSchedule.changed).toBe(true);
    const lifecycle = (name: string) => g.run('bob', `mutation($w: ID!, $s: ID!) { ${name}(workspaceId: $w, scheduleId: $s) { id changed } }`, { w: team.workspaceId, s: created.id });
    expect(dataOf(await lifecycle('pauseBackupSchedule')).pauseBackupSchedule.changed).toBe(true);

    const read = async (userId: string) =>
      dataOf(
        await g.run(
          userId,
          `query($id: ID!) { _entities(representations: [{ __typename: "Workspace", id: $id }]) { ... on Workspace {
             backupSchedules { id prefix locationId cron expiry expirySeconds paused createdBy includeClusterResources namespaces clusters nextRunAt }
             backupLocations { id name provider bucket prefix workspaceId credentials { secretName key } } } } }`,
          { id: team.workspaceId },
        ),
      )._entities[0];
    const paused = await read('dan');
    expect(paused.backupSchedules).toEqual([
      { id: created.id, prefix: 'nightly', locationId: added.id, cron: '30 3 * * 1-5', expiry: '30d', expirySeconds: 2_592_000, paused: true, createdBy: 'bob', includeClusterResources: 'NO', namespaces: ['shop', '/^d/'], clusters: null, nextRunAt: null },
    ]);
    expect(paused.backupLocations.map((l: { name: string; workspaceId: string | null; bucket: string }) => [l.name, l.workspaceId, l.bucket])).toEqual([
      ['local', team.workspaceId, 'web-backups-2'],
      ['primary', null, 'acme-backups'],
    ]);
    expect(dataOf(await lifecycle('resumeBackupSchedule')).resumeBackupSchedule.changed).toBe(true);
    expect((await read('dan')).backupSchedules[0]).toMatchObject({ paused: false, nextRunAt: '2026-03-02T03:30:00.000Z' });
    // The location is in use: it cannot go while the schedule needs it.
    expect((await refused('bob', 'mutation($id: ID!) { removeBackupLocation(locationId: $id) { id } }', { id: added.id })).code).toBe(ErrorCode.CONFLICT);
    expect(dataOf(await lifecycle('deleteBackupSchedule')).deleteBackupSchedule.changed).toBe(true);
    expect(dataOf(await g.run('bob', 'mutation($id: ID!) { removeBackupLocation(locationId: $id) { changed } }', { id: added.id })).removeBackupLocation.changed).toBe(true);
    expect(await read('dan')).toMatchObject({ backupSchedules: [], backupLocations: [{ name: 'primary' }] });
  });

  it('pages through backups newest first with filters, and shows one backup per cluster; restores likewise', async () => {
    const team = await g.h.team();
    const { commands } = g.h.backups;
    g.h.clock.now = new Date('2026-03-01T10:00:00.000Z');
    const { scheduleId } = await commands.createSchedule(as('bob'), team.workspaceId, {
      prefix: 'hourly', locationId: team.locationId, cron: '30 * * * *', expiry: '1d', includeAllDisks: false, includeClusterResources: 'auto', namespaces: ['shop'], clusters: null,
    });
    g.h.clock.now = new Date('2026-03-01T11:00:00.000Z');
    const completed = dataOf(await backupNow('bob', team)).backupNow.id;
    for (const clusterId of [team.east, team.west]) await commands.recordBackupReport(watcher, completed, report(clusterId, 'Completed', 200, { completedAt: '2026-03-01T11:20:00.000Z' }));
    g.h.clock.now = new Date('2026-03-01T12:00:00.000Z');
    g.h.health.set(team.west, { status: 'unreachable', message: 'no route to host' });
    const partial = dataOf(await backupNow('bob', team)).backupNow.id;
    g.h.health.delete(team.west);
    await commands.recordBackupReport(watcher, partial, report(team.east, 'Completed', 200));
    const scheduled = (await commands.runDueSchedules(new Date('2026-03-01T12:30:10.000Z'))).started.find(
      (id) => g.h.backups.directory.backup(id).state.request?.workspaceId === team.workspaceId,
    )!;
    g.h.clock.now = new Date('2026-03-01T13:00:00.000Z');
    const restored = dataOf(
      await g.run('ada', 'mutation($id: ID!) { restoreBackup(backupId: $id, options: { includeClusterResources: false, preserveNodePorts: true, restorePersistentVolumes: true }) { id consistent } }', {
        id: completed,
      }),
    ).restoreBackup;
    await g.sync();

    const page = async (variables: Record<string, unknown>) => dataOf(await g.run('dan', WORKSPACE_BACKUPS, { id: team.workspaceId, ...variables }))._entities[0].backups;
    const first = await page({ first: 2 });
    expect(first.nodes.map((b: { id: string }) => b.id)).toEqual([scheduled, partial]);
    expect(first.nodes[0]).toMatchObject({ trigger: 'SCHEDULE', scheduleId, status: 'PENDING' });
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.edges[1].cursor).toBe(first.pageInfo.endCursor);
    const second = await page({ first: 2, after: first.pageInfo.endCursor });
    expect(second.nodes.map((b: { id: string; status: string }) => [b.id, b.status])).toEqual([[completed, 'COMPLETED']]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    // Resuming after the first edge's cursor continues right after it.
    expect((await page({ first: 5, after: first.edges[0].cursor })).nodes.map((b: { id: string }) => b.id)).toEqual([partial, completed]);
    expect((await page({ status: ['COMPLETED', 'PARTIALLY_FAILED'] })).nodes.map((b: { id: string }) => b.id)).toEqual([partial, completed]);
    expect((await page({ scheduleId })).nodes.map((b: { id: string }) => b.id)).toEqual([scheduled]);
    expect((await page({ onDemand: true })).nodes.map((b: { id: string }) => b.id)).toEqual([partial, completed]);

    // A page with every backup's per-cluster detail and aggregate: one statement for the page, two for all the details (DataLoader).
    const before = g.statements();
    const detailed = dataOf(
      await g.run('dan', `query($id: ID!) { _entities(representations: [{ __typename: "Workspace", id: $id }]) { ... on Workspace {
        backups(first: 10) { nodes { id clusterDetails { clusterName phase } progress { percent } } } } } }`, { id: team.workspaceId }),
    )._entities[0].backups.nodes;
    expect(detailed.map((b: { clusterDetails: unknown[] }) => b.clusterDetails.length)).toEqual([2, 2, 2]);
    expect(g.statements() - before).toBe(3);

    const detail = dataOf(
      await g.run(
        'dan',
        `query($id: ID!) { backup(id: $id) { status percent clusters { planned done failed skipped }
           clusterDetails { clusterName phase skipReason message itemsDone totalItems storagePrefix }
           progress { percent estimatedSecondsLeft clusters { done skipped } }
           restores { nodes { id } } } }`,
        { id: partial },
      ),
    ).backup;
    expect(detail).toMatchObject({
      status: 'PARTIALLY_FAILED',
      percent: 100,
      clusters: { planned: 1, done: 1, failed: 0, skipped: 1 },
      clusterDetails: [
        { clusterName: 'east', phase: 'COMPLETED', skipReason: null, itemsDone: 200, totalItems: 200, storagePrefix: expect.stringContaining(`/clusters/${team.east}`) },
        { clusterName: 'west', phase: null, skipReason: 'UNREACHABLE', message: 'no route to host', storagePrefix: null },
      ],
      progress: { percent: 100, estimatedSecondsLeft: 0, clusters: { done: 1, skipped: 1 } },
      restores: { nodes: [] },
    });

    const restores = dataOf(
      await g.run(
        'dan',
        `query($id: ID!) { _entities(representations: [{ __typename: "Workspace", id: $id }]) { ... on Workspace {
           restores(first: 10) { nodes { id backupId status preserveNodePorts clusterDetails { clusterName phase } backup { id } } } } } }`,
        { id: team.workspaceId },
      ),
    )._entities[0].restores.nodes;
    expect(restores).toEqual([
      { id: restored.id, backupId: completed, status: 'PENDING', preserveNodePorts: true, clusterDetails: [{ clusterName: 'east', phase: 'PENDING' }, { clusterName: 'west', phase: 'PENDING' }], backup: { id: completed } },
    ]);
    expect(dataOf(await g.run('dan', 'query($id: ID!) { restore(id: $id) { id progress { percent } } }', { id: restored.id })).restore).toEqual({ id: restored.id, progress: { percent: 0 } });
    expect(errorOf(await g.run('eve', 'query($id: ID!) { restore(id: $id) { id } }', { id: restored.id })).code).toBe(ErrorCode.NOT_FOUND);
  });

  describe('backupProgress', () => {
    const items = (results: ExecutionResult[]) => results.map((result) => dataOf(result).backupProgress);

    it("follows one backup from its request, in order, and completes after its last cluster's outcome; resumes after a cursor", async () => {
      const team = await g.h.team();
      const { commands } = g.h.backups;
      g.h.clock.now = new Date('2026-03-01T10:05:00.000Z');
      const backupId = dataOf(await backupNow('bob', team)).backupNow.id;
      await commands.recordBackupReport(watcher, backupId, report(team.east, 'InProgress', 50));
      const subscription = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, backupId })) as AsyncIterableIterator<ExecutionResult>;
      const early = items(await take(subscription, 2));
      expect(early.map((i) => [i.kind, i.cluster?.clusterName ?? null, i.progress.percent, i.finished])).toEqual([
        ['REQUESTED', null, 0, false],
        ['CLUSTER_PROGRESSED', 'east', 12, false],
      ]);
      // Live from here: the rest arrives as the watchers report.
      const rest = take(subscription, 10);
      await commands.recordBackupReport(watcher, backupId, report(team.west, 'InProgress', 100));
      await commands.recordBackupReport(watcher, backupId, report(team.east, 'Completed', 200));
      await commands.recordBackupReport(watcher, backupId, report(team.west, 'Failed', 100, { message: 'disk full' }));
      // Past the end: never delivered, the subscription is over.
      await commands.deleteBackup(as('bob'), backupId);
      const later = items(await rest);
      expect(later.map((i) => [i.kind, i.cluster?.clusterName, i.cluster?.phase, i.status, i.finished])).toEqual([
        ['CLUSTER_PROGRESSED', 'west', 'IN_PROGRESS', 'IN_PROGRESS', false],
        ['CLUSTER_COMPLETED', 'east', 'COMPLETED', 'IN_PROGRESS', false],
        ['CLUSTER_FAILED', 'west', 'FAILED', 'PARTIALLY_FAILED', true],
      ]);
      expect(later.at(-1)!.progress).toMatchObject({ percent: 100, clusters: { planned: 2, done: 1, failed: 1 }, estimatedSecondsLeft: 0 });
      const cursors = [...early, ...later].map((i) => BigInt(i.cursor));
      expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors);

      // Reconnecting after the second item gets exactly what followed it.
      const resumed = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, backupId, after: early[1].cursor })) as AsyncIterableIterator<ExecutionResult>;
      expect(items(await take(resumed, 10))).toEqual(later);
      // After the last item: nothing more, at once.
      const over = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, backupId, after: later.at(-1)!.cursor })) as AsyncIterableIterator<ExecutionResult>;
      expect(await take(over, 1)).toEqual([]);
    });

    it("follows every backup of a workspace from now, and none of another's", async () => {
      const team = await g.h.team();
      const other = await g.h.team();
      const { commands } = g.h.backups;
      const subscription = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId })) as AsyncIterableIterator<ExecutionResult>;
      const next = take(subscription, 4);
      const theirs = dataOf(await backupNow('ada', other)).backupNow.id;
      await commands.recordBackupReport(watcher, theirs, report(other.east, 'InProgress', 10));
      const first = dataOf(await backupNow('bob', team)).backupNow.id;
      const second = dataOf(await backupNow('bob', team, { clusters: [team.west] })).backupNow.id;
      await commands.recordBackupReport(watcher, first, report(team.east, 'InProgress', 20));
      await commands.recordBackupReport(watcher, second, report(team.west, 'Completed', 200));
      const got = items(await next);
      expect(got.map((i) => [i.backupId, i.kind, i.finished])).toEqual([
        [first, 'REQUESTED', false],
        [second, 'REQUESTED', false],
        [first, 'CLUSTER_PROGRESSED', false],
        [second, 'CLUSTER_COMPLETED', true],
      ]);
      await subscription.return!();
      // Resuming after the first item: the backup it concerns is folded from its stream, the rest follows in order.
      const resumed = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, after: got[0].cursor })) as AsyncIterableIterator<ExecutionResult>;
      expect(items(await take(resumed, 3))).toEqual(got.slice(1));
      await resumed.return!();
      // Leaving before the first item closes what the subscription opened.
      const idle = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId })) as AsyncIterableIterator<ExecutionResult>;
      await expect(idle.return!()).resolves.toMatchObject({ done: true });
      expect(await idle.next()).toMatchObject({ done: true });
    });

    it('gives every subscriber the same items, whether it maps an event itself or takes those another subscriber mapped from the same event', async () => {
      const team = await g.h.team();
      const { commands } = g.h.backups;
      // As from the gateway's hub: one object per event for every follower, so the first to map an event maps it for all.
      const hub = logFeed(g.h, { shareEvents: true });
      const everything = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId }, hub)) as AsyncIterableIterator<ExecutionResult>;
      const backupId = dataOf(await backupNow('bob', team)).backupNow.id;
      await commands.recordBackupReport(watcher, backupId, report(team.east, 'InProgress', 50));
      const first = items(await take(everything, 2));
      // Joining midway: by workspace after the first item (the backup's state before the next one comes from another subscriber's mapping), and by id from the request.
      const midway = (await g.subscribe('carol', PROGRESS, { workspaceId: team.workspaceId, after: first[0].cursor }, hub)) as AsyncIterableIterator<ExecutionResult>;
      const byId = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, backupId }, hub)) as AsyncIterableIterator<ExecutionResult>;
      const own = (await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, after: first[0].cursor })) as AsyncIterableIterator<ExecutionResult>;
      await commands.recordBackupReport(watcher, backupId, report(team.west, 'InProgress', 100));
      await commands.recordBackupReport(watcher, backupId, report(team.east, 'Completed', 200));
      await commands.recordBackupReport(watcher, backupId, report(team.west, 'Completed', 200));
      const all = [...first, ...items(await take(everything, 3))];
      expect(all.map((i) => [i.kind, i.cluster?.clusterName ?? null, i.status, i.finished])).toEqual([
        ['REQUESTED', null, 'PENDING', false],
        ['CLUSTER_PROGRESSED', 'east', 'IN_PROGRESS', false],
        ['CLUSTER_PROGRESSED', 'west', 'IN_PROGRESS', false],
        ['CLUSTER_COMPLETED', 'east', 'IN_PROGRESS', false],
        ['CLUSTER_COMPLETED', 'west', 'COMPLETED', true],
      ]);
      expect(items(await take(midway, 4))).toEqual(all.slice(1));
      expect(items(await take(byId, 10))).toEqual(all);
      // A follower with event objects of its own maps every event itself, to the same items.
      expect(items(await take(own, 4))).toEqual(all.slice(1));
      for (const subscription of [everything, midway, own]) await subscription.return!();
    });

    it('is for members of the workspace only, and ends with FORBIDDEN when the role goes', async () => {
      const team = await g.h.team();
      const backupId = dataOf(await backupNow('bob', team)).backupNow.id;
      for (const variables of [{ workspaceId: team.workspaceId }, { workspaceId: team.workspaceId, backupId }]) {
        expect(errorOf((await g.subscribe('eve', PROGRESS, variables)) as ExecutionResult).code).toBe(ErrorCode.NOT_FOUND);
      }
      expect(errorOf((await g.subscribe('dan', PROGRESS, { workspaceId: team.workspaceId, after: 'x' })) as ExecutionResult)).toMatchObject({
        code: ErrorCode.BAD_USER_INPUT,
        details: { field: 'after' },
      });
      // A backup of another workspace is not found through this one.
      const other = await g.h.team();
      expect(errorOf((await g.subscribe('dan', PROGRESS, { workspaceId: other.workspaceId, backupId })) as ExecutionResult).code).toBe(ErrorCode.NOT_FOUND);

      for (const variables of [{ workspaceId: team.workspaceId, backupId }, { workspaceId: team.workspaceId }]) {
        const subscription = (await g.subscribe('carol', PROGRESS, variables)) as AsyncIterableIterator<ExecutionResult>;
        if ('backupId' in variables) expect(items(await take(subscription, 1))[0].kind).toBe('REQUESTED');
        const ending = take(subscription, 5);
        await team.ws({ type: 'RemoveMember', userId: 'carol' });
        const results = await ending;
        expect(results).toHaveLength(1);
        expect(errorOf(results[0]!)).toMatchObject({ code: ErrorCode.FORBIDDEN, details: { revoked: true } });
        await team.ws({ type: 'AddMember', userId: 'carol', role: 'member' });
      }
    });
  });
});
