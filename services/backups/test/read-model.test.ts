import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { ErrorCode } from '@canopy/schema';
import { backupsById, backupsPage, backupsProjector, restoresById, restoresPage, type BackupNowInput } from '../src/index.js';
import { expectRejection } from './fixtures.js';
import { as, startHarness, type Harness, type Team } from './harness.js';

const input = (team: Team, overrides: Partial<BackupNowInput> = {}): BackupNowInput => ({
  prefix: 'manual',
  locationId: team.locationId,
  includeAllDisks: true,
  includeClusterResources: 'auto',
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
  observedAt: '2026-03-01T10:10:00.000Z',
  ...extra,
});

/**
 * The backups read model, projected live from the commands' events by the
 * projector runtime (PGlite), as the API's queries will read it.
 */
describe('the backups read model', () => {
  let h: Harness;
  let db: ReadModelDb;
  let runner: ProjectionRunner;
  beforeAll(async () => {
    h = await startHarness();
    db = await openReadModelDb({ kind: 'pglite' });
    runner = new ProjectionRunner({ store: h.opened.store, db, projectors: [backupsProjector] });
    await runner.start();
  }, 120_000);
  afterAll(async () => {
    await runner.stop();
    await db.close();
    await h.close();
  });

  const schema = () => runner.activeSchema('backups');
  async function sync() {
    const head = await h.head();
    if (head !== undefined) expect(await runner.waitFor(['backups'], head, 20_000)).toBe(true);
  }
  const at = (iso: string) => {
    h.clock.now = new Date(iso);
  };

  /** Five backups of one workspace an hour apart, in every state, and a restore of the completed one. */
  async function scenario() {
    const team = await h.team();
    const { commands } = h.backups;
    const watcher = as('velero-watcher');
    at('2026-03-01T10:00:00.000Z');
    const { scheduleId } = await commands.createSchedule(as('bob'), team.workspaceId, { ...input(team, { prefix: 'hourly' }), cron: '30 * * * *', expiry: '1d' });
    at('2026-03-01T11:00:00.000Z');
    const completed = (await commands.backupNow(as('bob'), team.workspaceId, input(team))).backupId;
    for (const clusterId of [team.east, team.west]) await commands.recordBackupReport(watcher, completed, report(clusterId, 'Completed', 200, { completedAt: '2026-03-01T11:20:00.000Z' }));
    at('2026-03-01T12:00:00.000Z');
    h.health.set(team.west, { status: 'unreachable', message: 'no route to host' });
    const partial = (await commands.backupNow(as('bob'), team.workspaceId, input(team))).backupId;
    await commands.recordBackupReport(watcher, partial, report(team.east, 'Completed', 200));
    h.health.delete(team.west);
    at('2026-03-01T13:00:00.000Z');
    const scheduled = (await commands.runDueSchedules(new Date('2026-03-01T12:30:10.000Z'))).started.find(
      (id) => h.backups.directory.backup(id).state.request?.workspaceId === team.workspaceId,
    )!;
    await commands.recordBackupReport(watcher, scheduled, report(team.east, 'InProgress', 50));
    at('2026-03-01T14:00:00.000Z');
    const expiring = (await commands.backupNow(as('bob'), team.workspaceId, input(team, { expiry: '1h' }))).backupId;
    await commands.expireBackups(new Date('2026-03-01T15:00:00.000Z'));
    at('2026-03-01T15:00:00.000Z');
    const { restoreId } = await commands.restoreBackup(as('ada'), completed, { includeClusterResources: false, preserveNodePorts: true, restorePersistentVolumes: true });
    await commands.recordRestoreReport(watcher, restoreId, report(team.east, 'InProgress', 100, { observedAt: '2026-03-01T15:05:00.000Z', startedAt: '2026-03-01T15:00:00.000Z' }));
    await sync();
    return { team, scheduleId, completed, partial, scheduled, expiring, restoreId };
  }

  it("pages through a workspace's backups newest first, filtered by status and by schedule", async () => {
    const s = await scenario();
    const first = await backupsPage(db, schema(), { workspaceId: s.team.workspaceId, first: 2 });
    expect(first.nodes.map((b) => [b.backupId, b.status])).toEqual([
      [s.expiring, 'Expired'],
      [s.scheduled, 'InProgress'],
    ]);
    expect(first.hasNextPage).toBe(true);
    const second = await backupsPage(db, schema(), { workspaceId: s.team.workspaceId, first: 2, after: first.endCursor! });
    expect(second.nodes.map((b) => [b.backupId, b.status])).toEqual([
      [s.partial, 'PartiallyFailed'],
      [s.completed, 'Completed'],
    ]);
    expect(second.hasNextPage).toBe(false);
    const byStatus = await backupsPage(db, schema(), { workspaceId: s.team.workspaceId, statuses: ['Completed', 'PartiallyFailed'], first: 10 });
    expect(byStatus.nodes.map((b) => b.backupId)).toEqual([s.partial, s.completed]);
    const bySchedule = await backupsPage(db, schema(), { workspaceId: s.team.workspaceId, scheduleId: s.scheduleId, first: 10 });
    expect(bySchedule.nodes.map((b) => b.backupId)).toEqual([s.scheduled]);
    const onDemand = await backupsPage(db, schema(), { workspaceId: s.team.workspaceId, scheduleId: null, first: 10 });
    expect(onDemand.nodes.map((b) => b.backupId)).toEqual([s.expiring, s.partial, s.completed]);
    expect(first.nodes[0]).toMatchObject({ requestedBy: 'bob', scheduleId: null, goneAt: new Date('2026-03-01T14:00:00.000Z'), expiresAt: new Date('2026-03-01T15:00:00.000Z') });
    // Nothing of it in another workspace.
    const other = await h.team();
    expect((await backupsPage(db, schema(), { workspaceId: other.workspaceId, first: 10 })).nodes).toEqual([]);
  });

  it('one backup with its per-cluster detail: planned clusters with their progress, skipped ones with the reason', async () => {
    const s = await scenario();
    const details = await backupsById(db, schema(), [s.partial, s.scheduled, 'unknown'], new Date('2026-03-01T13:10:00.000Z'));
    expect([...details.keys()].sort()).toEqual([s.partial, s.scheduled].sort());
    expect(details.get(s.partial)).toMatchObject({
      status: 'PartiallyFailed',
      percent: 100,
      clusters: { planned: 1, done: 1, failed: 0, skipped: 1 },
      clusterDetails: [
        { clusterName: 'east', skipReason: null, phase: 'Completed', itemsDone: 200 },
        { clusterName: 'west', skipReason: 'Unreachable', phase: null, message: 'no route to host', storagePrefix: null },
      ],
    });
    // The scheduled backup: east at 50 of 200 items after 10 minutes, west not reported yet.
    expect(details.get(s.scheduled)).toMatchObject({
      status: 'InProgress',
      percent: 12,
      clusterDetails: [
        { clusterName: 'east', phase: 'InProgress', itemsDone: 50, totalItems: 200 },
        { clusterName: 'west', phase: 'Pending' },
      ],
      progress: { status: 'InProgress', estimatedSecondsLeft: null, clusters: { running: 1, pending: 1 } },
    });
  });

  it('restores likewise: by workspace and backup, with per-cluster detail', async () => {
    const s = await scenario();
    const page = await restoresPage(db, schema(), { workspaceId: s.team.workspaceId, first: 10 });
    expect(page.nodes.map((r) => [r.restoreId, r.backupId, r.status, r.requestedBy])).toEqual([[s.restoreId, s.completed, 'InProgress', 'ada']]);
    expect((await restoresPage(db, schema(), { workspaceId: s.team.workspaceId, backupId: s.partial, first: 10 })).nodes).toEqual([]);
    const detail = (await restoresById(db, schema(), [s.restoreId], new Date('2026-03-01T15:05:00.000Z'))).get(s.restoreId)!;
    expect(detail).toMatchObject({
      options: { includeClusterResources: false, preserveNodePorts: true, restorePersistentVolumes: true },
      percent: 25,
      clusterDetails: [
        { clusterName: 'east', phase: 'InProgress', itemsDone: 100 },
        { clusterName: 'west', phase: 'Pending' },
      ],
    });
  });

  it('keeps the backups of a deleted workspace', async () => {
    const team = await h.team();
    const { backupId } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, input(team));
    await team.ws({ type: 'DetachCluster', clusterId: team.east });
    await team.ws({ type: 'DetachCluster', clusterId: team.west });
    await h.workspaces.commands.deleteWorkspace(as('ada'), team.workspaceId, team.version());
    await sync();
    expect((await backupsPage(db, schema(), { workspaceId: team.workspaceId, first: 10 })).nodes.map((b) => b.backupId)).toEqual([backupId]);
  });

  it('refuses a cursor it did not issue and an oversized page', async () => {
    await expectRejection(backupsPage(db, schema(), { workspaceId: 'w', first: 10, after: 'not-a-cursor' }), ErrorCode.BAD_USER_INPUT, { field: 'after' });
    await expectRejection(backupsPage(db, schema(), { workspaceId: 'w', first: 501 }), ErrorCode.BAD_USER_INPUT, { field: 'first' });
  });

  it('a rebuild from the log gives the same tables as the live projection', async () => {
    await scenario();
    const live = await runner.checksum('backups');
    await runner.rebuild('backups');
    const rebuilt = await runner.checksum('backups');
    expect([rebuilt.checksum, rebuilt.position]).toEqual([live.checksum, live.position]);
    expect(live.tables.find((t) => t.table === 'backups')!.rows).toBeGreaterThan(0);
  });
});
