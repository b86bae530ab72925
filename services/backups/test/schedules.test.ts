import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import type { Actor } from '@canopy/workspaces';
import { decideSchedules, evolveSchedules, initialSchedulesState, type ScheduleCommand, type ScheduleEvent, type ScheduleInput, type SchedulesState } from '../src/index.js';
import { actors, expectError, locations, options, W, workspace } from './fixtures.js';

const input = (overrides: Partial<ScheduleInput> = {}): ScheduleInput => ({ ...options(), cron: '0 2 * * *', expiry: '30d', ...overrides });
const decide = (command: ScheduleCommand, state: SchedulesState = initialSchedulesState, actor: Actor = actors.admin) => decideSchedules(command, state, { workspace, locations, actor });
const fold = (events: ScheduleEvent[], state: SchedulesState = initialSchedulesState) => events.reduce((s, e) => evolveSchedules(s, e, { occurredAt: '2026-03-01T00:00:00.000Z' }), state);
const create = (scheduleId: string, overrides: Partial<ScheduleInput> = {}) => decide({ type: 'CreateSchedule', scheduleId, input: input(overrides) });

describe('backup schedules', () => {
  it('an admin creates a schedule: cron normalized, expiry in seconds, the options as checked', () => {
    expect(create('s1', { cron: '0  2 * * mon' })).toEqual([
      {
        type: 'BackupScheduleCreated',
        data: {
          workspaceId: W,
          scheduleId: 's1',
          cron: '0 2 * * MON',
          ttlSeconds: 30 * 86_400,
          prefix: 'nightly',
          locationId: 'loc-org',
          includeAllDisks: true,
          includeClusterResources: 'auto',
          namespaces: ['shop', 'db'],
          clusters: null,
          createdBy: 'bob',
        },
      },
    ]);
  });

  it.each([
    ['an invalid cron', { cron: '0 25 * * *' }, ErrorCode.BAD_USER_INPUT, 'cron'],
    ['a six-field cron', { cron: '0 0 2 * * *' }, ErrorCode.BAD_USER_INPUT, 'cron'],
    ['an unknown location', { locationId: 'loc-nowhere' }, ErrorCode.NOT_FOUND, 'locationId'],
    ["another workspace's location", { locationId: 'loc-other' }, ErrorCode.NOT_FOUND, 'locationId'],
    ['an empty namespace list', { namespaces: [] }, ErrorCode.BAD_USER_INPUT, 'namespaces'],
    ['only exclusions', { namespaces: ['~/^team-/'] }, ErrorCode.BAD_USER_INPUT, 'namespaces'],
    ['a namespace that is not a DNS-1123 name', { namespaces: ['Shop_1'] }, ErrorCode.BAD_USER_INPUT, 'namespaces.0'],
    ['a pattern with nested quantifiers', { namespaces: ['/(a+)+$/'] }, ErrorCode.BAD_USER_INPUT, 'namespaces.0'],
    ['a namespace outside the workspace', { namespaces: ['shop', 'billing'] }, ErrorCode.NOT_FOUND, 'namespaces.1'],
    ['a repeated namespace', { namespaces: ['shop', 'shop'] }, ErrorCode.BAD_USER_INPUT, 'namespaces.1'],
    ['a cluster outside the workspace', { clusters: ['c-east', 'c-mars'] }, ErrorCode.NOT_FOUND, 'clusters.1'],
    ['an empty cluster list (null means every cluster)', { clusters: [] }, ErrorCode.BAD_USER_INPUT, 'clusters'],
    ['a zero expiry', { expiry: '0h' }, ErrorCode.BAD_USER_INPUT, 'expiry'],
    ['an expiry that is no duration', { expiry: 'a month' }, ErrorCode.BAD_USER_INPUT, 'expiry'],
    ['an unknown cluster-resources mode', { includeClusterResources: 'maybe' }, ErrorCode.BAD_USER_INPUT, 'includeClusterResources'],
    ['a prefix that is no Kubernetes name', { prefix: 'Nightly!' }, ErrorCode.BAD_USER_INPUT, 'prefix'],
    ['a prefix too long for the backup names', { prefix: 'n'.repeat(41) }, ErrorCode.BAD_USER_INPUT, 'prefix'],
  ] as const)('%s is refused', (_, overrides, code, field) => {
    expectError(() => create('s1', overrides as Partial<ScheduleInput>), code, { field });
  });

  it("namespaces may be chosen by pattern, and the workspace's own location is usable", () => {
    const [event] = create('s1', { namespaces: ['/^team-/', '~/-b$/'], locationId: 'loc-own', clusters: ['c-west'] });
    expect(event!.data).toMatchObject({ namespaces: ['/^team-/', '~/-b$/'], locationId: 'loc-own', clusters: ['c-west'] });
  });

  it('the prefix names the backups, so two schedules of a workspace cannot share it', () => {
    const state = fold(create('s1'));
    expectError(() => decide({ type: 'CreateSchedule', scheduleId: 's2', input: input() }, state), ErrorCode.NAME_TAKEN, { field: 'prefix', scheduleId: 's1' });
    expect(decide({ type: 'CreateSchedule', scheduleId: 's2', input: input({ prefix: 'weekly' }) }, state)).toHaveLength(1);
  });

  it.each([
    ['a viewer', actors.viewer, ErrorCode.FORBIDDEN],
    ['a member', actors.member, ErrorCode.FORBIDDEN],
    ['a stranger (told the workspace does not exist)', actors.stranger, ErrorCode.NOT_FOUND],
  ])('%s cannot create, change, pause or delete schedules', (_, actor, code) => {
    const state = fold(create('s1'));
    for (const command of [
      { type: 'CreateSchedule', scheduleId: 's2', input: input({ prefix: 'weekly' }) },
      { type: 'ChangeSchedule', scheduleId: 's1', changes: { cron: '0 3 * * *' } },
      { type: 'PauseSchedule', scheduleId: 's1' },
      { type: 'DeleteSchedule', scheduleId: 's1' },
    ] as ScheduleCommand[]) {
      expectError(() => decide(command, state, actor), code);
    }
  });

  it('the owner may manage schedules too', () => {
    expect(decide({ type: 'CreateSchedule', scheduleId: 's1', input: input() }, initialSchedulesState, actors.owner)).toHaveLength(1);
  });

  it('a change applies the fields given on top of the schedule and is checked whole; an empty change records nothing', () => {
    const state = fold(create('s1'));
    const changed = decide({ type: 'ChangeSchedule', scheduleId: 's1', changes: { cron: '0 3 * * *', expiry: '7d', clusters: ['c-east'] } }, state);
    expect(changed).toEqual([
      {
        type: 'BackupScheduleChanged',
        data: expect.objectContaining({ scheduleId: 's1', cron: '0 3 * * *', ttlSeconds: 7 * 86_400, clusters: ['c-east'], prefix: 'nightly', namespaces: ['shop', 'db'] }),
      },
    ]);
    expect(decide({ type: 'ChangeSchedule', scheduleId: 's1', changes: { cron: '0 2 * * *', expiry: '720h' } }, state)).toEqual([]);
    expectError(() => decide({ type: 'ChangeSchedule', scheduleId: 's1', changes: { namespaces: [] } }, state), ErrorCode.BAD_USER_INPUT, { field: 'namespaces' });
    expectError(() => decide({ type: 'ChangeSchedule', scheduleId: 'nope', changes: {} }, state), ErrorCode.NOT_FOUND, { field: 'scheduleId' });
  });

  it('pausing and resuming are idempotent; a resumed schedule counts its runs from the resumption', () => {
    let state = fold(create('s1'));
    const paused = decide({ type: 'PauseSchedule', scheduleId: 's1' }, state);
    expect(paused).toEqual([{ type: 'BackupSchedulePaused', data: { workspaceId: W, scheduleId: 's1' } }]);
    state = fold(paused, state);
    expect(state.schedules.get('s1')!.paused).toBe(true);
    expect(decide({ type: 'PauseSchedule', scheduleId: 's1' }, state)).toEqual([]);
    const resumed = decide({ type: 'ResumeSchedule', scheduleId: 's1' }, state);
    state = resumed.reduce((s, e) => evolveSchedules(s, e, { occurredAt: '2026-04-01T00:00:00.000Z' }), state);
    expect(state.schedules.get('s1')).toMatchObject({ paused: false, activeSince: '2026-04-01T00:00:00.000Z' });
    expect(decide({ type: 'ResumeSchedule', scheduleId: 's1' }, state)).toEqual([]);
  });

  it('deleting a schedule frees its prefix', () => {
    const created = fold(create('s1'));
    const deleted = decide({ type: 'DeleteSchedule', scheduleId: 's1' }, created);
    expect(deleted).toEqual([{ type: 'BackupScheduleDeleted', data: { workspaceId: W, scheduleId: 's1', prefix: 'nightly' } }]);
    const state = fold(deleted, created);
    expect(state.schedules.size).toBe(0);
    expect(decide({ type: 'CreateSchedule', scheduleId: 's2', input: input() }, state)).toHaveLength(1);
    expectError(() => decide({ type: 'DeleteSchedule', scheduleId: 's1' }, state), ErrorCode.NOT_FOUND);
  });
});
