import { randomBytes } from 'node:crypto';
import { EventLog, pgliteSqlClient, SqlEventStore, type EventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { KeyStore } from '@canopy/keystore';
import { ClusterConnector, ManualClock, simulatorDirectory, startSimulatedCluster, type ClusterConnection, type SimulatedCluster } from '@canopy/kube';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { canopyEventRegistry } from '@canopy/schema';
import { startWorkspacesService, type CommandContext, type WorkspaceCommand, type WorkspacesService } from '@canopy/workspaces';
import { knownWorkloads, startWorkloadWatcher, workloadsProjector, workloadsStream, type WorkloadWatcher, type WorkloadWatcherOptions } from '../src/index.js';

export const as = (userId: string): CommandContext => ({ userId });

/**
 * The log (PGlite in memory), the workspaces service, the workloads read
 * model on the projector runtime, and a simulated cluster `east` on a manual
 * clock that the watcher reaches through the real client-node over HTTPS.
 */
export interface Harness {
  store: EventStore;
  log: EventLog;
  workspaces: WorkspacesService;
  db: ReadModelDb;
  runner: ProjectionRunner;
  sim: SimulatedCluster;
  clock: ManualClock;
  /** client-node connected to the simulator, as a user (kubectl) would change the cluster. */
  kube: ClusterConnection;
  connector: ClusterConnector;
  /** Starts a watcher seeded from the read model (after it caught up with the log), with quick ticks. */
  startWatcher(options?: Partial<WorkloadWatcherOptions>): Promise<WorkloadWatcher>;
  /** An organization owned by ada with workspace `web`: bob member, dan viewer; namespace shop; cluster east attached. */
  team(): Promise<{ workspaceId: string; organizationId: string; clusterId: string; ws(command: WorkspaceCommand): Promise<unknown> }>;
  events(workspaceId: string): Promise<ReadDomainEvent[]>;
  /** Waits until the read model reflects the whole log. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  // The log and the data keys share one embedded database (each PGlite takes seconds to start on a busy machine).
  const sql = await pgliteSqlClient();
  const store = await SqlEventStore.open(sql, { autoAnalyze: true });
  const keys = await KeyStore.open(sql, { masterKey: randomBytes(32) });
  const log = new EventLog(store, canopyEventRegistry());
  const workspaces = await startWorkspacesService({ log, keys });
  const db = await openReadModelDb({ kind: 'pglite' });
  const runner = new ProjectionRunner({ store, db, projectors: [workloadsProjector] });
  await runner.start();
  const clock = new ManualClock(Date.parse('2026-05-01T08:00:00Z'));
  const sim = await startSimulatedCluster({ name: 'east', clock, nodes: 2, namespaces: ['shop', 'db'], bookmarkIntervalMs: 200 });
  const connector = new ClusterConnector(simulatorDirectory([sim]));
  const kube = connector.connect({ kind: 'simulator', simulator: 'east' });
  const watchers: WorkloadWatcher[] = [];
  let teams = 0;

  const sync = async () => {
    const head = await store.headPosition();
    if (head !== undefined && !(await runner.waitFor(['workloads'], head, 20_000))) throw new Error('the workloads read model did not catch up');
  };

  return {
    store,
    log,
    workspaces,
    db,
    runner,
    sim,
    clock,
    kube,
    connector,
    async startWatcher(options = {}) {
      const watcher = await startWorkloadWatcher({
        log,
        directory: workspaces.directory,
        connector,
        known: async (workspaceId) => {
          await sync();
          return knownWorkloads(db, runner.activeSchema('workloads'), workspaceId);
        },
        flushIntervalMs: 20,
        syncIntervalMs: 50,
        retry: { retryInitialMs: 50, retryMaxMs: 200 },
        ...options,
      });
      watchers.push(watcher);
      return watcher;
    },
    async team() {
      const n = ++teams;
      const commands = workspaces.commands;
      const { organizationId } = await commands.createOrganization(as('ada'), { name: `Acme ${n}`, kind: 'team' });
      const { workspaceId } = await commands.createWorkspace(as('ada'), { organizationId, name: 'web', kind: 'project' });
      const version = () => workspaces.directory.workspace(workspaceId)!.version;
      const ws = (command: WorkspaceCommand) => commands.workspaceCommand(as('ada'), workspaceId, version(), command, () => command);
      await ws({ type: 'AddMember', userId: 'bob', role: 'member' });
      await ws({ type: 'AddMember', userId: 'dan', role: 'viewer' });
      await ws({ type: 'AddNamespace', namespace: 'shop' });
      const clusterId = `${workspaceId}-east`;
      await ws({ type: 'AttachCluster', clusterId, name: 'east', connection: { kind: 'simulator', simulator: 'east' } });
      return { workspaceId, organizationId, clusterId, ws };
    },
    async events(workspaceId) {
      const events: ReadDomainEvent[] = [];
      for await (const event of log.readStream(workloadsStream(workspaceId))) events.push(event);
      return events;
    },
    sync,
    async close() {
      for (const watcher of watchers) await watcher.stop();
      await sim.stop();
      await runner.stop();
      await db.close();
      await workspaces.close();
      await store.close();
    },
  };
}

/** Retries `check` until it stops throwing, or fails with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export function deployment(name: string, replicas: number, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
      },
    },
  };
}
