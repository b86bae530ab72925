import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { EventLog, openEventStore, type OpenedEventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { costProjector, costStreams, decode, type CostEvent } from '@canopy/cost';
import { openKeyStore, type OpenedKeyStore } from '@canopy/keystore';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { CanopyError, canopyEventRegistry, pricingStream, usageStream } from '@canopy/schema';
import { workspaceProjectors } from '@canopy/workspace-read-models';
import { startWorkspacesService, type CommandContext, type ReadModelConsistency, type WorkspaceCommand, type WorkspacesService } from '@canopy/workspaces';
import { buildCostSubgraph, CostCommands, costReads, type CostContext } from '../src/index.js';

export const as = (userId: string): CommandContext => ({ userId });

/**
 * The workspaces service and the cost commands on one in-memory log (PGlite),
 * the cost and workspaces read models projected by the projector runtime,
 * and the cost subgraph executed in-process with read-your-writes, as a
 * gateway wires them. The clock (the log's and the commands') is the test's.
 */
export interface Harness {
  log: EventLog;
  workspaces: WorkspacesService;
  commands: CostCommands;
  runner: ProjectionRunner;
  schema: GraphQLSchema;
  clock: { now: Date };
  run(userId: string, query: string, variables?: Record<string, unknown>): Promise<ExecutionResult>;
  /** Appends cost events as the collector (usage) or the commands would, each to its cluster's stream. */
  append(...events: CostEvent[]): Promise<void>;
  events(stream: string): Promise<ReadDomainEvent[]>;
  /** Every cost event of the log, in log order, as the projector decodes them (what `recompute` takes). */
  costEvents(): Promise<CostEvent[]>;
  /** Waits until the read models reflect the whole log. */
  sync(): Promise<void>;
  /** A team organization owned by ada: workspace `web` (bob admin, carol member, dan viewer; namespaces shop and db; clusters east and west). */
  team(owner?: string): Promise<Team>;
  close(): Promise<void>;
}

export interface Team {
  organizationId: string;
  workspaceId: string;
  east: string;
  west: string;
  ws(command: WorkspaceCommand): Promise<unknown>;
}

export async function startHarness(start = new Date('2026-03-01T00:00:00Z')): Promise<Harness> {
  const clock = { now: start };
  const opened: OpenedEventStore = await openEventStore({ kind: 'pglite' });
  const keys: OpenedKeyStore = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
  const log = new EventLog(opened.store, canopyEventRegistry(), () => clock.now);
  const workspaces = await startWorkspacesService({ log, keys: keys.keys });
  const db: ReadModelDb = await openReadModelDb({ kind: 'pglite' });
  const runner = new ProjectionRunner({ store: opened.store, db, projectors: [costProjector, ...workspaceProjectors] });
  await runner.start();
  const commands = new CostCommands({ log, workspaces: workspaces.directory, clock: () => clock.now });
  const schema = await buildCostSubgraph();
  const projectors = ['cost', 'quotas'];
  const waitFor = (position: bigint) => runner.waitFor(projectors, position, 20_000);
  const lastWrites = new Map<string, bigint>();
  const consistency: ReadModelConsistency = {
    waitFor: async (position) => (position === undefined ? true : waitFor(position)),
    // The harness reads roles from its domain directory: its access checks wait as its reads do.
    waitForAccess: async (position) => (position === undefined ? true : waitFor(position)),
    wrote(userId, position) {
      const before = lastWrites.get(userId);
      if (position !== undefined && (before === undefined || position > before)) lastWrites.set(userId, position);
    },
  };
  const contextFor = (userId: string): CostContext => ({
    caller: { userId },
    correlationId: `test-${userId}`,
    commands,
    consistency,
    reads: costReads(
      {
        db,
        schema: () => runner.activeSchema('cost'),
        quotasSchema: () => runner.activeSchema('quotas'),
        workspaces: workspaces.directory,
        ready: async () => {
          const written = lastWrites.get(userId);
          if (written !== undefined) await waitFor(written);
        },
      },
      userId,
    ),
  });
  let teams = 0;
  return {
    log,
    workspaces,
    commands,
    runner,
    schema,
    clock,
    run: (userId, query, variables) => Promise.resolve(execute({ schema, document: parse(query), variableValues: variables, contextValue: contextFor(userId) })),
    async append(...events) {
      for (const event of events) {
        const stream = event.type === 'UsageSampled' ? usageStream(event.data.clusterId) : pricingStream(event.data.clusterId);
        await log.append(stream, [{ type: event.type, data: event.data }]);
      }
    },
    async events(stream) {
      const found: ReadDomainEvent[] = [];
      for await (const event of log.readStream(stream)) found.push(event);
      return found;
    },
    async costEvents() {
      const found: CostEvent[] = [];
      for await (const event of opened.store.readAll({ filter: costStreams })) found.push(decode(event));
      return found;
    },
    async sync() {
      const head = await opened.store.headPosition();
      if (head !== undefined && !(await waitFor(head))) throw new Error('the read models did not catch up');
    },
    async team(owner = 'ada') {
      const n = ++teams;
      const workspaceCommands = workspaces.commands;
      const { organizationId } = await workspaceCommands.createOrganization(as(owner), { name: `Acme ${n}`, kind: 'team' });
      const { workspaceId } = await workspaceCommands.createWorkspace(as(owner), { organizationId, name: 'web', kind: 'project' });
      const version = () => workspaces.directory.workspace(workspaceId)!.version;
      const ws = (command: WorkspaceCommand) => workspaceCommands.workspaceCommand(as(owner), workspaceId, version(), command, () => command);
      if (owner === 'ada') for (const [userId, role] of [['bob', 'admin'], ['carol', 'member'], ['dan', 'viewer']] as const) await ws({ type: 'AddMember', userId, role });
      for (const namespace of ['shop', 'db']) await ws({ type: 'AddNamespace', namespace });
      const east = `${workspaceId}-east`;
      const west = `${workspaceId}-west`;
      await ws({ type: 'AttachCluster', clusterId: east, name: 'east', connection: { kind: 'simulator', simulator: `east-${n}` } });
      await ws({ type: 'AttachCluster', clusterId: west, name: 'west', connection: { kind: 'simulator', simulator: `west-${n}` } });
      return { organizationId, workspaceId, east, west, ws };
    },
    async close() {
      await runner.stop();
      await db.close();
      await workspaces.close();
      await keys.close();
      await opened.close();
    },
  };
}

/** The CanopyError behind the first error of a result. */
export function errorOf(result: ExecutionResult): CanopyError {
  const error = result.errors?.[0]?.originalError;
  if (!(error instanceof CanopyError)) throw new Error(`expected a CanopyError, got ${JSON.stringify(result)}`);
  return error;
}

/** The data of a result that must have no errors. */
export function dataOf<T = Record<string, any>>(result: ExecutionResult): T {
  if (result.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(result.errors.map((e) => [e.message, (e.originalError as CanopyError | undefined)?.details]))}`);
  return result.data as T;
}

/** A query of one workspace's fields through `_entities`, as the router sends it. */
export const onWorkspace = (fields: string, variables = ''): string =>
  `query($id: ID!${variables}) { _entities(representations: [{ __typename: "Workspace", id: $id }]) { ... on Workspace { ${fields} } } }`;
