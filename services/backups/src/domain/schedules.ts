import { CanopyError, ErrorCode, type BackupOptions, type backupScheduleEvents, type EventOf } from '@canopy/schema';
import { authorize, parseField, type Actor } from '@canopy/workspaces';
import { CronExpression } from './cron.js';
import { Expiry, formatDuration } from './duration.js';
import type { LocationsState } from './locations.js';
import { notFound, parseBackupOptions, type BackupOptionsInput, type WorkspaceFacts } from './options.js';
import { givenFields } from './patch.js';

/** The events of a `backups-{workspaceId}` stream. */
export type ScheduleEvent = EventOf<(typeof backupScheduleEvents)[number]>;

export interface BackupSchedule extends BackupOptions {
  scheduleId: string;
  cron: string;
  ttlSeconds: number;
  paused: boolean;
  createdBy: string;
  /** When the schedule last started counting runs (created, resumed, or its cron changed); runs due before are never made up. */
  activeSince: string | undefined;
}

export interface SchedulesState {
  schedules: ReadonlyMap<string, BackupSchedule>;
}

export const initialSchedulesState: SchedulesState = { schedules: new Map() };

/** A schedule as users send it (unchecked): the backup options, a five-field cron in UTC and an expiry such as `720h` or `30d`. */
export interface ScheduleInput extends BackupOptionsInput {
  cron: string;
  expiry: string;
}

export type ScheduleCommand =
  | { type: 'CreateSchedule'; scheduleId: string; input: ScheduleInput }
  /** Fields left undefined stay as they are; `clusters: null` means every cluster of the workspace. */
  | { type: 'ChangeSchedule'; scheduleId: string; changes: Partial<ScheduleInput> }
  | { type: 'PauseSchedule'; scheduleId: string }
  | { type: 'ResumeSchedule'; scheduleId: string }
  | { type: 'DeleteSchedule'; scheduleId: string };

/** What a schedule command is decided against besides the schedules: the workspace, the locations it may use, the actor's role there. */
export interface ScheduleContext {
  workspace: WorkspaceFacts;
  locations: LocationsState;
  actor: Actor;
}

/**
 * Decides a command on a workspace's backup schedules: admins and owners
 * only; the prefix (which names the backups) is unique among the
 * workspace's schedules. A change checks the whole schedule again, so a
 * namespace or cluster that has left the workspace since must be dropped
 * from it in the same change.
 */
export function decideSchedules(command: ScheduleCommand, state: SchedulesState, context: ScheduleContext): ScheduleEvent[] {
  const { workspace, actor } = context;
  const workspaceId = workspace.workspaceId;
  authorize(actor, 'manageBackups', workspaceId);
  switch (command.type) {
    case 'CreateSchedule': {
      if (state.schedules.has(command.scheduleId)) {
        throw new CanopyError(ErrorCode.CONFLICT, `Backup schedule ${command.scheduleId} already exists.`, { scheduleId: command.scheduleId });
      }
      const spec = parseSchedule(command.input, context);
      assertPrefixFree(state, command.scheduleId, spec.prefix);
      return [{ type: 'BackupScheduleCreated', data: { workspaceId, scheduleId: command.scheduleId, ...spec, createdBy: actor.userId } }];
    }

    case 'ChangeSchedule': {
      const current = existing(state, command.scheduleId);
      const merged: ScheduleInput = { ...inputOf(current), ...givenFields(command.changes) };
      const spec = parseSchedule(merged, context);
      if (sameSpec(spec, current)) return [];
      assertPrefixFree(state, command.scheduleId, spec.prefix);
      return [{ type: 'BackupScheduleChanged', data: { workspaceId, scheduleId: command.scheduleId, ...spec } }];
    }

    case 'PauseSchedule':
      if (existing(state, command.scheduleId).paused) return [];
      return [{ type: 'BackupSchedulePaused', data: { workspaceId, scheduleId: command.scheduleId } }];

    case 'ResumeSchedule':
      if (!existing(state, command.scheduleId).paused) return [];
      return [{ type: 'BackupScheduleResumed', data: { workspaceId, scheduleId: command.scheduleId } }];

    case 'DeleteSchedule': {
      const current = existing(state, command.scheduleId);
      return [{ type: 'BackupScheduleDeleted', data: { workspaceId, scheduleId: command.scheduleId, prefix: current.prefix } }];
    }
  }
}

/** When each event was recorded (from its metadata): a schedule counts its runs from its creation, resumption or new cron. */
export interface EventTime {
  occurredAt?: string;
}

export function evolveSchedules(state: SchedulesState, event: ScheduleEvent, meta: EventTime = {}): SchedulesState {
  const schedules = new Map(state.schedules);
  switch (event.type) {
    case 'BackupScheduleCreated': {
      const { workspaceId: _workspace, ...schedule } = event.data;
      schedules.set(schedule.scheduleId, { ...schedule, paused: false, activeSince: meta.occurredAt });
      break;
    }
    case 'BackupScheduleChanged': {
      const current = schedules.get(event.data.scheduleId)!;
      const { workspaceId: _workspace, ...spec } = event.data;
      schedules.set(spec.scheduleId, { ...current, ...spec, activeSince: spec.cron === current.cron ? current.activeSince : meta.occurredAt });
      break;
    }
    case 'BackupSchedulePaused':
      schedules.set(event.data.scheduleId, { ...schedules.get(event.data.scheduleId)!, paused: true });
      break;
    case 'BackupScheduleResumed':
      schedules.set(event.data.scheduleId, { ...schedules.get(event.data.scheduleId)!, paused: false, activeSince: meta.occurredAt });
      break;
    case 'BackupScheduleDeleted':
      schedules.delete(event.data.scheduleId);
      break;
  }
  return { schedules };
}

type ScheduleSpec = BackupOptions & { cron: string; ttlSeconds: number };

function parseSchedule(input: ScheduleInput, context: ScheduleContext): ScheduleSpec {
  const cron = parseField('cron', CronExpression, input.cron);
  const ttlSeconds = parseField('expiry', Expiry, input.expiry);
  return { cron, ttlSeconds, ...parseBackupOptions(input, context.workspace, context.locations) };
}

/** A stored schedule as input again, to apply a change on top of it. */
function inputOf(schedule: BackupSchedule): ScheduleInput {
  return {
    prefix: schedule.prefix,
    locationId: schedule.locationId,
    includeAllDisks: schedule.includeAllDisks,
    includeClusterResources: schedule.includeClusterResources,
    namespaces: schedule.namespaces,
    clusters: schedule.clusters,
    cron: schedule.cron,
    expiry: formatDuration(schedule.ttlSeconds),
  };
}

function sameSpec(a: ScheduleSpec, b: ScheduleSpec): boolean {
  const keys: (keyof ScheduleSpec)[] = ['prefix', 'locationId', 'includeAllDisks', 'includeClusterResources', 'cron', 'ttlSeconds'];
  return keys.every((key) => a[key] === b[key]) && JSON.stringify(a.namespaces) === JSON.stringify(b.namespaces) && JSON.stringify(a.clusters) === JSON.stringify(b.clusters);
}

function existing(state: SchedulesState, scheduleId: string): BackupSchedule {
  const schedule = state.schedules.get(scheduleId);
  if (!schedule) throw notFound('scheduleId', `The workspace has no backup schedule ${scheduleId}.`);
  return schedule;
}

function assertPrefixFree(state: SchedulesState, scheduleId: string, prefix: string): void {
  for (const other of state.schedules.values()) {
    if (other.scheduleId !== scheduleId && other.prefix === prefix) {
      throw new CanopyError(ErrorCode.NAME_TAKEN, `Another backup schedule of this workspace already uses the prefix ${prefix}.`, { field: 'prefix', scheduleId: other.scheduleId });
    }
  }
}
