import 'reflect-metadata';
import { execute, parse, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { ReadDomainEvent } from '@canopy/eventstore';
import { openReadModelDb, ProjectionRunner, type ReadModelDb, type ReadModelTx } from '@canopy/projections';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { EventFeed, FollowOptions, ReadModelConsistency } from '@canopy/workspaces';
import { backupsProjector, backupsReads, buildBackupsSubgraph, type BackupsContext } from '../src/index.js';
import { startHarness, type Harness } from './harness.js';

/**
 * The backups subgraph executed in-process against the harness's services
 * and the backups read model projected (PGlite) by the projector runtime,
 * with read-your-writes and an event feed over the log, as a gateway wires them.
 */
export interface GraphqlHarness {
  h: Harness;
  runner: ProjectionRunner;
  schema: GraphQLSchema;
  run(userId: string, query: string, variables?: Record<string, unknown>): Promise<ExecutionResult>;
  /** `feed`: another event feed than the harness's (say one that shares event objects, as the gateway's hub does). */
  subscribe(userId: string, query: string, variables?: Record<string, unknown>, feed?: EventFeed): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
  /** SQL statements the reads sent to the read models so far. */
  statements(): number;
  /** Waits until the read model reflects the whole log. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function startGraphqlHarness(): Promise<GraphqlHarness> {
  const h = await startHarness();
  const db: ReadModelDb = await openReadModelDb({ kind: 'pglite' });
  const runner = new ProjectionRunner({ store: h.opened.store, db, projectors: [backupsProjector] });
  await runner.start();
  const schema = await buildBackupsSubgraph();
  const lastWrites = new Map<string, bigint>();
  const waitFor = (position: bigint) => runner.waitFor(['backups'], position, 10_000);
  const consistency: ReadModelConsistency = {
    waitFor: async (position) => (position === undefined ? true : waitFor(position)),
    // The harness reads roles from its domain directory: its access checks wait as its reads do.
    waitForAccess: async (position) => (position === undefined ? true : waitFor(position)),
    wrote(userId, position) {
      const before = lastWrites.get(userId);
      if (position !== undefined && (before === undefined || position > before)) lastWrites.set(userId, position);
    },
  };
  let statements = 0;
  const counted: ReadModelTx = {
    query(sql, params) {
      statements++;
      return db.query(sql, params);
    },
    exec(script) {
      statements++;
      return db.exec(script);
    },
  };
  const readsFor = (userId: string) =>
    backupsReads(
      {
        db: counted,
        schema: () => runner.activeSchema('backups'),
        directory: h.backups.directory,
        workspaces: h.workspaces.directory,
        clock: () => h.clock.now,
        ready: async () => {
          const written = lastWrites.get(userId);
          if (written !== undefined) await waitFor(written);
        },
      },
      userId,
    );
  const events = logFeed(h);
  const contextFor = (userId: string, feed: EventFeed = events): BackupsContext => ({
    caller: { userId },
    correlationId: `test-${userId}`,
    commands: h.backups.commands,
    reads: readsFor(userId),
    consistency,
    live: { events: feed, log: h.log, reads: () => readsFor(userId) },
  });
  return {
    h,
    runner,
    schema,
    run: async (userId, query, variables) => execute({ schema, document: parse(query), variableValues: variables, contextValue: contextFor(userId) }),
    subscribe: (userId, query, variables, feed) =>
      subscribe({ schema, document: parse(query), variableValues: variables, contextValue: contextFor(userId, feed) }) as Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>,
    statements: () => statements,
    async sync() {
      const head = await h.head();
      if (head !== undefined && !(await waitFor(head))) throw new Error('the backups read model did not catch up');
    },
    async close() {
      await runner.stop();
      await db.close();
      await h.close();
    },
  };
}

/**
 * An EventFeed over the log, one log subscription per follower: what the
 * gateway's hub offers, without the fan-out. Access is checked as of the
 * head when it starts, and again before each event `recheck` picks. Each
 * follower gets event objects of its own; with `shareEvents`, every
 * follower gets the same object for an event, as from the hub.
 */
export function logFeed(h: Harness, options: { shareEvents?: boolean } = {}): EventFeed {
  const shared = new Map<bigint, ReadDomainEvent>();
  const upcast = (recorded: Parameters<Harness['log']['upcast']>[0]): ReadDomainEvent => {
    if (!options.shareEvents) return h.log.upcast(recorded);
    let event = shared.get(recorded.position);
    if (!event) shared.set(recorded.position, (event = h.log.upcast(recorded)));
    return event;
  };
  return {
    async follow(options: FollowOptions): Promise<AsyncIterableIterator<ReadDomainEvent>> {
      const head = await h.opened.store.headPosition();
      if (options.after !== undefined && options.after > (head ?? 0n)) throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after is beyond the log', { field: 'after' });
      await options.authorize(head);
      const live = typeof options.live === 'function' ? options.live() : (options.live ?? true);
      const start = options.after ?? head;
      const prefixes = options.streamPrefixes ?? [];
      const subscription = h.opened.store.subscribeToAll({ ...(start === undefined ? {} : { after: start }), filter: { streamPrefixes: [...options.streams, ...prefixes] } });
      const streams = new Set(options.streams);
      const follows = (stream: string) => streams.has(stream) || prefixes.some((prefix) => stream.startsWith(prefix));
      async function* events(): AsyncGenerator<ReadDomainEvent> {
        for await (const message of subscription) {
          if (message.kind === 'caught-up' && !live) return;
          if (message.kind !== 'event' || !follows(message.event.stream)) continue;
          const event = upcast(message.event);
          if ((head === undefined || event.position > head) && options.recheck?.(event)) await options.authorize(event.position);
          if (options.keep?.(event) ?? true) yield event;
        }
      }
      const iterator = events();
      const feed: AsyncIterableIterator<ReadDomainEvent> = {
        [Symbol.asyncIterator]: () => feed,
        next: () => iterator.next(),
        async return() {
          await subscription.close();
          await iterator.return(undefined);
          return { done: true, value: undefined };
        },
      };
      return feed;
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

/** The next `count` results of a subscription, or fewer if it completes first. */
export async function take(iterator: AsyncIterator<ExecutionResult>, count: number): Promise<ExecutionResult[]> {
  const results: ExecutionResult[] = [];
  while (results.length < count) {
    const step = await iterator.next();
    if (step.done) break;
    results.push(step.value);
  }
  return results;
}
