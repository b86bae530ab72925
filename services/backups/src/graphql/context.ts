import type { EventLog } from '@canopy/eventstore';
import type { WorkspaceRole } from '@canopy/schema';
import type { EventFeed, ReadModelConsistency } from '@canopy/workspaces';
import type { BackupCommands } from '../app/commands.js';
import type { BackupLocation } from '../domain/locations.js';
import type { BackupSchedule } from '../domain/schedules.js';
import type { BackupDetail, BackupsQuery, BackupSummary, Page, RestoreDetail, RestoresQuery, RestoreSummary } from '../read-model/queries.js';

/**
 * What the backups subgraph's resolvers get for one request. The gateway
 * builds it from the backups service (`commands`), the backups read model
 * and the workspaces directory (`backupsReads`), the read-your-writes
 * tracker, and, for subscriptions, the event feed and the log.
 */
export interface BackupsContext {
  caller: { userId: string };
  correlationId?: string;
  commands: BackupCommands;
  /** Made per request: its loaders batch and cache the request's lookups. */
  reads: BackupsReads;
  /** Read-your-writes, as for the workspaces subgraph: a mutation records the caller's write, `consistent` waits for the read models. Absent: reads do not wait and `consistent` is true. */
  consistency?: ReadModelConsistency;
  /** Subscriptions only (served over graphql-ws). */
  live?: BackupsLive;
}

/** What queries read for one caller: the backups read model and who holds which role where. They check nothing themselves: resolvers check `roleIn` first. */
export interface BackupsReads {
  /** The caller's effective role in the workspace; undefined when none, or no such live workspace. */
  roleIn(workspaceId: string): Promise<WorkspaceRole | undefined>;
  /** The organization of a live workspace. */
  organizationOf(workspaceId: string): Promise<string | undefined>;
  backupsPage(query: BackupsQuery): Promise<Page<BackupSummary>>;
  restoresPage(query: RestoresQuery): Promise<Page<RestoreSummary>>;
  /** One backup with its clusters and aggregate, whoever asks (batched per request). */
  backup(backupId: string): Promise<BackupDetail | undefined>;
  restore(restoreId: string): Promise<RestoreDetail | undefined>;
  /** The workspace's schedules, by prefix. */
  schedules(workspaceId: string): Promise<BackupSchedule[]>;
  /** The locations the workspace may use (the organization's and its own), by name. */
  locations(workspaceId: string): Promise<BackupLocation[]>;
  /** The time the request is answered at: schedules' next runs count from it. */
  now(): Date;
}

/** What the progress subscription runs on besides the request context. */
export interface BackupsLive {
  /** The process's event feed (exact stream names, and `backup-` by prefix): progress on the process's one log subscription. */
  events: EventFeed;
  /** The log: a backup's stream up to a cursor (its state when the subscription starts, or first meets it). */
  log: EventLog;
  /** New reads each call (no request cache): access is checked again over time. */
  reads(): BackupsReads;
}
