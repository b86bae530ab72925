import { describe, expect, it } from '@jest/globals';
import { dueRuns, evolveBackup, expiredBackups, initialBackupState, requestBackup, type BackupSchedule, type ScheduleRuns } from '../src/index.js';
import { actors, allHealthy, locations, options, W, workspace } from './fixtures.js';

const schedule = (overrides: Partial<BackupSchedule> = {}): BackupSchedule => ({
  scheduleId: 's1',
  cron: '0 2 * * *',
  ttlSeconds: 86_400,
  paused: false,
  createdBy: 'bob',
  activeSince: '2026-03-01T10:00:00.000Z',
  prefix: 'nightly',
  locationId: 'loc-org',
  includeAllDisks: true,
  includeClusterResources: 'auto',
  namespaces: ['shop'],
  clusters: null,
  ...overrides,
});
const runs = (overrides: Partial<BackupSchedule> = {}, lastDueAt?: string): ScheduleRuns[] => [{ workspaceId: W, schedule: schedule(overrides), lastDueAt }];
const due = (list: ScheduleRuns[], now: string) => dueRuns(list, new Date(now)).map((run) => run.dueAt.toISOString());

describe('which scheduled backups are due', () => {
  it('nothing before the first matching time after the schedule became active', () => {
    expect(due(runs(), '2026-03-02T01:59:59Z')).toEqual([]);
    expect(due(runs(), '2026-03-02T02:00:00Z')).toEqual(['2026-03-02T02:00:00.000Z']);
  });

  it('a run already recorded is not due again; the next one is', () => {
    expect(due(runs({}, '2026-03-02T02:00:00.000Z'), '2026-03-02T23:00:00Z')).toEqual([]);
    expect(due(runs({}, '2026-03-02T02:00:00.000Z'), '2026-03-03T02:00:30Z')).toEqual(['2026-03-03T02:00:00.000Z']);
  });

  it('runs missed while the scheduler was down are made up once: the latest of them', () => {
    expect(due(runs({}, '2026-03-02T02:00:00.000Z'), '2026-03-09T12:00:00Z')).toEqual(['2026-03-09T02:00:00.000Z']);
    expect(due(runs({ cron: '*/5 * * * *', activeSince: '2026-01-01T00:00:00.000Z' }), '2026-03-09T12:03:00Z')).toEqual(['2026-03-09T12:00:00.000Z']);
  });

  it('a paused schedule has no runs; once resumed, runs missed while paused are not made up', () => {
    expect(due(runs({ paused: true }), '2026-03-09T12:00:00Z')).toEqual([]);
    const resumed = runs({ activeSince: '2026-03-09T12:00:00.000Z' }, '2026-03-02T02:00:00.000Z');
    expect(due(resumed, '2026-03-09T12:00:00Z')).toEqual([]);
    expect(due(resumed, '2026-03-10T02:00:00Z')).toEqual(['2026-03-10T02:00:00.000Z']);
  });

  it('each schedule is judged on its own', () => {
    const list = [...runs(), { workspaceId: 'ws-2', schedule: schedule({ scheduleId: 's2', cron: '30 * * * *' }), lastDueAt: undefined }];
    expect(dueRuns(list, new Date('2026-03-01T10:45:00Z')).map((run) => [run.workspaceId, run.scheduleId, run.dueAt.toISOString()])).toEqual([['ws-2', 's2', '2026-03-01T10:30:00.000Z']]);
  });
});

describe('which backups expire', () => {
  const backup = (backupId: string, expiry: string) =>
    requestBackup({ backupId, requestedAt: new Date('2026-03-01T00:00:00Z'), input: { ...options(), expiry } }, initialBackupState, {
      workspace,
      locations,
      health: allHealthy,
      actor: actors.admin,
    }).reduce(evolveBackup, initialBackupState);

  it('those whose expiry has been reached, and not those already gone', () => {
    const day = backup('b-day', '1d');
    const week = backup('b-week', '7d');
    const gone = evolveBackup(backup('b-gone', '1h'), { type: 'BackupDeleted', data: { workspaceId: W, backupId: 'b-gone', name: 'x', deletedBy: 'bob' } });
    expect(expiredBackups([day, week, gone], new Date('2026-03-01T23:59:59Z'))).toEqual([]);
    expect(expiredBackups([day, week, gone], new Date('2026-03-02T00:00:00Z'))).toEqual(['b-day']);
    expect(expiredBackups([day, week, gone], new Date('2026-03-20T00:00:00Z'))).toEqual(['b-day', 'b-week']);
  });
});
