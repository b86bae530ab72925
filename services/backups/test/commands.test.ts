import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import { streamHistory } from '@canopy/workspaces';
import { backupProgress, backupStream, locationsStream, restoreStream, schedulesStream, type BackupNowInput, type ScheduleInput } from '../src/index.js';
import { expectRejection } from './fixtures.js';
import { as, primaryLocation, startHarness, until, type Harness, type Team } from './harness.js';

const scheduleInput = (team: Team, overrides: Partial<ScheduleInput> = {}): ScheduleInput => ({
  prefix: 'nightly',
  locationId: team.locationId,
  cron: '0 2 * * *',
  expiry: '30d',
  includeAllDisks: true,
  includeClusterResources: 'auto',
  namespaces: ['shop', 'db'],
  clusters: null,
  ...overrides,
});

const backupInput = (team: Team, overrides: Partial<BackupNowInput> = {}): BackupNowInput => ({
  prefix: 'manual',
  locationId: team.locationId,
  includeAllDisks: false,
  includeClusterResources: 'no',
  namespaces: ['shop'],
  ...overrides,
});

const completed = (clusterId: string) => ({
  clusterId,
  phase: 'Completed',
  itemsDone: 120,
  totalItems: 120,
  warnings: 0,
  errors: 0,
  startedAt: '2026-03-01T10:00:05.000Z',
  completedAt: '2026-03-01T10:04:00.000Z',
  observedAt: '2026-03-01T10:04:01.000Z',
});

/**
 * The command handlers on a real log (PGlite in memory), with the
 * workspaces service deciding who may do what: every refused command
 * leaves the log as it was.
 */
describe('backup command handlers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  /** Runs a command that must fail and checks that the log did not move. */
  async function refused(promise: Promise<unknown>, code: ErrorCode, details: Record<string, unknown> = {}) {
    const head = await h.head();
    await expectRejection(promise, code, details);
    expect(await h.head()).toBe(head);
  }

  it('bad input is rejected with its code and appends nothing: invalid cron, unknown location, empty namespace list, expiry in the past', async () => {
    const team = await h.team();
    const { commands } = h.backups;
    await refused(commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team, { cron: '0 2 * *' })), ErrorCode.BAD_USER_INPUT, { field: 'cron' });
    await refused(commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team, { locationId: 'no-such-location' })), ErrorCode.NOT_FOUND, { field: 'locationId' });
    await refused(commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team, { namespaces: [] })), ErrorCode.BAD_USER_INPUT, { field: 'namespaces' });
    await refused(commands.backupNow(as('bob'), team.workspaceId, backupInput(team, { expiresAt: '2026-02-01T00:00:00Z' })), ErrorCode.BAD_USER_INPUT, { field: 'expiresAt' });
    await refused(commands.backupNow(as('bob'), team.workspaceId, backupInput(team, { clusters: ['someone-elses-cluster'] })), ErrorCode.NOT_FOUND, { field: 'clusters.0' });
    expect(await h.events(schedulesStream(team.workspaceId))).toEqual([]);
    expect(h.backups.directory.backupsOf(team.workspaceId)).toEqual([]);
  });

  it('a viewer or a member cannot start a backup, and someone from another workspace is told it does not exist; nothing is appended', async () => {
    const team = await h.team();
    const other = await h.team();
    await other.ws({ type: 'AddMember', userId: 'mallory', role: 'owner' });
    const { commands } = h.backups;
    await refused(commands.backupNow(as('dan'), team.workspaceId, backupInput(team)), ErrorCode.FORBIDDEN, { role: 'viewer', required: 'admin' });
    await refused(commands.backupNow(as('carol'), team.workspaceId, backupInput(team)), ErrorCode.FORBIDDEN, { role: 'member' });
    await refused(commands.backupNow(as('mallory'), team.workspaceId, backupInput(team)), ErrorCode.NOT_FOUND);
    await refused(commands.createSchedule(as('dan'), team.workspaceId, scheduleInput(team)), ErrorCode.FORBIDDEN);
    expect(h.backups.directory.backupsOf(team.workspaceId)).toEqual([]);
  });

  it('a backup over two clusters, one unhealthy: one per-cluster backup planned, the other recorded as skipped with the reason', async () => {
    const team = await h.team();
    h.health.set(team.west, { status: 'unhealthy', message: 'kubelet on 2 of 3 nodes not ready' });
    const result = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team));
    expect(result).toMatchObject({ changed: true, replayed: false, version: 1 });
    const [requested, ...rest] = await h.events(backupStream(result.backupId));
    expect(rest).toEqual([]);
    expect(requested).toMatchObject({
      type: 'BackupRequested',
      metadata: { actor: 'bob' },
      data: {
        workspaceId: team.workspaceId,
        trigger: { kind: 'onDemand', requestedBy: 'bob' },
        planned: [{ clusterId: team.east, clusterName: 'east', storagePrefix: `canopy/workspaces/${team.workspaceId}/clusters/${team.east}` }],
        skipped: [{ clusterId: team.west, clusterName: 'west', reason: 'Unhealthy', message: 'kubelet on 2 of 3 nodes not ready' }],
      },
    });
  });

  it('a cluster whose health check fails counts as unreachable', async () => {
    const team = await h.team();
    h.health.set(team.east, new Error('dial tcp 10.0.0.7:6443: i/o timeout'));
    const { backupId } = await h.backups.commands.backupNow(as('ada'), team.workspaceId, backupInput(team));
    expect(h.backups.directory.backup(backupId).state.request).toMatchObject({
      planned: [{ clusterId: team.west }],
      skipped: [{ clusterId: team.east, reason: 'Unreachable', message: 'The health check failed: dial tcp 10.0.0.7:6443: i/o timeout' }],
    });
  });

  it('per-cluster reports are recorded as progress and outcomes; the backup completes when every cluster has', async () => {
    const team = await h.team();
    const { backupId } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team));
    const watcher = as('velero-watcher');
    const progress = { clusterId: team.east, phase: 'InProgress', itemsDone: 30, totalItems: 120, warnings: 0, errors: 0, startedAt: '2026-03-01T10:00:05.000Z', observedAt: '2026-03-01T10:01:05.000Z' };
    expect(await h.backups.commands.recordBackupReport(watcher, backupId, progress)).toMatchObject({ changed: true, version: 2 });
    expect(await h.backups.commands.recordBackupReport(watcher, backupId, progress)).toMatchObject({ changed: false, version: 2 });
    await h.backups.commands.recordBackupReport(watcher, backupId, completed(team.east));
    expect(backupProgress(h.backups.directory.backup(backupId).state, h.clock.now)).toMatchObject({ status: 'InProgress', percent: 50 });
    await h.backups.commands.recordBackupReport(watcher, backupId, completed(team.west));
    expect(backupProgress(h.backups.directory.backup(backupId).state, h.clock.now)).toMatchObject({ status: 'Completed', percent: 100, clusters: { done: 2 } });
    expect((await h.events(backupStream(backupId))).map((e) => [e.type, e.metadata.actor])).toEqual([
      ['BackupRequested', 'bob'],
      ['BackupClusterProgressed', 'velero-watcher'],
      ['BackupClusterCompleted', 'velero-watcher'],
      ['BackupClusterCompleted', 'velero-watcher'],
    ]);
    await expectRejection(h.backups.commands.recordBackupReport(watcher, 'no-such-backup', progress), ErrorCode.NOT_FOUND);
  });

  it('a restore restores every cluster still in the workspace and skips, and reports, the clusters removed since', async () => {
    const team = await h.team();
    const { backupId } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team));
    for (const clusterId of [team.east, team.west]) await h.backups.commands.recordBackupReport(as('velero-watcher'), backupId, completed(clusterId));
    await team.ws({ type: 'DetachCluster', clusterId: team.west });
    await refused(h.backups.commands.restoreBackup(as('dan'), backupId, { includeClusterResources: true, preserveNodePorts: false, restorePersistentVolumes: true }), ErrorCode.FORBIDDEN);
    const { restoreId, changed } = await h.backups.commands.restoreBackup(as('bob'), backupId, { includeClusterResources: true, preserveNodePorts: false, restorePersistentVolumes: true });
    expect(changed).toBe(true);
    const [requested] = await h.events(restoreStream(restoreId));
    expect(requested).toMatchObject({
      type: 'RestoreRequested',
      data: {
        backupId,
        options: { includeClusterResources: true, preserveNodePorts: false, restorePersistentVolumes: true },
        planned: [{ clusterId: team.east, clusterName: 'east' }],
        skipped: [{ clusterId: team.west, clusterName: 'west', reason: 'Detached' }],
      },
    });
    await h.backups.commands.recordRestoreReport(as('velero-watcher'), restoreId, { ...completed(team.east), observedAt: '2026-03-01T11:00:00.000Z' });
    expect(h.backups.directory.restore(restoreId).state.runs.get(team.east)!.phase).toBe('Completed');
  });

  it('a backup is invisible across workspaces: no restore or deletion from outside', async () => {
    const team = await h.team();
    const other = await h.team();
    const { backupId } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team));
    await other.ws({ type: 'AddMember', userId: 'mallory', role: 'owner' });
    await refused(h.backups.commands.restoreBackup(as('mallory'), backupId, { includeClusterResources: false, preserveNodePorts: false, restorePersistentVolumes: false }), ErrorCode.NOT_FOUND, {
      field: 'backupId',
    });
    await refused(h.backups.commands.deleteBackup(as('mallory'), backupId), ErrorCode.NOT_FOUND, { field: 'backupId' });
    await refused(h.backups.commands.backupNow(as('bob'), other.workspaceId, backupInput(other, { locationId: team.locationId })), ErrorCode.NOT_FOUND);
  });

  it('expiry deletes the backups past their date and says so in their history', async () => {
    const team = await h.team();
    const { backupId: short } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team, { expiry: '1h' }));
    const { backupId: long } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team, { expiry: '30d' }));
    const later = new Date(h.clock.now.getTime() + 2 * 3600_000);
    const { expired } = await h.backups.commands.expireBackups(later);
    expect(expired).toContain(short);
    expect(expired).not.toContain(long);
    const history = await streamHistory(h.log, backupStream(short));
    expect(history.map((entry) => [entry.type, entry.actor])).toEqual([
      ['BackupRequested', 'bob'],
      ['BackupExpired', 'canopy'],
    ]);
    expect(history[1]!.data).toMatchObject({ backupId: short, expiresAt: new Date(h.clock.now.getTime() + 3600_000).toISOString() });
    expect(backupProgress(h.backups.directory.backup(short).state, later).status).toBe('Expired');
    const head = await h.head();
    expect((await h.backups.commands.expireBackups(later)).expired).not.toContain(short);
    expect(await h.head()).toBe(head);
  });

  it('deleting the workspace keeps its backups, and they still expire', async () => {
    const team = await h.team();
    const { backupId } = await h.backups.commands.backupNow(as('bob'), team.workspaceId, backupInput(team, { expiry: '2h' }));
    await team.ws({ type: 'DetachCluster', clusterId: team.east });
    await team.ws({ type: 'DetachCluster', clusterId: team.west });
    await h.workspaces.commands.deleteWorkspace(as('ada'), team.workspaceId, team.version());
    expect(h.workspaces.directory.workspace(team.workspaceId)).toBeUndefined();
    expect(h.backups.directory.backupsOf(team.workspaceId).map((b) => b.request!.backupId)).toEqual([backupId]);
    expect((await h.events(backupStream(backupId))).map((e) => e.type)).toEqual(['BackupRequested']);
    // Nobody has a role in a deleted workspace: its backups are only expired.
    await refused(h.backups.commands.deleteBackup(as('ada'), backupId), ErrorCode.NOT_FOUND);
    const { expired } = await h.backups.commands.expireBackups(new Date(h.clock.now.getTime() + 3 * 3600_000));
    expect(expired).toContain(backupId);
  });

  it('two concurrent commands on one stream both land: the second is decided again on the first', async () => {
    const team = await h.team();
    const [a, b] = await Promise.all([
      h.backups.commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team, { prefix: 'nightly' })),
      h.backups.commands.createSchedule(as('ada'), team.workspaceId, scheduleInput(team, { prefix: 'weekly', cron: '0 3 * * SUN' })),
    ]);
    expect([a.version, b.version].sort()).toEqual([1, 2]);
    const events = await h.events(schedulesStream(team.workspaceId));
    expect(events.map((e) => [e.revision, e.type])).toEqual([
      [0n, 'BackupScheduleCreated'],
      [1n, 'BackupScheduleCreated'],
    ]);
    expect([...h.backups.directory.schedulesOf(team.workspaceId).state.schedules.keys()].sort()).toEqual([a.scheduleId, b.scheduleId].sort());
  });

  it('two processes changing different fields of one schedule at once lose neither change', async () => {
    const team = await h.team();
    const other = await h.secondProcess();
    const { scheduleId, position } = await h.backups.commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team));
    await until(() => (other.directory.position ?? -1n) >= position!);
    await Promise.all([
      h.backups.commands.changeSchedule(as('bob'), team.workspaceId, scheduleId, { cron: '15 4 * * *' }),
      other.commands.changeSchedule(as('ada'), team.workspaceId, scheduleId, { expiry: '7d' }),
    ]);
    await h.backups.directory.catchUp(h.log, schedulesStream(team.workspaceId));
    expect(h.backups.directory.schedulesOf(team.workspaceId).state.schedules.get(scheduleId)).toMatchObject({ cron: '15 4 * * *', ttlSeconds: 7 * 86_400 });
    expect((await h.events(schedulesStream(team.workspaceId))).map((e) => e.type)).toEqual(['BackupScheduleCreated', 'BackupScheduleChanged', 'BackupScheduleChanged']);
  });

  it('of two concurrent schedules with one prefix, exactly one is created', async () => {
    const team = await h.team();
    const results = await Promise.allSettled([
      h.backups.commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team)),
      h.backups.commands.createSchedule(as('ada'), team.workspaceId, scheduleInput(team)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: ErrorCode.NAME_TAKEN, details: { field: 'prefix' } });
    expect(await h.events(schedulesStream(team.workspaceId))).toHaveLength(1);
  });

  it('a command retried with its idempotency key is replayed; the key reused for another command is refused', async () => {
    const team = await h.team();
    const first = await h.backups.commands.createSchedule(as('bob', 'k-1'), team.workspaceId, scheduleInput(team));
    const retry = await h.backups.commands.createSchedule(as('bob', 'k-1'), team.workspaceId, scheduleInput(team));
    expect(retry).toEqual({ ...first, replayed: true, position: retry.position });
    expect(await h.events(schedulesStream(team.workspaceId))).toHaveLength(1);
    await refused(h.backups.commands.createSchedule(as('bob', 'k-1'), team.workspaceId, scheduleInput(team, { prefix: 'other' })), ErrorCode.IDEMPOTENCY_KEY_REUSED);
    const backup = await h.backups.commands.backupNow(as('bob', 'k-2'), team.workspaceId, backupInput(team));
    const again = await h.backups.commands.backupNow(as('bob', 'k-2'), team.workspaceId, backupInput(team));
    expect(again).toMatchObject({ backupId: backup.backupId, replayed: true });
    expect(h.backups.directory.backupsOf(team.workspaceId)).toHaveLength(1);
  });

  it('schedules run when due, once per due time even with two schedulers, and not while paused', async () => {
    const team = await h.team();
    const { scheduleId } = await h.backups.commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team, { prefix: 'daily', cron: '0 2 * * *' }));
    const other = await h.secondProcess();
    await until(() => other.directory.schedulesOf(team.workspaceId).state.schedules.has(scheduleId));
    const scheduledOf = () => h.backups.directory.backupsOf(team.workspaceId).filter((b) => b.request!.trigger.kind === 'schedule');

    expect((await h.backups.commands.runDueSchedules(new Date('2026-03-02T01:59:00Z'))).started).toEqual([]);
    const due = new Date('2026-03-02T02:00:20Z');
    const [a, b] = await Promise.all([h.backups.commands.runDueSchedules(due), other.commands.runDueSchedules(due)]);
    expect([...a.failed, ...b.failed]).toEqual([]);
    // (Other tests' schedules on this log fall due too: each run is started by one scheduler only.)
    const started = [...a.started, ...b.started];
    expect(new Set(started).size).toBe(started.length);
    for (const backupId of started) await h.backups.directory.catchUp(h.log, backupStream(backupId));
    expect(scheduledOf().map((backup) => backup.request!.trigger)).toEqual([{ kind: 'schedule', scheduleId, dueAt: '2026-03-02T02:00:00.000Z' }]);
    expect(started).toContain(scheduledOf()[0]!.request!.backupId);
    expect((await h.backups.commands.runDueSchedules(due)).started).toEqual([]);

    await h.backups.commands.pauseSchedule(as('bob'), team.workspaceId, scheduleId);
    await h.backups.commands.runDueSchedules(new Date('2026-03-03T02:00:20Z'));
    expect(scheduledOf()).toHaveLength(1);
    await h.backups.commands.resumeSchedule(as('bob'), team.workspaceId, scheduleId);
    await h.backups.commands.runDueSchedules(new Date('2026-03-04T02:00:20Z'));
    expect(scheduledOf().map((backup) => backup.request!.trigger)).toEqual([
      { kind: 'schedule', scheduleId, dueAt: '2026-03-02T02:00:00.000Z' },
      { kind: 'schedule', scheduleId, dueAt: '2026-03-04T02:00:00.000Z' },
    ]);
  });

  it('a location used by a schedule cannot be removed until the schedule is gone; nothing is appended meanwhile', async () => {
    const team = await h.team();
    const { locationId } = await h.backups.commands.addWorkspaceLocation(as('bob'), team.workspaceId, {
      name: 'own',
      provider: 'gcp',
      bucket: 'web-backups',
      credentials: { secretName: 'gcs-key', key: 'service-account.json' },
    });
    const { scheduleId } = await h.backups.commands.createSchedule(as('bob'), team.workspaceId, scheduleInput(team, { locationId }));
    await refused(h.backups.commands.removeLocation(as('bob'), locationId), ErrorCode.CONFLICT, { schedules: [scheduleId] });
    await refused(h.backups.commands.removeLocation(as('carol'), locationId), ErrorCode.FORBIDDEN);
    await refused(h.backups.commands.addOrganizationLocation(as('bob'), team.organizationId, primaryLocation('org-wide')), ErrorCode.FORBIDDEN);
    await h.backups.commands.deleteSchedule(as('bob'), team.workspaceId, scheduleId);
    expect(await h.backups.commands.removeLocation(as('bob'), locationId)).toMatchObject({ changed: true });
    expect((await h.events(locationsStream(team.organizationId))).map((e) => e.type)).toEqual(['BackupLocationAdded', 'BackupLocationAdded', 'BackupLocationRemoved']);
  });
});
