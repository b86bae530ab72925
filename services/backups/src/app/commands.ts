import type { AppendResult, EventLog } from '@canopy/eventstore';
import { CanopyError, ErrorCode, isCanopyError } from '@canopy/schema';
import {
  authorize,
  commandHash,
  derivedUuid,
  effectiveRole,
  newEntityId,
  versionOf,
  workspaceNotFound,
  type Actor,
  type CommandContext,
  type CommandResult,
  type Idempotency,
  type OrganizationState,
  type WorkspaceView,
  appendFolded,
  replayedResult,
} from '@canopy/workspaces';
import { deleteBackup, expireBackup, recordBackupReport, requestBackup, runSchedule, type BackupNowInput } from '../domain/backup.js';
import { dueRuns, expiredBackups } from '../domain/due.js';
import { decideLocations, type LocationActor, type LocationCommand, type LocationInput } from '../domain/locations.js';
import type { ClusterHealth, WorkspaceFacts } from '../domain/options.js';
import { recordRestoreReport, requestRestore, type RestoreOptionsInput } from '../domain/restore.js';
import { decideSchedules, type ScheduleCommand, type ScheduleInput } from '../domain/schedules.js';
import type { BackupsDirectory } from './directory.js';
import { backupStream, locationsStream, restoreStream, schedulesStream } from './streams.js';

/** The workspaces the backup commands act in: the workspaces service's directory answers these. */
export interface WorkspaceLookup {
  workspace(workspaceId: string): WorkspaceView | undefined;
  organization(organizationId: string): { state: OrganizationState } | undefined;
}

/**
 * The current health of one cluster of a workspace, asked when a backup or
 * a restore is planned. The clusters service answers it; a check that
 * throws counts as unreachable.
 */
export type ClusterHealthCheck = (cluster: { workspaceId: string; clusterId: string; name: string }) => Promise<ClusterHealth>;

/** Who the scheduler and the expiry sweep write as. */
export const SYSTEM_ACTOR = 'canopy';

/** How often a command is decided again when another writer appended to its stream first. */
const ATTEMPTS = 8;

export interface BackupCommandsOptions {
  log: EventLog;
  directory: BackupsDirectory;
  workspaces: WorkspaceLookup;
  health: ClusterHealthCheck;
  /** The time backups are requested at and schedules and expiries are judged by. */
  clock?: () => Date;
}

/**
 * The command side of backups: load (from the directory) → decide → append
 * with the revision decided on. No command carries a version from the
 * client: when another writer appended first, the command is decided again
 * on the fresh stream, which is safe because every rule is checked again
 * (so of two concurrent changes neither is lost, and of two conflicting
 * ones the second is refused as it would have been had it come later).
 * Commands with an idempotency key are replayed, as the workspaces
 * handlers do.
 */
export class BackupCommands {
  private readonly log: EventLog;
  private readonly directory: BackupsDirectory;
  private readonly workspaces: WorkspaceLookup;
  private readonly health: ClusterHealthCheck;
  private readonly clock: () => Date;

  constructor(options: BackupCommandsOptions) {
    this.log = options.log;
    this.directory = options.directory;
    this.workspaces = options.workspaces;
    this.health = options.health;
    this.clock = options.clock ?? (() => new Date());
  }

  /** An organization-wide location, visible to every workspace of the organization: organization owners only. */
  async addOrganizationLocation(context: CommandContext, organizationId: string, input: LocationInput): Promise<CommandResult & { locationId: string }> {
    const organization = this.knownOrganization(organizationId, context.userId);
    const locationId = newEntityId(scope(context), `backup-location:${organizationId}`);
    const command: LocationCommand = { type: 'AddLocation', locationId, workspaceId: null, input };
    return { locationId, ...(await this.locationCommand(context, organizationId, organization, command, { organizationId, command })) };
  }

  /** A location of one workspace only: its admins and owners. */
  async addWorkspaceLocation(context: CommandContext, workspaceId: string, input: LocationInput): Promise<CommandResult & { locationId: string }> {
    const view = this.requireWorkspace(workspaceId, context.userId);
    const organizationId = view.organizationId;
    const locationId = newEntityId(scope(context), `backup-location:${workspaceId}`);
    const command: LocationCommand = { type: 'AddLocation', locationId, workspaceId, input };
    return { locationId, ...(await this.locationCommand(context, organizationId, view.organization, command, { workspaceId, command })) };
  }

  async changeLocation(context: CommandContext, locationId: string, changes: Partial<LocationInput>): Promise<CommandResult> {
    const { organizationId, organization } = this.locationOwner(locationId, context.userId);
    const command: LocationCommand = { type: 'ChangeLocation', locationId, changes };
    return this.locationCommand(context, organizationId, organization, command, command);
  }

  /** Refused while a schedule uses the location or a backup taken to it still has its files. */
  async removeLocation(context: CommandContext, locationId: string): Promise<CommandResult> {
    const { organizationId, organization } = this.locationOwner(locationId, context.userId);
    return this.locationCommand(context, organizationId, organization, () => ({ type: 'RemoveLocation', locationId, usedBy: this.directory.usesOfLocation(locationId) }), {
      type: 'RemoveLocation',
      locationId,
    });
  }

  async createSchedule(context: CommandContext, workspaceId: string, input: ScheduleInput): Promise<CommandResult & { scheduleId: string }> {
    const scheduleId = newEntityId(scope(context), `backup-schedule:${workspaceId}`);
    return { scheduleId, ...(await this.scheduleCommand(context, workspaceId, { type: 'CreateSchedule', scheduleId, input })) };
  }

  async changeSchedule(context: CommandContext, workspaceId: string, scheduleId: string, changes: Partial<ScheduleInput>): Promise<CommandResult> {
    return this.scheduleCommand(context, workspaceId, { type: 'ChangeSchedule', scheduleId, changes });
  }

  async pauseSchedule(context: CommandContext, workspaceId: string, scheduleId: string): Promise<CommandResult> {
    return this.scheduleCommand(context, workspaceId, { type: 'PauseSchedule', scheduleId });
  }

  async resumeSchedule(context: CommandContext, workspaceId: string, scheduleId: string): Promise<CommandResult> {
    return this.scheduleCommand(context, workspaceId, { type: 'ResumeSchedule', scheduleId });
  }

  async deleteSchedule(context: CommandContext, workspaceId: string, scheduleId: string): Promise<CommandResult> {
    return this.scheduleCommand(context, workspaceId, { type: 'DeleteSchedule', scheduleId });
  }

  /** An on-demand backup of the workspace, with the same options as a schedule. */
  async backupNow(context: CommandContext, workspaceId: string, input: BackupNowInput): Promise<CommandResult & { backupId: string }> {
    const view = this.requireWorkspace(workspaceId, context.userId);
    // Refused callers cost no health checks.
    authorize(actorIn(view, context.userId), 'manageBackups', workspaceId);
    const backupId = newEntityId(scope(context), `backup:${workspaceId}`);
    const stream = backupStream(backupId);
    const idempotency = scope(context);
    const hash = idempotency.key === undefined ? undefined : commandHash({ stream, command: { type: 'BackupNow', workspaceId, input } });
    const replay = this.replay(idempotency, stream, hash);
    if (replay) return { backupId, ...replay };
    const health = await this.healthOf(view);
    const requestedAt = this.clock();
    const result = await this.run(stream, context, hash, () => {
      const current = this.requireWorkspace(workspaceId, context.userId);
      const command = { backupId, requestedAt, input };
      return requestBackup(command, this.directory.backup(backupId).state, { workspace: factsOf(current), locations: this.locationsOf(current), health, actor: actorIn(current, context.userId) });
    });
    return { backupId, ...result };
  }

  /** Deletes a backup's files before its expiry: admins and owners of its workspace. */
  async deleteBackup(context: CommandContext, backupId: string): Promise<CommandResult> {
    const stream = backupStream(backupId);
    const idempotency = scope(context);
    const hash = idempotency.key === undefined ? undefined : commandHash({ stream, command: { type: 'DeleteBackup' } });
    return this.run(stream, context, hash, () => {
      const backup = this.visibleBackup(backupId, context.userId);
      return deleteBackup(actorIn(this.workspaces.workspace(backup.request!.workspaceId), context.userId), backup);
    });
  }

  /** Restores a finished backup onto every cluster still in its workspace (see `requestRestore`). */
  async restoreBackup(context: CommandContext, backupId: string, options: RestoreOptionsInput): Promise<CommandResult & { restoreId: string }> {
    const backup = this.visibleBackup(backupId, context.userId);
    const workspaceId = backup.request!.workspaceId;
    const view = this.requireWorkspace(workspaceId, context.userId);
    authorize(actorIn(view, context.userId), 'manageBackups', workspaceId);
    const restoreId = newEntityId(scope(context), `restore:${backupId}`);
    const stream = restoreStream(restoreId);
    const idempotency = scope(context);
    const hash = idempotency.key === undefined ? undefined : commandHash({ stream, command: { type: 'RestoreBackup', backupId, options } });
    const replay = this.replay(idempotency, stream, hash);
    if (replay) return { restoreId, ...replay };
    const health = await this.healthOf(view);
    const requestedAt = this.clock();
    const result = await this.run(stream, context, hash, () => {
      const current = this.requireWorkspace(workspaceId, context.userId);
      return requestRestore({ restoreId, requestedAt, options }, this.directory.restore(restoreId).state, this.directory.backup(backupId).state, {
        workspace: factsOf(current),
        health,
        actor: actorIn(current, context.userId),
      });
    });
    return { restoreId, ...result };
  }

  /** What a cluster's watcher saw of its Velero backup; `context` names the watcher. */
  async recordBackupReport(context: CommandContext, backupId: string, report: unknown): Promise<CommandResult> {
    const stream = backupStream(backupId);
    if (this.directory.revisionOf(stream) === undefined) await this.directory.catchUp(this.log, stream);
    return this.run(stream, context, undefined, () => recordBackupReport(report, this.directory.backup(backupId).state));
  }

  /** What a cluster's watcher saw of its Velero restore. */
  async recordRestoreReport(context: CommandContext, restoreId: string, report: unknown): Promise<CommandResult> {
    const stream = restoreStream(restoreId);
    if (this.directory.revisionOf(stream) === undefined) await this.directory.catchUp(this.log, stream);
    return this.run(stream, context, undefined, () => recordRestoreReport(report, this.directory.restore(restoreId).state));
  }

  /**
   * Records the backups that schedules have due at `now` (see `dueRuns`).
   * Each run's backup id derives from its schedule and due time, so two
   * schedulers (or a retry) record it once. Schedules of deleted workspaces
   * never run. A run that fails to be recorded is reported and the others go on.
   */
  async runDueSchedules(now: Date = this.clock()): Promise<{ started: string[]; failed: { scheduleId: string; error: unknown }[] }> {
    const started: string[] = [];
    const failed: { scheduleId: string; error: unknown }[] = [];
    for (const due of dueRuns(this.directory.allSchedules(), now)) {
      const view = this.workspaces.workspace(due.workspaceId);
      if (!view) continue;
      const backupId = derivedUuid('scheduled-backup', due.scheduleId, due.dueAt.toISOString());
      try {
        const health = await this.healthOf(view);
        const result = await this.run(backupStream(backupId), { userId: SYSTEM_ACTOR }, undefined, () => {
          const schedule = this.directory.schedulesOf(due.workspaceId).state.schedules.get(due.scheduleId);
          const current = this.workspaces.workspace(due.workspaceId);
          if (!schedule || schedule.paused || !current) return [];
          const context = { workspace: factsOf(current), locations: this.locationsOf(current), health };
          return runSchedule({ backupId, schedule, dueAt: due.dueAt, requestedAt: now }, this.directory.backup(backupId).state, context);
        });
        if (result.changed) started.push(backupId);
      } catch (error) {
        failed.push({ scheduleId: due.scheduleId, error });
      }
    }
    return { started, failed };
  }

  /** Expires every backup past its expiry at `now`, deleted workspaces' included; each expiry is an event in the backup's history. */
  async expireBackups(now: Date = this.clock()): Promise<{ expired: string[] }> {
    const expired: string[] = [];
    for (const backupId of expiredBackups(this.directory.allBackups(), now)) {
      const result = await this.run(backupStream(backupId), { userId: SYSTEM_ACTOR }, undefined, () => expireBackup(now, this.directory.backup(backupId).state));
      if (result.changed) expired.push(backupId);
    }
    return { expired };
  }

  private async scheduleCommand(context: CommandContext, workspaceId: string, command: ScheduleCommand): Promise<CommandResult> {
    this.requireWorkspace(workspaceId, context.userId);
    const stream = schedulesStream(workspaceId);
    const idempotency = scope(context);
    const hash = idempotency.key === undefined ? undefined : commandHash({ stream, command });
    return this.run(stream, context, hash, () => {
      const current = this.requireWorkspace(workspaceId, context.userId);
      return decideSchedules(command, this.directory.schedulesOf(workspaceId).state, {
        workspace: factsOf(current),
        locations: this.locationsOf(current),
        actor: actorIn(current, context.userId),
      });
    });
  }

  private async locationCommand(
    context: CommandContext,
    organizationId: string,
    organization: OrganizationState,
    command: LocationCommand | (() => LocationCommand),
    fingerprint: unknown,
  ): Promise<CommandResult> {
    const stream = locationsStream(organizationId);
    const idempotency = scope(context);
    const hash = idempotency.key === undefined ? undefined : commandHash({ stream, command: fingerprint });
    const actor = this.locationActor(organizationId, organization, context.userId);
    return this.run(stream, context, hash, () =>
      decideLocations(organizationId, typeof command === 'function' ? command() : command, this.directory.locationsOf(organizationId).state, actor),
    );
  }

  /**
   * The loop every command runs: replay under an idempotency key, decide on
   * the folded stream, append expecting the revision decided on; when another
   * writer got there first, read the stream and decide again.
   */
  private async run(stream: string, context: CommandContext, hash: string | undefined, decide: () => readonly { type: string; data: unknown }[]): Promise<CommandResult> {
    const idempotency = scope(context);
    for (let attempt = 1; ; attempt++) {
      const replay = this.replay(idempotency, stream, hash);
      if (replay) return replay;
      const revision = this.directory.revisionOf(stream);
      const events = decide();
      if (events.length === 0) return { version: versionOf(revision), changed: false, replayed: false, position: this.directory.position };
      try {
        const appended = await this.append(stream, events, revision ?? 'no_stream', context, idempotency, hash);
        return { version: versionOf(revision) + events.length, changed: true, replayed: false, position: appended.position };
      } catch (error) {
        const retryable = isCanopyError(error, ErrorCode.WRONG_EXPECTED_VERSION) || isCanopyError(error, ErrorCode.DUPLICATE_EVENT_ID);
        if (!retryable) throw error;
        if (attempt >= ATTEMPTS) throw new CanopyError(ErrorCode.CONFLICT, `${stream} is changing too fast to apply this change; try again.`, { stream });
        await this.directory.catchUp(this.log, stream);
      }
    }
  }

  /** Appends with deterministic ids under an idempotency key, then folds the events right away (read-your-writes). */
  private append(
    stream: string,
    events: readonly { type: string; data: unknown }[],
    expectedRevision: bigint | 'no_stream',
    context: CommandContext,
    idempotency: Idempotency,
    hash: string | undefined,
  ): Promise<AppendResult> {
    return appendFolded(this.log, this.directory, { stream, events, expectedRevision, context, idempotency, hash });
  }

  /** The first result of a command already written under this idempotency key, or undefined. */
  private replay(idempotency: Idempotency, stream: string, hash: string | undefined): CommandResult | undefined {
    return replayedResult(this.directory, idempotency, stream, hash);
  }

  /** A workspace the caller has a role in; otherwise it does not exist, for them. */
  private requireWorkspace(workspaceId: string, userId: string): WorkspaceView {
    const view = this.workspaces.workspace(workspaceId);
    if (!view || effectiveRole(view, userId) === undefined) throw workspaceNotFound(workspaceId);
    return view;
  }

  /** A backup the caller may see (a role in its workspace); otherwise NOT_FOUND, whether it exists or not. */
  private visibleBackup(backupId: string, userId: string) {
    const backup = this.directory.backup(backupId).state;
    const view = backup.request && this.workspaces.workspace(backup.request.workspaceId);
    if (!backup.request || !view || effectiveRole(view, userId) === undefined) {
      throw new CanopyError(ErrorCode.NOT_FOUND, `Backup ${backupId} does not exist or you have no role in its workspace.`, { field: 'backupId', backupId });
    }
    return backup;
  }

  /** An organization the caller owns or has a role in (they are then refused, not told it does not exist). */
  private knownOrganization(organizationId: string, userId: string): OrganizationState {
    const organization = this.workspaces.organization(organizationId)?.state;
    const known =
      organization !== undefined &&
      (organization.owners.has(userId) || [...organization.workspaces.keys()].some((workspaceId) => this.roleIn(organizationId, workspaceId, userId) !== undefined));
    if (!known) throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${organizationId} does not exist.`, { organizationId });
    return organization;
  }

  private locationOwner(locationId: string, userId: string): { organizationId: string; organization: OrganizationState } {
    const organizationId = this.directory.organizationOfLocation(locationId);
    const organization = organizationId === undefined ? undefined : this.workspaces.organization(organizationId)?.state;
    if (organizationId === undefined || organization === undefined) {
      throw new CanopyError(ErrorCode.NOT_FOUND, `Backup location ${locationId} does not exist.`, { field: 'locationId', locationId });
    }
    return { organizationId, organization: this.knownOrganization(organizationId, userId) };
  }

  private locationActor(organizationId: string, organization: OrganizationState, userId: string): LocationActor {
    return { userId, organizationOwner: organization.owners.has(userId), roleIn: (workspaceId) => this.roleIn(organizationId, workspaceId, userId) };
  }

  private roleIn(organizationId: string, workspaceId: string, userId: string) {
    const view = this.workspaces.workspace(workspaceId);
    return view && view.organizationId === organizationId ? effectiveRole(view, userId) : undefined;
  }

  private locationsOf(view: WorkspaceView) {
    return this.directory.locationsOf(view.organizationId).state;
  }

  /** Each cluster's health, asked of all at once; a check that fails counts as unreachable. */
  private async healthOf(view: WorkspaceView): Promise<ReadonlyMap<string, ClusterHealth>> {
    const entries = await Promise.all(
      [...view.state.clusters].map(async ([clusterId, cluster]): Promise<[string, ClusterHealth]> => {
        try {
          return [clusterId, await this.health({ workspaceId: view.workspaceId, clusterId, name: cluster.name })];
        } catch (error) {
          return [clusterId, { status: 'unreachable', message: `The health check failed: ${error instanceof Error ? error.message : String(error)}` }];
        }
      }),
    );
    return new Map(entries);
  }
}

function factsOf(view: WorkspaceView): WorkspaceFacts {
  return { workspaceId: view.workspaceId, organizationId: view.organizationId, clusters: view.state.clusters, namespaces: view.state.namespaces };
}

function actorIn(view: WorkspaceView | undefined, userId: string): Actor {
  return { userId, role: view ? effectiveRole(view, userId) : undefined };
}

function scope(context: CommandContext): Idempotency {
  return { actor: context.userId, key: context.idempotencyKey };
}
