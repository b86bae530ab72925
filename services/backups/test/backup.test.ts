import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import {
  backupProgress,
  deleteBackup,
  evolveBackup,
  expireBackup,
  initialBackupState,
  recordBackupReport,
  requestBackup,
  runSchedule,
  type BackupEvent,
  type BackupNowInput,
  type BackupSchedule,
  type BackupState,
  type ClusterHealth,
  type ClusterReport,
} from '../src/index.js';
import { actors, allHealthy, expectError, locations, options, ORG, W, workspace } from './fixtures.js';

const requestedAt = new Date('2026-03-01T02:00:00.000Z');
const fold = (events: BackupEvent[], state: BackupState = initialBackupState) => events.reduce(evolveBackup, state);
const backupNow = (input: Partial<BackupNowInput> = {}, health: ReadonlyMap<string, ClusterHealth> = allHealthy, actor = actors.admin) =>
  requestBackup({ backupId: 'b1', requestedAt, input: { ...options(), ...input } }, initialBackupState, { workspace, locations, health, actor });

const report = (clusterId: string, overrides: Partial<ClusterReport> = {}): ClusterReport => ({
  clusterId,
  phase: 'InProgress',
  itemsDone: 10,
  totalItems: 100,
  warnings: 0,
  errors: 0,
  startedAt: '2026-03-01T02:00:05.000Z',
  observedAt: '2026-03-01T02:01:05.000Z',
  ...overrides,
});

describe('on-demand backups', () => {
  it('one Velero backup per cluster, each under its own prefix in the location; the location as it is now is recorded', () => {
    expect(backupNow({ expiry: '7d' })).toEqual([
      {
        type: 'BackupRequested',
        data: {
          organizationId: ORG,
          workspaceId: W,
          backupId: 'b1',
          name: expect.stringMatching(/^nightly-20260301020000-[0-9a-f]{6}$/),
          trigger: { kind: 'onDemand', requestedBy: 'bob' },
          requestedAt: '2026-03-01T02:00:00.000Z',
          expiresAt: '2026-03-08T02:00:00.000Z',
          location: { locationId: 'loc-org', name: 'primary', provider: 'aws', bucket: 'canopy-backups', prefix: 'team/primary' },
          options: { prefix: 'nightly', locationId: 'loc-org', includeAllDisks: true, includeClusterResources: 'auto', namespaces: ['shop', 'db'], clusters: null },
          namespaces: ['db', 'shop'],
          planned: [
            { clusterId: 'c-east', clusterName: 'east', storagePrefix: `team/primary/workspaces/${W}/clusters/c-east` },
            { clusterId: 'c-west', clusterName: 'west', storagePrefix: `team/primary/workspaces/${W}/clusters/c-west` },
          ],
          skipped: [],
        },
      },
    ]);
  });

  it('of two clusters, the unhealthy one is skipped with the reason and the other planned', () => {
    const health = new Map<string, ClusterHealth>([
      ['c-east', { status: 'healthy' }],
      ['c-west', { status: 'unhealthy', message: 'API server reports 2 of 3 nodes NotReady' }],
    ]);
    const [event] = backupNow({}, health);
    expect(event!.data).toMatchObject({
      planned: [{ clusterId: 'c-east', clusterName: 'east' }],
      skipped: [{ clusterId: 'c-west', clusterName: 'west', reason: 'Unhealthy', message: 'API server reports 2 of 3 nodes NotReady' }],
    });
  });

  it('an unreachable cluster, or one with no health report, is skipped as unreachable', () => {
    const [event] = backupNow({}, new Map([['c-east', { status: 'unreachable', message: 'connection refused' }]]));
    expect(event!.data).toMatchObject({
      planned: [],
      skipped: [
        { clusterId: 'c-east', reason: 'Unreachable', message: 'connection refused' },
        { clusterId: 'c-west', reason: 'Unreachable', message: 'No health report for the cluster.' },
      ],
    });
  });

  it("patterns select among the workspace's namespaces; chosen clusters only", () => {
    const [event] = backupNow({ namespaces: ['/^team-/', '~/-b$/', 'shop'], clusters: ['c-west'] });
    expect(event!.data).toMatchObject({ namespaces: ['shop', 'team-a'], planned: [{ clusterId: 'c-west' }], skipped: [] });
  });

  it("without an expiry, a backup is kept 720h (Velero's default); an absolute expiresAt is taken as given", () => {
    expect(backupNow()[0]!.data).toMatchObject({ expiresAt: '2026-03-31T02:00:00.000Z' });
    expect(backupNow({ expiresAt: '2026-06-01T00:00:00Z' })[0]!.data).toMatchObject({ expiresAt: '2026-06-01T00:00:00.000Z' });
  });

  it.each([
    ['an expiry in the past', { expiresAt: '2026-02-28T00:00:00Z' }, ErrorCode.BAD_USER_INPUT, 'expiresAt'],
    ['an expiry at the very moment of the request', { expiresAt: '2026-03-01T02:00:00Z' }, ErrorCode.BAD_USER_INPUT, 'expiresAt'],
    ['an expiresAt that is no date', { expiresAt: 'tomorrow' }, ErrorCode.BAD_USER_INPUT, 'expiresAt'],
    ['both expiry and expiresAt', { expiry: '1d', expiresAt: '2026-06-01T00:00:00Z' }, ErrorCode.BAD_USER_INPUT, 'expiresAt'],
    ['a negative expiry', { expiry: '-1h' }, ErrorCode.BAD_USER_INPUT, 'expiry'],
    ['an unknown location', { locationId: 'loc-nowhere' }, ErrorCode.NOT_FOUND, 'locationId'],
    ['an empty namespace list', { namespaces: [] }, ErrorCode.BAD_USER_INPUT, 'namespaces'],
    ['a cluster of another workspace', { clusters: ['c-elsewhere'] }, ErrorCode.NOT_FOUND, 'clusters.0'],
  ] as const)('%s is refused', (_, input, code, field) => {
    expectError(() => backupNow(input as Partial<BackupNowInput>), code, { field });
  });

  it('a viewer or a member cannot start a backup; a stranger is told the workspace does not exist', () => {
    expectError(() => backupNow({}, allHealthy, actors.viewer), ErrorCode.FORBIDDEN, { required: 'admin' });
    expectError(() => backupNow({}, allHealthy, actors.member), ErrorCode.FORBIDDEN);
    expectError(() => backupNow({}, allHealthy, actors.stranger), ErrorCode.NOT_FOUND);
    expect(backupNow({}, allHealthy, actors.owner)).toHaveLength(1);
  });

  it('a workspace without clusters has nothing to back up', () => {
    expectError(
      () => requestBackup({ backupId: 'b1', requestedAt, input: options() }, initialBackupState, { workspace: { ...workspace, clusters: new Map() }, locations, health: allHealthy, actor: actors.admin }),
      ErrorCode.BAD_USER_INPUT,
      { field: 'clusters' },
    );
  });
});

describe('scheduled backups', () => {
  const schedule: BackupSchedule = {
    scheduleId: 's1',
    cron: '0 2 * * *',
    ttlSeconds: 86_400,
    paused: false,
    createdBy: 'bob',
    activeSince: '2026-02-01T00:00:00.000Z',
    prefix: 'nightly',
    locationId: 'loc-own',
    includeAllDisks: false,
    includeClusterResources: 'no',
    namespaces: ['shop', 'billing'],
    clusters: ['c-east', 'c-gone'],
  };
  const run = (state = initialBackupState) =>
    runSchedule({ backupId: 'b1', schedule, dueAt: requestedAt, requestedAt: new Date('2026-03-01T02:00:03.000Z') }, state, { workspace, locations, health: allHealthy });

  it('a run records its schedule and due time; clusters that left the workspace are skipped, namespaces that left are dropped', () => {
    const [event] = run();
    expect(event!.data).toMatchObject({
      trigger: { kind: 'schedule', scheduleId: 's1', dueAt: '2026-03-01T02:00:00.000Z' },
      expiresAt: '2026-03-02T02:00:03.000Z',
      namespaces: ['shop'],
      planned: [{ clusterId: 'c-east' }],
      skipped: [{ clusterId: 'c-gone', clusterName: null, reason: 'Detached' }],
    });
  });

  it('a run whose namespaces have all left the workspace skips every cluster and says why', () => {
    const [event] = runSchedule({ backupId: 'b1', schedule: { ...schedule, namespaces: ['billing'] }, dueAt: requestedAt, requestedAt }, initialBackupState, {
      workspace,
      locations,
      health: allHealthy,
    });
    expect(event!.data).toMatchObject({ namespaces: [], planned: [], skipped: [{ clusterId: 'c-gone', reason: 'Detached' }, { clusterId: 'c-east', reason: 'NoNamespaces' }] });
    expect(backupProgress(fold([event!]), requestedAt).status).toBe('Failed');
  });

  it('a run recorded already records nothing again', () => {
    expect(run(fold(run()))).toEqual([]);
  });
});

describe('per-cluster progress and outcome', () => {
  const requested = fold(backupNow());

  it('progress, then completion, per cluster; the aggregate follows', () => {
    const progressed = recordBackupReport(report('c-east'), requested);
    expect(progressed).toEqual([
      {
        type: 'BackupClusterProgressed',
        data: {
          backupId: 'b1',
          workspaceId: W,
          clusterId: 'c-east',
          phase: 'InProgress',
          itemsBackedUp: 10,
          totalItems: 100,
          warnings: 0,
          errors: 0,
          startedAt: '2026-03-01T02:00:05.000Z',
          observedAt: '2026-03-01T02:01:05.000Z',
        },
      },
    ]);
    let state = fold(progressed, requested);
    expect(backupProgress(state, new Date('2026-03-01T02:01:05.000Z'))).toMatchObject({ status: 'InProgress', percent: 5, estimatedSecondsLeft: null });
    state = fold(recordBackupReport(report('c-west', { itemsDone: 50 }), state), state);
    // east: 10 items a minute, 90 left: 9 minutes; west: 50 a minute, 50 left: 1 minute.
    expect(backupProgress(state, new Date('2026-03-01T02:01:05.000Z'))).toMatchObject({ percent: 30, estimatedSecondsLeft: 540 });
    const completed = recordBackupReport(report('c-east', { phase: 'Completed', itemsDone: 100, completedAt: '2026-03-01T02:09:00.000Z' }), state);
    expect(completed).toEqual([{ type: 'BackupClusterCompleted', data: expect.objectContaining({ clusterId: 'c-east', itemsBackedUp: 100, completedAt: '2026-03-01T02:09:00.000Z' }) }]);
    state = fold(completed, state);
    const partial = recordBackupReport(report('c-west', { phase: 'PartiallyFailed', itemsDone: 98, errors: 2, message: '2 pods could not be read' }), state);
    expect(partial).toEqual([{ type: 'BackupClusterPartiallyFailed', data: expect.objectContaining({ clusterId: 'c-west', errors: 2, message: '2 pods could not be read' }) }]);
    expect(backupProgress(fold(partial, state), requestedAt)).toMatchObject({ status: 'PartiallyFailed', percent: 100, clusters: { done: 2, failed: 0 } });
  });

  it("Velero's failure phases are the cluster's failure, with the reason", () => {
    expect(recordBackupReport(report('c-east', { phase: 'FailedValidation', message: 'backup storage location not found' }), requested)).toEqual([
      { type: 'BackupClusterFailed', data: expect.objectContaining({ phase: 'FailedValidation', message: 'backup storage location not found' }) },
    ]);
    expect(recordBackupReport(report('c-east', { phase: 'Failed' }), requested)[0]!.data).toMatchObject({ phase: 'Failed', message: 'Velero reported the backup failed.' });
  });

  it('repeats, reports after the outcome, and Deleting record nothing; intermediate partial failures are running phases', () => {
    const state = fold(recordBackupReport(report('c-east'), requested), requested);
    expect(recordBackupReport(report('c-east'), state)).toEqual([]);
    expect(recordBackupReport(report('c-east', { phase: 'Deleting' }), state)).toEqual([]);
    expect(recordBackupReport(report('c-east', { phase: 'FinalizingPartiallyFailed', errors: 1 }), state)[0]!.data).toMatchObject({ phase: 'Finalizing', errors: 1 });
    const done = fold(recordBackupReport(report('c-east', { phase: 'Completed', itemsDone: 100 }), state), state);
    expect(recordBackupReport(report('c-east', { phase: 'InProgress' }), done)).toEqual([]);
    expect(recordBackupReport(report('c-east', { phase: 'Failed' }), done)).toEqual([]);
  });

  it('reports about clusters not planned, or with bad figures, are refused', () => {
    expectError(() => recordBackupReport(report('c-mars'), requested), ErrorCode.NOT_FOUND, { field: 'clusterId' });
    expectError(() => recordBackupReport(report('c-east', { itemsDone: -1 }), requested), ErrorCode.BAD_USER_INPUT, { field: 'report' });
    expectError(() => recordBackupReport({ ...report('c-east'), phase: 'Exploded' }, requested), ErrorCode.BAD_USER_INPUT, { field: 'report' });
    expectError(() => recordBackupReport(report('c-east'), initialBackupState), ErrorCode.NOT_FOUND, { field: 'backupId' });
  });
});

describe('expiry and deletion', () => {
  const requested = fold(backupNow({ expiry: '1d' }));

  it('a backup expires once its expiry is reached, once, and reports afterwards record nothing', () => {
    expect(expireBackup(new Date('2026-03-02T01:59:59.999Z'), requested)).toEqual([]);
    const expired = expireBackup(new Date('2026-03-02T02:00:00.000Z'), requested);
    expect(expired).toEqual([{ type: 'BackupExpired', data: { workspaceId: W, backupId: 'b1', name: requested.request!.name, expiresAt: '2026-03-02T02:00:00.000Z' } }]);
    const state = fold(expired, requested);
    expect(backupProgress(state, new Date()).status).toBe('Expired');
    expect(expireBackup(new Date('2026-04-01T00:00:00Z'), state)).toEqual([]);
    expect(recordBackupReport(report('c-east'), state)).toEqual([]);
  });

  it('admins and owners delete a backup by hand; viewers cannot', () => {
    expectError(() => deleteBackup(actors.viewer, requested), ErrorCode.FORBIDDEN);
    const deleted = deleteBackup(actors.owner, requested);
    expect(deleted).toEqual([{ type: 'BackupDeleted', data: { workspaceId: W, backupId: 'b1', name: requested.request!.name, deletedBy: 'ada' } }]);
    const state = fold(deleted, requested);
    expect(backupProgress(state, new Date()).status).toBe('Deleted');
    expect(deleteBackup(actors.admin, state)).toEqual([]);
    expect(expireBackup(new Date('2030-01-01T00:00:00Z'), state)).toEqual([]);
  });
});
