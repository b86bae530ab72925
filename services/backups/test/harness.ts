import { randomBytes } from 'node:crypto';
import { EventLog, openEventStore, type OpenedEventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { openKeyStore, type OpenedKeyStore } from '@canopy/keystore';
import { canopyEventRegistry } from '@canopy/schema';
import { startWorkspacesService, type CommandContext, type WorkspaceCommand, type WorkspacesService } from '@canopy/workspaces';
import { startBackupsService, type BackupsService, type ClusterHealth, type LocationInput } from '../src/index.js';

export const as = (userId: string, idempotencyKey?: string): CommandContext => (idempotencyKey === undefined ? { userId } : { userId, idempotencyKey });

/**
 * The workspaces and backups services on one in-memory log, with a clock
 * the test moves (the log stamps events with it too) and cluster health the
 * test sets (healthy unless said otherwise).
 */
export interface Harness {
  opened: OpenedEventStore;
  log: EventLog;
  workspaces: WorkspacesService;
  backups: BackupsService;
  clock: { now: Date };
  /** By cluster id; absent: healthy. A cluster mapped to an Error makes its check throw. */
  health: Map<string, ClusterHealth | Error>;
  /** Another backups service on the same log, as a second process would run it. */
  secondProcess(): Promise<BackupsService>;
  team(): Promise<Team>;
  /** Every event of a stream, oldest first. */
  events(stream: string): Promise<ReadDomainEvent[]>;
  head(): Promise<bigint | undefined>;
  close(): Promise<void>;
}

/** An organization owned by ada with workspace `web` (bob admin, carol member, dan viewer; namespaces shop and db; clusters east and west) and an organization-wide location. */
export interface Team {
  organizationId: string;
  workspaceId: string;
  east: string;
  west: string;
  locationId: string;
  /** Runs a workspace command as ada at the workspace's current version. */
  ws(command: WorkspaceCommand): Promise<unknown>;
  version(): number;
}

export const primaryLocation = (name = 'primary'): LocationInput => ({
  name,
  provider: 'aws',
  bucket: 'acme-backups',
  prefix: 'canopy',
  credentials: { secretName: 'velero-credentials', key: 'cloud' },
});

export async function startHarness(start = new Date('2026-03-01T10:00:00.000Z')): Promise<Harness> {
  const clock = { now: start };
  const opened = await openEventStore({ kind: 'pglite' });
  const keys: OpenedKeyStore = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
  const log = new EventLog(opened.store, canopyEventRegistry(), () => clock.now);
  const workspaces = await startWorkspacesService({ log, keys: keys.keys });
  const health = new Map<string, ClusterHealth | Error>();
  const startBackups = () =>
    startBackupsService({
      log,
      workspaces: workspaces.directory,
      clock: () => clock.now,
      health: async ({ clusterId }) => {
        const state = health.get(clusterId) ?? { status: 'healthy' };
        if (state instanceof Error) throw state;
        return state;
      },
    });
  const backups = await startBackups();
  const extra: BackupsService[] = [];
  let teams = 0;
  return {
    opened,
    log,
    workspaces,
    backups,
    clock,
    health,
    async secondProcess() {
      const service = await startBackups();
      extra.push(service);
      return service;
    },
    async team() {
      const n = ++teams;
      const commands = workspaces.commands;
      const { organizationId } = await commands.createOrganization(as('ada'), { name: `Acme ${n}`, kind: 'team' });
      const { workspaceId } = await commands.createWorkspace(as('ada'), { organizationId, name: 'web', kind: 'project' });
      const version = () => workspaces.directory.workspace(workspaceId)!.version;
      const ws = (command: WorkspaceCommand) => commands.workspaceCommand(as('ada'), workspaceId, version(), command, () => command);
      for (const [userId, role] of [['bob', 'admin'], ['carol', 'member'], ['dan', 'viewer']] as const) await ws({ type: 'AddMember', userId, role });
      for (const namespace of ['shop', 'db']) await ws({ type: 'AddNamespace', namespace });
      const east = `${workspaceId}-east`;
      const west = `${workspaceId}-west`;
      await ws({ type: 'AttachCluster', clusterId: east, name: 'east', connection: { kind: 'simulator', simulator: 'east' } });
      await ws({ type: 'AttachCluster', clusterId: west, name: 'west', connection: { kind: 'simulator', simulator: 'west' } });
      const { locationId } = await backups.commands.addOrganizationLocation(as('ada'), organizationId, primaryLocation());
      return { organizationId, workspaceId, east, west, locationId, ws, version };
    },
    async events(stream) {
      const events: ReadDomainEvent[] = [];
      for await (const event of log.readStream(stream)) events.push(event);
      return events;
    },
    head: () => opened.store.headPosition(),
    async close() {
      for (const service of extra) await service.close();
      await backups.close();
      await workspaces.close();
      await keys.close();
      await opened.close();
    },
  };
}

/** Waits (without sleeping blindly) until `condition` holds, or fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
