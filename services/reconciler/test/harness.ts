import { randomBytes } from 'node:crypto';
import { EventLog, openPgliteEventStore, type EventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { openKeyStore, type OpenedKeyStore } from '@canopy/keystore';
import { ClusterConnector, simulatorDirectory, startSimulatedCluster, type SimulatedCluster } from '@canopy/kube';
import { canopyEventRegistry, clusterStream } from '@canopy/schema';
import { startWorkspacesService, type CommandContext, type WorkspaceCommand, type WorkspacesService } from '@canopy/workspaces';
import { startReconciler, type Reconciler, type ReconcilerOptions } from '../src/index.js';

export const ada: CommandContext = { userId: 'ada' };

/** A log (PGlite in memory), the workspaces service, simulated clusters over HTTPS and a reconciler on them. */
export interface Harness {
  store: EventStore;
  log: EventLog;
  keys: OpenedKeyStore;
  service: WorkspacesService;
  clusters: Map<string, SimulatedCluster>;
  connector: ClusterConnector;
  reconciler: Reconciler;
  /** Runs workspace commands as ada (an organization owner) at the workspace's current version; resolves once the reconciler has seen it. */
  command(workspaceId: string, command: WorkspaceCommand): Promise<void>;
  writeSecret(workspaceId: string, name: string, values: Record<string, string>): Promise<void>;
  newWorkspace(name: string): Promise<string>;
  attach(workspaceId: string, simulator: string): Promise<string>;
  clusterEvents(clusterId: string): Promise<ReadDomainEvent[]>;
  restartReconciler(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(names: string[], overrides: Partial<ReconcilerOptions> = {}): Promise<Harness> {
  const store = await openPgliteEventStore();
  const keys = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
  const log = new EventLog(store, canopyEventRegistry());
  const service = await startWorkspacesService({ log, keys: keys.keys });
  const sims = await Promise.all(names.map((name) => startSimulatedCluster({ name, nodes: 1 })));
  const clusters = new Map(sims.map((sim) => [sim.name, sim]));
  const connector = new ClusterConnector(simulatorDirectory(sims));
  const options: ReconcilerOptions = { log, keys: keys.keys, connector, resyncIntervalMs: 400, retry: { initialMs: 50, maxMs: 300 }, callTimeoutMs: 3000, ...overrides };
  const { organizationId } = await service.commands.createOrganization(ada, { name: 'acme', kind: 'team' });
  const version = (workspaceId: string) => service.directory.workspace(workspaceId)!.version;
  const harness: Harness = {
    store,
    log,
    keys,
    service,
    clusters,
    connector,
    reconciler: await startReconciler(options),
    async command(workspaceId, command) {
      const result = await service.commands.workspaceCommand(ada, workspaceId, version(workspaceId), command, () => command);
      await harness.reconciler.reached(result.position);
    },
    async writeSecret(workspaceId, name, values) {
      const result = await service.commands.writeSecret(ada, workspaceId, version(workspaceId), name, Object.entries(values).map(([key, value]) => ({ key, value })));
      await harness.reconciler.reached(result.position);
    },
    async newWorkspace(name) {
      return (await service.commands.createWorkspace(ada, { organizationId, name, kind: 'project' })).workspaceId;
    },
    async attach(workspaceId, simulator) {
      const clusterId = service.commands.newClusterId(ada, workspaceId);
      await harness.command(workspaceId, { type: 'AttachCluster', clusterId, name: simulator, connection: { kind: 'simulator', simulator } });
      return clusterId;
    },
    async clusterEvents(clusterId) {
      const events: ReadDomainEvent[] = [];
      for await (const event of log.readStream(clusterStream(clusterId))) events.push(event);
      return events;
    },
    async restartReconciler() {
      await harness.reconciler.stop();
      harness.reconciler = await startReconciler(options);
    },
    async close() {
      await harness.reconciler.stop();
      await service.close();
      await Promise.all(sims.map((sim) => sim.stop()));
      await keys.close();
      await store.close();
    },
  };
  return harness;
}

/** Polls until `check` stops throwing (or returns true), within `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = await check();
      if (result !== false) return result;
      throw new Error('not yet');
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** An object on a simulated cluster, read directly from its state (no HTTP). */
export function objectOn(sim: SimulatedCluster, apiVersion: string, kind: string, namespace: string | undefined, name: string): Record<string, any> | undefined {
  return sim.api.tryGet(sim.api.resource(apiVersion, kind), namespace, name) as Record<string, any> | undefined;
}

/** Objects of a kind on a simulated cluster, optionally those carrying every given label. */
export function listOn(sim: SimulatedCluster, apiVersion: string, kind: string, labels: Record<string, string> = {}): Record<string, any>[] {
  const items = sim.api.list(sim.api.resource(apiVersion, kind)).items as Record<string, any>[];
  return items.filter((item) => Object.entries(labels).every(([key, value]) => item['metadata']?.['labels']?.[key] === value));
}
