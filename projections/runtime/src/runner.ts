import { isDeepStrictEqual } from 'node:util';
import type { EventFilter, EventStore, Position, RecordedEvent, SubscriptionMessage } from '@canopy/eventstore';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { checksumInTransaction, type SchemaChecksum } from './checksum.js';
import { FanOut } from './fan-out.js';
import { MessageBuffer } from './message-buffer.js';
import { ProjectionMetrics, type WaitOutcome } from './metrics.js';
import { PoisonEventError, projectionError, type ProjectionError } from './projection-error.js';
import { projectorSchema, validateProjector, type Projector } from './projector.js';
import type { ReadModelDb, ReadModelTx } from './read-model-db.js';
import { isCheckpointMoved, StateTables, type ProjectionStatus, type StateRow } from './state.js';
import { TransactionGroup } from './transaction-group.js';
import { WriteBatch } from './write-batch.js';

export interface ProjectionRunnerOptions {
  store: EventStore;
  db: ReadModelDb;
  /**
   * The read models. Per name, the highest version is the one to serve; when
   * the database has an older one active, it is built next to it and swapped
   * in once caught up. Pass the older definition too to keep it live
   * meanwhile; without it, queries read the old tables as they were.
   */
  projectors: readonly Projector[];
  /** Most events per transaction while catching up; defaults to 2000 (larger batches net more writes per row and cost fewer commits). */
  batchSize?: number;
  /** Where `canopy_projection_wait_seconds` and `canopy_projection_lag_events` go; defaults to a registry of the runner's own (`runner.registry`). */
  registry?: Registry;
  logger?: Logger;
  /** Called after every committed batch; the projector waits for a returned promise before its next batch (a tool may pace or pause it). */
  onBatch?(batch: BatchInfo): void | Promise<void>;
  /** First wait before retrying after the log or the database failed (doubles up to 30 s); defaults to 1000 ms. */
  retryDelayMs?: number;
  /**
   * Live, a batch that only moves a projector's checkpoint past events its
   * filter skipped is stored at most this often (and when it stops); its
   * position, which `waitFor` answers from, moves at once. Defaults to 1000
   * ms. Most appends concern few projectors: storing every other
   * projector's checkpoint for each would cost a write per projector per
   * append. A crash loses only such moves, and the events they covered are
   * skipped again.
   */
  skippedCheckpointEveryMs?: number;
}

export interface BatchInfo {
  name: string;
  version: number;
  /** Events applied in this transaction. */
  events: number;
  /** The checkpoint stored with them. */
  position: Position | undefined;
  status: ProjectionStatus;
}

export interface ProjectionHealth {
  name: string;
  version: number;
  /** Whether queries read this version now. */
  active: boolean;
  status: ProjectionStatus;
  position: Position | undefined;
  /** Head of the log minus `position` (0 when the log is empty or unreachable). */
  lag: bigint;
  error: ProjectionError | undefined;
}

export interface RebuildProgress {
  name: string;
  version: number;
  /** Events applied so far. */
  events: number;
  position: Position | undefined;
  /** The log's head when the rebuild started (the end of the bar; live events may follow). */
  head: Position | undefined;
  elapsedMs: number;
  eventsPerSecond: number;
}

export interface RebuildResult extends RebuildProgress {
  schema: string;
}

export interface ProjectionChecksum extends SchemaChecksum {
  name: string;
  version: number;
  schema: string;
  /** The checkpoint of the tables checksummed (same snapshot). */
  position: Position | undefined;
}

/** One (name, version) of a projector: its tables, its checkpoint and its loop. */
interface Lane {
  name: string;
  version: number;
  schema: string;
  /** Absent for an active version whose definition was not given: kept for queries, not updated. */
  projector: Projector | undefined;
  status: ProjectionStatus;
  /** Every event up to here is applied (or skipped by the filter): what `waitFor` and health report. */
  position: Position | undefined;
  /** The checkpoint stored in the database, behind `position` while only skipped events moved it (see `applyBatch`). */
  stored: Position | undefined;
  /** When `stored` was last written (performance.now()). */
  storedAt: number;
  /** The lane's last write to its checkpoint: writes go one after the other (see `exclusive`). */
  writing: Promise<unknown>;
  error: ProjectionError | undefined;
  loop: Promise<void> | undefined;
  stopRequested: boolean;
  /** Ends the current subscription and its buffer. */
  interrupt: (() => void) | undefined;
  /** Resolves when `interrupt` is called. */
  interrupted: Promise<void>;
  /** Whether the projector's secondary indexes are known to exist (see `atHead`). */
  indexed: boolean;
}

/** Told of each batch a rebuild commits. */
interface RebuildListener {
  onBatch(events: number, position: Position | undefined): void;
}

interface Waiter {
  check(): boolean | undefined;
  settle(reached: boolean, outcome: WaitOutcome): void;
}

const isCaughtUp = (message: SubscriptionMessage) => message.kind === 'caught-up';

/** How many batches the fastest projector of a rebuild may run ahead of the slowest (each batch held once, in memory). */
const BATCHES_AHEAD = 4;

function messagePosition(message: SubscriptionMessage): Position | undefined {
  return message.kind === 'event' ? message.event.position : message.position;
}

function later(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/**
 * Runs projectors against one log and one read-model database. Each
 * projector's version follows the log from its own checkpoint; a batch of
 * events and the checkpoint after it commit in one transaction, so a crash
 * anywhere loses nothing and applies nothing twice.
 *
 * Several runners (processes) may share one read-model database: each batch
 * claims the stored checkpoint, so every event is applied once; a runner
 * that finds its checkpoint moved resumes from it at once.
 */
export class ProjectionRunner {
  readonly registry: Registry;
  private readonly store: EventStore;
  private readonly db: ReadModelDb;
  private readonly definitions: Map<string, Projector[]>;
  private readonly batchSize: number;
  private readonly logger: Logger;
  private readonly retryDelayMs: number;
  private readonly skippedCheckpointEveryMs: number;
  private readonly onBatch: ((batch: BatchInfo) => void | Promise<void>) | undefined;
  private readonly state: StateTables;
  private readonly liveTransactions: TransactionGroup;
  private readonly metrics: ProjectionMetrics;
  private lanes: Lane[] = [];
  private readonly active = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private initializing: Promise<void> | undefined;
  private running = false;

  constructor(options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.db = options.db;
    this.batchSize = options.batchSize ?? 2000;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.skippedCheckpointEveryMs = options.skippedCheckpointEveryMs ?? 1000;
    this.onBatch = options.onBatch;
    this.registry = options.registry ?? new Registry();
    this.state = new StateTables(this.db);
    this.liveTransactions = new TransactionGroup(this.db);
    this.definitions = new Map();
    for (const projector of options.projectors) {
      validateProjector(projector);
      const versions = this.definitions.get(projector.name) ?? [];
      if (versions.some((p) => p.version === projector.version)) throw new Error(`Projector ${projector.name} v${projector.version} is given twice`);
      versions.push(projector);
      versions.sort((a, b) => b.version - a.version);
      this.definitions.set(projector.name, versions);
    }
    this.metrics = new ProjectionMetrics(async () => {
      const head = (await this.store.headPosition()) ?? 0n;
      return this.lanes.map((lane) => ({ projector: lane.name, version: lane.version, lag: lagOf(head, lane.position) }));
    });
  }

  /** The projectors' names. */
  get names(): string[] {
    return [...this.definitions.keys()];
  }

  /** Creates what is missing (state tables, new versions' schemas) and starts every projector in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.init();
    this.running = true;
    this.metrics.register(this.registry);
    for (const lane of this.lanes) this.launch(lane);
  }

  /** Stops every subscription and waits for the transactions in flight; pending `waitFor`s answer false. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all(this.lanes.map((lane) => this.halt(lane)));
    for (const waiter of [...this.waiters]) waiter.settle(false, 'stopped');
    this.metrics.unregister(this.registry);
  }

  /** The SQL schema queries of `name` must read right now (call it per query: a blue/green switch drops the old one). */
  activeSchema(name: string): string {
    const version = this.active.get(name);
    if (version === undefined) throw new Error(this.initializing ? `Unknown projector ${name}` : `The runner has not started: no active schema for ${name} yet`);
    return projectorSchema(this.db.schemaPrefix, name, version);
  }

  async health(): Promise<ProjectionHealth[]> {
    const head = (await this.store.headPosition().catch(() => undefined)) ?? 0n;
    return this.lanes.map((lane) => ({
      name: lane.name,
      version: lane.version,
      active: this.active.get(lane.name) === lane.version,
      status: lane.status,
      position: lane.position,
      lag: lagOf(head, lane.position),
      error: lane.error,
    }));
  }

  /**
   * Read-your-writes: true once the active versions of `names` have applied
   * everything up to `position`; false after `timeoutMs`, or at once when one
   * of them has failed (it will not get there).
   */
  waitFor(names: readonly string[] | 'all', position: Position, timeoutMs: number): Promise<boolean> {
    const wanted = names === 'all' ? this.names : [...names];
    for (const name of wanted) if (!this.definitions.has(name)) throw new Error(`Unknown projector ${name}`);
    const endTimer = this.metrics.wait.startTimer();
    const check = (): boolean | undefined => {
      let reached = true;
      for (const name of wanted) {
        const lane = this.activeLane(name);
        if (lane?.status === 'failed') return false;
        if (lane?.position === undefined || lane.position < position) reached = false;
      }
      return reached ? true : undefined;
    };
    const now = check();
    if (now !== undefined || !this.running) {
      endTimer({ outcome: now ? 'reached' : now === false ? 'failed' : 'stopped' });
      return Promise.resolve(now ?? false);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        check,
        settle: (reached, outcome) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          endTimer({ outcome });
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.settle(false, 'timeout'), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /**
   * Drops the newest version of one projector (or of each) and builds it
   * again from the start of the log, then makes it the active one. Queries
   * see the tables fill up meanwhile (to swap without that, bump the
   * version instead). Projectors with the same filter are built from one
   * read of the log. Resolves when caught up; if the runner is started, the
   * projector then goes on live.
   */
  async rebuild(name?: string, options: { onProgress?(progress: RebuildProgress): void } = {}): Promise<RebuildResult[]> {
    await this.init();
    const names = name === undefined ? this.names : [name];
    for (const n of names) if (!this.definitions.has(n)) throw new Error(`Unknown projector ${n}`);
    const targets = await Promise.all(names.map((n) => this.resetForRebuild(n)));
    // One entry per lane that did not fail (caught up, or stopped where it stood).
    const results = new Map<Lane, RebuildResult>();
    await Promise.all(
      groupByFilter(targets).map(async (lanes) => {
        const loop = this.rebuildGroup(lanes, results, options.onProgress);
        for (const lane of lanes) lane.loop = loop;
        await loop.finally(() => lanes.forEach((lane) => (lane.loop = undefined)));
        const rebuilt = lanes.filter((lane) => results.has(lane));
        if (this.running) for (const lane of rebuilt.flatMap((l) => this.lanesOf(l.name))) this.launch(lane);
      }),
    );
    const failed = targets.find((lane) => !results.has(lane));
    if (failed) throw new Error(`Rebuild of ${failed.name} v${failed.version} failed: ${failed.error?.message ?? 'unknown error'}`);
    return targets.map((lane) => results.get(lane)!);
  }

  /** Stops every version of `n` and gives the newest one fresh tables, at no position. */
  private async resetForRebuild(n: string): Promise<Lane> {
    const target = this.targetLane(n);
    await Promise.all(this.lanesOf(n).map((lane) => this.halt(lane)));
    const status: ProjectionStatus = this.active.get(n) === target.version ? 'catching-up' : 'building';
    await this.db.transaction((tx) => this.createTables(tx, target, status));
    Object.assign(target, { position: undefined, stored: undefined, status, error: undefined });
    this.notifyWaiters();
    return target;
  }

  /**
   * Builds `lanes` (of one filter) from the start of the log to its head,
   * reading it once: each batch goes to every lane still going, each lane at
   * its own pace (at most BATCHES_AHEAD batches apart), their commits side by
   * side (on a server each has its own connection). A lane that fails is
   * dropped, the others go on. Puts each lane's result in `results`,
   * unless it failed.
   */
  private async rebuildGroup(lanes: Lane[], results: Map<Lane, RebuildResult>, onProgress?: (progress: RebuildProgress) => void): Promise<void> {
    for (const lane of lanes) lane.stopRequested = false;
    const head = await this.store.headPosition();
    const started = performance.now();
    const going = lanes.map((lane) => {
      let events = 0;
      const progress = (): RebuildProgress => {
        const elapsedMs = performance.now() - started;
        return { name: lane.name, version: lane.version, events, position: lane.position, head, elapsedMs, eventsPerSecond: elapsedMs > 0 ? (events * 1000) / elapsedMs : 0 };
      };
      const done = () => results.set(lane, { ...progress(), schema: lane.schema });
      const onBatch = (count: number) => {
        events += count;
        onProgress?.(progress());
      };
      return { lane, done, onBatch };
    });
    const stopped = () => lanes.some((lane) => lane.stopRequested);
    const { buffer, close } = this.read(lanes, undefined, lanes[0]!.projector!.filter);
    // Each lane takes the batches at its own pace: a fast one is not held back by a slow one until it is BATCHES_AHEAD batches ahead.
    const batches = new FanOut<SubscriptionMessage[]>(going.length, BATCHES_AHEAD);
    const pumping = (async () => {
      try {
        for (;;) {
          const batch = await buffer.take(this.batchSize, true);
          if (!batch || !(await batches.push(batch)) || batch.some(isCaughtUp)) break;
        }
        batches.end();
      } catch (error) {
        // The log failed: a rebuild fails on any error.
        batches.end(error);
      }
    })();
    try {
      await Promise.all(
        going.map(async (r, consumer) => {
          try {
            for (;;) {
              const batch = await batches.take(consumer);
              // Stopped: it ends where it stands.
              if (!batch || stopped()) return r.done();
              const reachedHead = batch.some(isCaughtUp);
              await this.applyBatch(r.lane, batch, reachedHead, r);
              if (reachedHead) {
                await this.atHead(r.lane);
                if (r.lane.status === 'building') await this.switchTo(r.lane);
                return r.done();
              }
            }
          } catch (error) {
            await this.fail(r.lane, error);
          } finally {
            batches.leave(consumer);
          }
        }),
      );
    } finally {
      batches.end();
      await close();
      await pumping;
    }
  }

  /** A checksum of every table of the active version of `name`, with the checkpoint it reflects. */
  async checksum(name: string): Promise<ProjectionChecksum> {
    await this.init();
    const schema = this.activeSchema(name);
    const version = this.active.get(name)!;
    // A checkpoint held back past skipped events is stored first, so that the checksum's position is where the projector is.
    const lane = this.activeLane(name);
    if (lane) await this.storeSkipped(lane);
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const [row] = await tx.query<{ position: string | null }>(`SELECT position::text AS position FROM ${this.state.schema}.projection_state WHERE name = $1 AND version = $2`, [
        name,
        version,
      ]);
      const sums = await checksumInTransaction(tx, schema);
      return { name, version, schema, position: row?.position ? BigInt(row.position) : undefined, ...sums };
    });
  }

  private init(): Promise<void> {
    this.initializing ??= this.load().catch((error: unknown) => {
      this.initializing = undefined;
      throw error;
    });
    return this.initializing;
  }

  /** Reads the state tables and decides, per name, which versions run and which one is active. */
  private async load(): Promise<void> {
    await this.state.migrate();
    const { rows, active } = await this.state.load(this.names);
    const row = (name: string, version: number) => rows.find((r) => r.name === name && r.version === version);
    const lanes: Lane[] = [];
    for (const [name, versions] of this.definitions) {
      const target = versions[0]!;
      const activeVersion = active.get(name);
      if (activeVersion !== undefined && activeVersion > target.version) {
        throw new Error(`Projector ${name}: version ${activeVersion} is active in the database but the newest definition given is version ${target.version}. Deploy version ${activeVersion} or newer, or rebuild.`);
      }
      if (activeVersion === undefined || activeVersion === target.version) {
        lanes.push(await this.openLane(target, row(name, target.version), activeVersion === undefined));
        this.active.set(name, target.version);
        continue;
      }
      this.active.set(name, activeVersion);
      const old = versions.find((p) => p.version === activeVersion);
      const oldRow = row(name, activeVersion);
      lanes.push(old ? await this.openLane(old, oldRow, false) : frozenLane(name, projectorSchema(this.db.schemaPrefix, name, activeVersion), activeVersion, oldRow));
      lanes.push(await this.openLane(target, row(name, target.version), false, 'building'));
      for (const skipped of versions.slice(1).filter((p) => p.version !== activeVersion)) {
        this.logger.warn({ projector: name, version: skipped.version }, 'projector version ignored: neither the active nor the newest');
      }
    }
    this.lanes = lanes;
  }

  /** A lane for a given definition: resumed from its row, or created with fresh tables (and made active if `activate`). */
  private async openLane(projector: Projector, row: StateRow | undefined, activate: boolean, status: ProjectionStatus = 'catching-up'): Promise<Lane> {
    const lane: Lane = {
      name: projector.name,
      version: projector.version,
      schema: projectorSchema(this.db.schemaPrefix, projector.name, projector.version),
      projector,
      status,
      position: row?.position,
      stored: row?.position,
      storedAt: performance.now(),
      writing: Promise.resolve(),
      // A failed projector is retried at each start: its code or its data may have been fixed since.
      error: undefined,
      loop: undefined,
      stopRequested: false,
      interrupt: undefined,
      interrupted: Promise.resolve(),
      indexed: false,
    };
    if (!row) {
      const existing = await this.db.transaction(async (tx) => {
        const found = await this.state.lockCreation(tx, lane.name, lane.version);
        if (found.found) return found;
        await this.createTables(tx, lane, status);
        if (activate) await this.state.activate(tx, lane.name, lane.version);
        return found;
      });
      if (existing.found) lane.position = lane.stored = existing.position;
      else this.logger.info({ projector: lane.name, version: lane.version, schema: lane.schema }, status === 'building' ? 'building a new projector version' : 'new projector');
    } else if (row.status !== status) {
      await this.db.transaction((tx) => this.state.setStatus(tx, lane.name, lane.version, status));
    }
    return lane;
  }

  /** Fresh tables for the lane (whatever was in its schema is dropped) and a state row at no position. */
  private async createTables(tx: ReadModelTx, lane: Lane, status: ProjectionStatus): Promise<void> {
    await tx.exec(`DROP SCHEMA IF EXISTS ${lane.schema} CASCADE; CREATE SCHEMA ${lane.schema};`);
    await tx.exec(lane.projector!.tables(lane.schema));
    lane.indexed = false;
    await this.state.reset(tx, lane.name, lane.version, status);
  }

  private launch(lane: Lane): void {
    if (!lane.projector || lane.loop) return;
    lane.stopRequested = false;
    lane.loop = this.follow(lane).finally(() => (lane.loop = undefined));
  }

  private async halt(lane: Lane): Promise<void> {
    lane.stopRequested = true;
    lane.interrupt?.();
    await lane.loop;
  }

  /** Follows the log until stopped, resubscribing after failures of the log or the database. */
  private async follow(lane: Lane): Promise<void> {
    let delay = this.retryDelayMs;
    while (!lane.stopRequested) {
      try {
        await this.followOnce(lane);
        return;
      } catch (error) {
        if (error instanceof PoisonEventError) {
          await this.fail(lane, error);
          return;
        }
        if (lane.stopRequested) return;
        if (error instanceof CheckpointMoved) {
          // Another runner applied these events: nothing failed, resume from its checkpoint at once.
          await this.reloadPosition(lane);
          continue;
        }
        lane.error = projectionError(error);
        this.logger.warn({ projector: lane.name, version: lane.version, err: error, retryInMs: delay }, 'projector interrupted; resubscribing');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          lane.interrupt = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        lane.interrupt = undefined;
        delay = Math.min(delay * 2, 30_000);
        if (lane.stopRequested) return;
        // A commit that failed on a lost connection may have committed: take the checkpoint from the database.
        await this.reloadPosition(lane);
      }
    }
  }

  private async reloadPosition(lane: Lane): Promise<void> {
    const stored = await this.state.load([lane.name]).catch(() => undefined);
    const row = stored?.rows.find((r) => r.version === lane.version);
    if (row) {
      lane.position = lane.stored = row.position;
      this.notifyWaiters();
    }
  }

  private async followOnce(lane: Lane): Promise<void> {
    const { buffer, close } = this.read([lane], lane.position, lane.projector!.filter);
    let caughtUp = false;
    let failed = false;
    try {
      while (!lane.stopRequested) {
        // Catching up, batches are full; live, a batch is whatever has arrived.
        const batch = await buffer.take(this.batchSize, !caughtUp);
        if (!batch || lane.stopRequested) return;
        const reachedHead = batch.some(isCaughtUp);
        caughtUp ||= reachedHead;
        await this.applyBatch(lane, batch, caughtUp);
        if (reachedHead) await this.atHead(lane);
        if (reachedHead && lane.status === 'building') await this.switchTo(lane);
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await close();
      // After a failure the database may not answer: the next commit stores it then.
      if (!failed) await this.storeSkipped(lane);
    }
  }

  /** Stores a checkpoint held back by `applyBatch` (best effort: if this fails, the events it covers are only skipped again). */
  private storeSkipped(lane: Lane): Promise<void> {
    return this.exclusive(lane, async () => {
      if (lane.stored === lane.position || lane.status !== 'live') return;
      const position = lane.position;
      try {
        await this.commit(lane, [], position, lane.status);
        markStored(lane, position);
      } catch (error) {
        this.logger.debug({ projector: lane.name, version: lane.version, err: error }, 'could not store the checkpoint past skipped events');
      }
    });
  }

  /** Runs `write` after the lane's earlier checkpoint writes: the loop's batches and `storeSkipped` (from `checksum`) never race on `stored`. */
  private exclusive<T>(lane: Lane, write: () => Promise<T>): Promise<T> {
    const result = lane.writing.then(write, write);
    lane.writing = result.catch(() => {});
    return result;
  }

  /**
   * Reached the head of the log: the projector's secondary indexes, if not
   * there yet. A catch-up from zero inserts without them and each is then
   * built in one pass, far cheaper than maintaining it row by row. The DDL is
   * idempotent and serialized between runners on one database.
   */
  private async atHead(lane: Lane): Promise<void> {
    const indexes = lane.projector?.indexes?.(lane.schema);
    if (!lane.indexed && indexes) {
      await this.db.transaction(async (tx) => {
        await this.state.lockCreation(tx, lane.name, lane.version);
        await tx.exec(indexes);
      });
    }
    lane.indexed = true;
  }

  /** Reads the log after `after` into a buffer for `lanes`; the `interrupt` of any of them ends the reading for all. */
  private read(lanes: Lane[], after: Position | undefined, filter: EventFilter | undefined): { buffer: MessageBuffer<SubscriptionMessage>; close(): Promise<void> } {
    const subscription = this.store.subscribeToAll({ after, filter });
    const buffer = new MessageBuffer<SubscriptionMessage>(this.batchSize, isCaughtUp);
    let signal!: () => void;
    const interrupted = new Promise<void>((resolve) => (signal = resolve));
    const interrupt = () => {
      signal();
      buffer.close();
      void subscription.close();
    };
    for (const lane of lanes) {
      lane.interrupted = interrupted;
      lane.interrupt = interrupt;
    }
    const reading = (async () => {
      try {
        for await (const message of subscription) if (!(await buffer.push(message))) break;
        buffer.end();
      } catch (error) {
        buffer.end(error);
      }
    })();
    const close = async () => {
      for (const lane of lanes) lane.interrupt = undefined;
      buffer.close();
      await subscription.close();
      await reading;
    };
    return { buffer, close };
  }

  /**
   * Applies a batch and stores the checkpoint after it, in one transaction.
   * Live, a batch of skipped events only is stored at most every
   * `skippedCheckpointEveryMs`: `position` moves at once, `stored` with the
   * next commit.
   */
  private async applyBatch(lane: Lane, batch: SubscriptionMessage[], live: boolean, rebuild?: RebuildListener): Promise<void> {
    const events = batch.flatMap((m) => (m.kind === 'event' ? [m.event] : []));
    const position = batch.reduce((p, m) => later(p, messagePosition(m)), lane.position);
    const status: ProjectionStatus = lane.status === 'building' ? 'building' : live ? 'live' : 'catching-up';
    if (events.length === 0 && position === lane.position && status === lane.status) return;
    if (events.length === 0 && status === 'live' && lane.status === 'live' && !rebuild && performance.now() - lane.storedAt < this.skippedCheckpointEveryMs) {
      lane.position = position;
      this.notifyWaiters();
      return;
    }
    try {
      await this.exclusive(lane, () => this.commit(lane, events, position, status));
    } catch (error) {
      if (error instanceof PoisonEventError) await this.salvage(lane, batch, error.event);
      throw error;
    }
    markStored(lane, position);
    lane.status = status;
    lane.error = undefined;
    rebuild?.onBatch(events.length, position);
    this.notifyWaiters();
    const paced = this.onBatch?.({ name: lane.name, version: lane.version, events: events.length, position, status });
    if (paced) await Promise.race([paced, lane.interrupted]);
  }

  /**
   * A write-only projector's batch goes to the database as one script; if
   * the script fails, the batch is applied again statement by statement, so
   * that a failing event is found and named.
   */
  private async commit(lane: Lane, events: RecordedEvent[], position: Position | undefined, status: ProjectionStatus): Promise<void> {
    const projector = lane.projector!;
    if (events.length > 1 || (projector.writesOnly && status === 'live')) {
      try {
        await this.commitOnce(lane, events, position, status, true);
        return;
      } catch (error) {
        if (!(error instanceof BatchFailed)) throw error;
      }
    }
    await this.commitOnce(lane, events, position, status, false);
  }

  /**
   * `batched`: through `applyBatch` (when given) and, for a write-only
   * projector live, as one script; any failure of the batch as a whole is a
   * BatchFailed, to be retried event by event.
   */
  private async commitOnce(lane: Lane, events: RecordedEvent[], position: Position | undefined, status: ProjectionStatus, batched: boolean): Promise<void> {
    const projector = lane.projector!;
    // Live, the batches of all projectors that arrive together share one transaction: one commit (one WAL flush) instead of one each.
    const grouped = status === 'live';
    const transaction = (fn: (tx: ReadModelTx) => Promise<void>) => (grouped ? this.liveTransactions.run(lane.schema, fn) : this.db.transaction(fn));
    // Live, a write-only projector's batch is one script, the checkpoint's move in it (catching up, a batch's few multi-row statements go as they are).
    const script = batched && projector.writesOnly && status === 'live' ? new WriteBatch() : undefined;
    try {
      await transaction(async (tx) => {
        // The checkpoint moves first, checking that no other runner moved it (and locking it until commit).
        const advance = this.state.advanceStatement(lane.name, lane.version, lane.stored, position, status);
        if (script) await script.exec(advance);
        else await tx.query(advance);
        if (batched) {
          try {
            const target = script ?? tx;
            if (projector.applyBatch) await projector.applyBatch(target, events, lane.schema);
            else for (const event of events) await projector.apply(target, event, lane.schema);
            if (script) await tx.exec(script.script());
          } catch (error) {
            throw new BatchFailed(error);
          }
        } else {
          for (const event of events) {
            try {
              await projector.apply(tx, event, lane.schema);
            } catch (error) {
              throw new PoisonEventError(lane.name, lane.version, event, error);
            }
          }
        }
      });
    } catch (error) {
      // A script's failure shows when it runs: at the commit of a group.
      if (isCheckpointMoved(error)) throw new CheckpointMoved(lane.name, lane.version);
      if (script && !(error instanceof BatchFailed) && !(error instanceof CheckpointMoved)) throw new BatchFailed(error);
      throw error;
    }
  }

  /** After a poison event, commits the part of its batch before it, so the checkpoint stops right in front of it. */
  private async salvage(lane: Lane, batch: SubscriptionMessage[], poison: RecordedEvent): Promise<void> {
    const before = batch.slice(0, batch.findIndex((m) => m.kind === 'event' && m.event === poison));
    const position = before.reduce((p, m) => later(p, messagePosition(m)), lane.position);
    if (position === lane.position) return;
    try {
      const events = before.flatMap((m) => (m.kind === 'event' ? [m.event] : []));
      await this.exclusive(lane, () => this.commit(lane, events, position, lane.status));
      markStored(lane, position);
      this.notifyWaiters();
    } catch (error) {
      this.logger.warn({ projector: lane.name, version: lane.version, err: error }, 'could not re-apply the events before a poison event');
    }
  }

  private async fail(lane: Lane, error: unknown): Promise<void> {
    lane.status = 'failed';
    lane.error = projectionError(error);
    this.logger.error({ projector: lane.name, version: lane.version, error: lane.error }, 'projector stopped');
    await this.db.transaction((tx) => this.state.setStatus(tx, lane.name, lane.version, 'failed', lane.error)).catch((cause: unknown) => {
      this.logger.error({ projector: lane.name, version: lane.version, err: cause }, 'could not record the failure');
    });
    this.notifyWaiters();
  }

  /** Blue/green: the caught-up `lane` becomes the active version; the old one stops and its schema is dropped, in one transaction. */
  private async switchTo(lane: Lane): Promise<void> {
    const old = this.activeLane(lane.name);
    if (old && old !== lane) await this.halt(old);
    await this.db.transaction(async (tx) => {
      await this.state.activate(tx, lane.name, lane.version);
      await this.state.setStatus(tx, lane.name, lane.version, 'live');
      if (old && old !== lane) {
        await this.state.remove(tx, old.name, old.version);
        await tx.exec(`DROP SCHEMA IF EXISTS ${old.schema} CASCADE`);
      }
    });
    this.active.set(lane.name, lane.version);
    lane.status = 'live';
    if (old && old !== lane) this.lanes = this.lanes.filter((l) => l !== old);
    this.logger.info({ projector: lane.name, version: lane.version, replaced: old?.version }, 'projector version switched');
    this.notifyWaiters();
  }

  private notifyWaiters(): void {
    for (const waiter of [...this.waiters]) {
      const reached = waiter.check();
      if (reached !== undefined) waiter.settle(reached, reached ? 'reached' : 'failed');
    }
  }

  private activeLane(name: string): Lane | undefined {
    const version = this.active.get(name);
    return this.lanes.find((lane) => lane.name === name && lane.version === version);
  }

  private targetLane(name: string): Lane {
    const version = this.definitions.get(name)![0]!.version;
    return this.lanes.find((lane) => lane.name === name && lane.version === version)!;
  }

  private lanesOf(name: string): Lane[] {
    return this.lanes.filter((lane) => lane.name === name);
  }
}

/** The lane's checkpoint, stored just now: its position too. */
function markStored(lane: Lane, position: Position | undefined): void {
  lane.position = lane.stored = position;
  lane.storedAt = performance.now();
}

function frozenLane(name: string, schema: string, version: number, row: StateRow | undefined): Lane {
  return {
    name,
    version,
    schema,
    projector: undefined,
    status: row?.status ?? 'live',
    position: row?.position,
    stored: row?.position,
    storedAt: 0,
    writing: Promise.resolve(),
    error: row?.error,
    loop: undefined,
    stopRequested: false,
    interrupt: undefined,
    interrupted: Promise.resolve(),
    indexed: true,
  };
}

/** Lanes grouped by deep-equal filter, in order. */
function groupByFilter(lanes: Lane[]): Lane[][] {
  const groups: Lane[][] = [];
  for (const lane of lanes) {
    const group = groups.find(([first]) => isDeepStrictEqual(first!.projector!.filter, lane.projector!.filter));
    if (group) group.push(lane);
    else groups.push([lane]);
  }
  return groups;
}

function lagOf(head: Position, position: Position | undefined): bigint {
  const lag = head - (position ?? 0n);
  return lag > 0n ? lag : 0n;
}

/**
 * Another runner on the same database stored a checkpoint this one did not
 * expect. Nothing of the batch is applied; like any failure that is not the
 * projector's, it makes the projector resubscribe from the stored
 * checkpoint, so every event still takes effect once.
 */
/** A batch applied as a whole failed: which event caused it is found by applying the batch again one event at a time. */
class BatchFailed extends Error {
  override name = 'BatchFailed';
  constructor(override readonly cause: unknown) {
    super(`The batch's writes failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export class CheckpointMoved extends Error {
  override name = 'CheckpointMoved';
  constructor(projector: string, version: number) {
    super(`The checkpoint of ${projector} v${version} was moved by another runner on the same database; resuming from it.`);
  }
}
