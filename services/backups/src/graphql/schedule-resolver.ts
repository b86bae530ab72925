import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { ScheduleInput } from '../domain/schedules.js';
import { answer, commandContext, IdempotencyKey } from './commanding.js';
import type { BackupsContext } from './context.js';
import { BackupLocationChangesInput, BackupLocationInput, BackupScheduleChangesInput, BackupScheduleInput } from './inputs.js';
import { BackupsChange } from './types.js';
import type { LocationInput } from '../domain/locations.js';

const Key = () => String;

/** Schedules (a workspace's admins and owners) and locations (organization owners, or a workspace's admins and owners for its own). */
@Resolver()
export class ScheduleAndLocationResolver {
  @Mutation(() => BackupsChange, { description: '`id` is the new schedule\'s.' })
  async createBackupSchedule(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('schedule', () => BackupScheduleInput) schedule: BackupScheduleInput,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const result = await context.commands.createSchedule(commandContext(context, idempotencyKey), workspaceId, { ...schedule, clusters: schedule.clusters ?? null });
    return answer(context, result.scheduleId, result);
  }

  @Mutation(() => BackupsChange, { description: 'Only the fields given change; the whole schedule is checked again.' })
  async changeBackupSchedule(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('scheduleId', () => ID) scheduleId: string,
    @Arg('changes', () => BackupScheduleChangesInput) changes: BackupScheduleChangesInput,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const given: Partial<ScheduleInput> = {};
    for (const [field, value] of Object.entries(changes) as [keyof ScheduleInput, unknown][]) {
      // null means "every cluster" for clusters; for the other fields it is the same as leaving them out.
      if (value === undefined || (value === null && field !== 'clusters')) continue;
      (given as Record<string, unknown>)[field] = value;
    }
    return answer(context, scheduleId, await context.commands.changeSchedule(commandContext(context, idempotencyKey), workspaceId, scheduleId, given));
  }

  @Mutation(() => BackupsChange, { description: 'Runs missed while paused are not made up.' })
  async pauseBackupSchedule(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('scheduleId', () => ID) scheduleId: string,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    return answer(context, scheduleId, await context.commands.pauseSchedule(commandContext(context, idempotencyKey), workspaceId, scheduleId));
  }

  @Mutation(() => BackupsChange)
  async resumeBackupSchedule(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('scheduleId', () => ID) scheduleId: string,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    return answer(context, scheduleId, await context.commands.resumeSchedule(commandContext(context, idempotencyKey), workspaceId, scheduleId));
  }

  @Mutation(() => BackupsChange, { description: "The schedule's backups stay until they expire." })
  async deleteBackupSchedule(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('scheduleId', () => ID) scheduleId: string,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    return answer(context, scheduleId, await context.commands.deleteSchedule(commandContext(context, idempotencyKey), workspaceId, scheduleId));
  }

  @Mutation(() => BackupsChange, { description: "Owners of the organization: a location every workspace of it may use; `id` is the new location's." })
  async addOrganizationBackupLocation(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('location', () => BackupLocationInput) location: BackupLocationInput,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const result = await context.commands.addOrganizationLocation(commandContext(context, idempotencyKey), organizationId, locationInput(location));
    return answer(context, result.locationId, result);
  }

  @Mutation(() => BackupsChange, { description: "Admins and owners: a location of this workspace only; `id` is the new location's." })
  async addWorkspaceBackupLocation(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('location', () => BackupLocationInput) location: BackupLocationInput,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const result = await context.commands.addWorkspaceLocation(commandContext(context, idempotencyKey), workspaceId, locationInput(location));
    return answer(context, result.locationId, result);
  }

  @Mutation(() => BackupsChange, { description: 'Only the fields given change.' })
  async changeBackupLocation(
    @Arg('locationId', () => ID) locationId: string,
    @Arg('changes', () => BackupLocationChangesInput) changes: BackupLocationChangesInput,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    const given: Partial<LocationInput> = {};
    for (const [field, value] of Object.entries(changes)) if (value !== undefined && value !== null) (given as Record<string, unknown>)[field] = plain(value);
    return answer(context, locationId, await context.commands.changeLocation(commandContext(context, idempotencyKey), locationId, given));
  }

  @Mutation(() => BackupsChange, { description: 'Refused (CONFLICT) while a schedule uses it or a backup taken to it still has its files.' })
  async removeBackupLocation(
    @Arg('locationId', () => ID) locationId: string,
    @Arg('idempotencyKey', Key, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: BackupsContext,
  ): Promise<BackupsChange> {
    return answer(context, locationId, await context.commands.removeLocation(commandContext(context, idempotencyKey), locationId));
  }
}

function locationInput(location: BackupLocationInput): LocationInput {
  return {
    name: location.name,
    provider: location.provider,
    bucket: location.bucket,
    ...(location.prefix == null ? {} : { prefix: location.prefix }),
    credentials: plain(location.credentials),
  };
}

/** Input objects arrive as class instances; the domain's strict schemas want plain objects. */
function plain(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...value } : value;
}
