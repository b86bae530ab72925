import type { EventLog, ReadDomainEvent } from '@canopy/eventstore';
import { evolveBackup, initialBackupState, type BackupEvent, type BackupState } from '../domain/backup.js';
import { evolveLocations, initialLocationsState, type LocationEvent, type LocationsState } from '../domain/locations.js';
import { evolveRestore, initialRestoreState, type RestoreEvent, type RestoreState } from '../domain/restore.js';
import { evolveSchedules, initialSchedulesState, type ScheduleEvent, type SchedulesState } from '../domain/schedules.js';
import type { ScheduleRuns } from '../domain/due.js';
import { backupStream, locationsStream, restoreStream, schedulesStream, streamOf } from './streams.js';

export interface Folded<S> {
  state: S;
  /** Revision of the last event folded; undefined while the stream has none. */
  revision: bigint | undefined;
}

/** What the log holds about one event written under an idempotency key. */
export interface IdempotentEvent {
  stream: string;
  revision: bigint;
  commandHash: string | undefined;
}

/**
 * Every backup stream folded from the log, in memory: what the command
 * handlers, the scheduler and the expiry sweep decide on. Like the
 * workspaces directory, events arrive from the log's subscription and, for
 * this process's own appends, right after the append; the per-stream
 * revision makes the second arrival a no-op.
 *
 * Backups and restores stay here when their workspace is deleted: deleting a
 * workspace keeps its backups, and the sweep still expires them.
 */
export class BackupsDirectory {
  private readonly locations = new Map<string, Folded<LocationsState>>();
  private readonly locationOrganizations = new Map<string, string>();
  private readonly schedules = new Map<string, Folded<SchedulesState>>();
  private readonly backups = new Map<string, Folded<BackupState>>();
  private readonly restores = new Map<string, Folded<RestoreState>>();
  private readonly backupsOfWorkspace = new Map<string, Set<string>>();
  /** The due time of each schedule's latest recorded run. */
  private readonly lastRuns = new Map<string, string>();
  private readonly idempotent = new Map<string, IdempotentEvent>();
  private folded: bigint | undefined;

  /** The log position of the latest event folded. */
  get position(): bigint | undefined {
    return this.folded;
  }

  /** Folds one event of a backup stream; other streams and already-folded revisions are ignored. */
  apply(event: ReadDomainEvent): void {
    const stream = streamOf(event.stream);
    if (!stream) return;
    const { kind, id } = stream;
    const domainEvent = { type: event.type, data: event.data };
    if (kind === 'locations') {
      if (!this.fold(this.locations, id, event.revision, initialLocationsState, (state) => evolveLocations(state, domainEvent as LocationEvent))) return;
      const { locationId } = (domainEvent as LocationEvent).data;
      this.locationOrganizations.set(locationId, id);
    } else if (kind === 'schedules') {
      const meta = { occurredAt: event.metadata.occurredAt };
      if (!this.fold(this.schedules, id, event.revision, initialSchedulesState, (state) => evolveSchedules(state, domainEvent as ScheduleEvent, meta))) return;
    } else if (kind === 'backup') {
      if (!this.fold(this.backups, id, event.revision, initialBackupState, (state) => evolveBackup(state, domainEvent as BackupEvent))) return;
      const typed = domainEvent as BackupEvent;
      if (typed.type === 'BackupRequested') {
        const { workspaceId, trigger } = typed.data;
        this.backupsOfWorkspace.set(workspaceId, (this.backupsOfWorkspace.get(workspaceId) ?? new Set()).add(id));
        if (trigger.kind === 'schedule') {
          const last = this.lastRuns.get(trigger.scheduleId);
          if (last === undefined || Date.parse(trigger.dueAt) > Date.parse(last)) this.lastRuns.set(trigger.scheduleId, trigger.dueAt);
        }
      }
    } else {
      if (!this.fold(this.restores, id, event.revision, initialRestoreState, (state) => evolveRestore(state, domainEvent as RestoreEvent))) return;
    }
    if (this.folded === undefined || event.position > this.folded) this.folded = event.position;
    if (event.metadata.idempotencyKey !== undefined) {
      this.idempotent.set(event.id, { stream: event.stream, revision: event.revision, commandHash: event.metadata.commandHash });
    }
  }

  private fold<S>(map: Map<string, Folded<S>>, id: string, revision: bigint, initial: S, evolve: (state: S) => S): boolean {
    const folded = map.get(id) ?? { state: initial, revision: undefined };
    const next = folded.revision === undefined ? revision === 0n : revision === folded.revision + 1n;
    if (!next) return false;
    map.set(id, { state: evolve(folded.state), revision });
    return true;
  }

  /** Reads what the log has beyond the folded revision of one stream (when a write finds the fold behind). */
  async catchUp(log: EventLog, stream: string): Promise<void> {
    const revision = this.revisionOf(stream);
    for await (const event of log.readStream(stream, { fromRevision: revision === undefined ? 0n : revision + 1n })) this.apply(event);
  }

  /** Whether the event at this revision of the stream is folded already. */
  holds(stream: string, revision: bigint): boolean {
    const folded = this.revisionOf(stream);
    return folded !== undefined && folded >= revision;
  }

  revisionOf(stream: string): bigint | undefined {
    const parsed = streamOf(stream);
    if (!parsed) return undefined;
    const maps = { locations: this.locations, schedules: this.schedules, backup: this.backups, restore: this.restores } as const;
    return (maps[parsed.kind] as Map<string, Folded<unknown>>).get(parsed.id)?.revision;
  }

  locationsOf(organizationId: string): Folded<LocationsState> {
    return this.locations.get(organizationId) ?? { state: initialLocationsState, revision: undefined };
  }

  /** The organization whose stream holds the location (removed ones included), or undefined. */
  organizationOfLocation(locationId: string): string | undefined {
    return this.locationOrganizations.get(locationId);
  }

  schedulesOf(workspaceId: string): Folded<SchedulesState> {
    return this.schedules.get(workspaceId) ?? { state: initialSchedulesState, revision: undefined };
  }

  backup(backupId: string): Folded<BackupState> {
    return this.backups.get(backupId) ?? { state: initialBackupState, revision: undefined };
  }

  restore(restoreId: string): Folded<RestoreState> {
    return this.restores.get(restoreId) ?? { state: initialRestoreState, revision: undefined };
  }

  /** A workspace's backups (deleted workspaces' too), oldest request first. */
  backupsOf(workspaceId: string): BackupState[] {
    const ids = [...(this.backupsOfWorkspace.get(workspaceId) ?? [])];
    return ids.map((id) => this.backups.get(id)!.state).sort((a, b) => Date.parse(a.request!.requestedAt) - Date.parse(b.request!.requestedAt));
  }

  *allBackups(): IterableIterator<BackupState> {
    for (const folded of this.backups.values()) yield folded.state;
  }

  /** Every schedule of every workspace with the due time of its latest recorded run: the scheduler's input. */
  *allSchedules(): IterableIterator<ScheduleRuns> {
    for (const [workspaceId, folded] of this.schedules) {
      for (const schedule of folded.state.schedules.values()) yield { workspaceId, schedule, lastDueAt: this.lastRuns.get(schedule.scheduleId) };
    }
  }

  /**
   * What still needs a location: the schedules using it (across the
   * organization's workspaces) and the backups taken to it whose files are
   * not gone yet.
   */
  usesOfLocation(locationId: string): { schedules: string[]; backups: number } {
    const schedules: string[] = [];
    for (const folded of this.schedules.values()) {
      for (const schedule of folded.state.schedules.values()) if (schedule.locationId === locationId) schedules.push(schedule.scheduleId);
    }
    let backups = 0;
    for (const folded of this.backups.values()) if (folded.state.request?.location.locationId === locationId && !folded.state.gone) backups++;
    return { schedules, backups };
  }

  idempotentEvent(eventId: string): IdempotentEvent | undefined {
    return this.idempotent.get(eventId);
  }

  /** Every backup stream folded: for tests and diagnostics. */
  streams(): string[] {
    return [
      ...[...this.locations.keys()].map(locationsStream),
      ...[...this.schedules.keys()].map(schedulesStream),
      ...[...this.backups.keys()].map(backupStream),
      ...[...this.restores.keys()].map(restoreStream),
    ];
  }
}
