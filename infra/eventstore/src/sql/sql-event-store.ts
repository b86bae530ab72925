import { CanopyError, checkOf, ErrorCode, markCopy, type PayloadCheck } from '@canopy/schema';
import type {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventStore,
  JsonObject,
  JsonValue,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.js';
import { OwnAppends, type AppendedBatch } from '../own-appends.js';
import { AppendGroups, type AppendOutcome, type AppendRequest } from './append-group.js';
import { pollingSubscription, type PolledLog } from '../polling-subscription.js';
import {
  DEFAULT_MAX_APPEND_BYTES,
  prepareAppend,
  preparedSize,
  validateExpectedRevision,
  validateReadAllOptions,
  validateReadStreamOptions,
  validateStreamName,
  validateSubscribeOptions,
  wrongExpectedVersion,
} from '../validation.js';
import { Wakeup } from '../wakeup.js';
import { logMigration, logTables, type LogTables } from './log-schema.js';
import type { SqlClient } from './sql-client.js';

export interface SqlEventStoreOptions {
  /** PostgreSQL schema holding the log's tables; defaults to `public`. */
  schema?: string;
  maxAppendBytes?: number;
  /** Rows per read round trip and per catch-up page. */
  pageSize?: number;
  /** Longest a live subscription sleeps without a NOTIFY before polling again. */
  idleMs?: number;
  /**
   * Run ANALYZE on the log's tables as autovacuum would (after 50 + 10% of the
   * rows this store appended): for PGlite, which has no autovacuum, and a
   * PostgreSQL server without it or not yet at it. Without statistics the
   * planner tails the log through the stream index and slows every live
   * poll, and sorts the whole rest of the log for every catch-up page.
   */
  autoAnalyze?: boolean;
  /**
   * Once the table holds `fromRows` rows (default 30,000: what ANALYZE samples
   * at the default statistics target, so that each run costs the same from
   * there on), at most one ANALYZE per `ms` (default 60 s, autovacuum's nap).
   * A log growing by thousands of events a second would otherwise be
   * analyzed every second or two, at a fifth of a core, while the statistics
   * the log's queries depend on (that the table is large, and ordered by
   * position) do not change.
   *
   * And at any size, the next ANALYZE waits `ofDuration` times as long as
   * the last one took (default 50: ANALYZE holds a connection at most a
   * fiftieth of the time). Its cost grows with the table up to `fromRows`
   * (about 200 ms at 30,000 events on a 2-core host), and a log filling at
   * thousands of events a second crosses the 10% thresholds from a few
   * thousand rows to `fromRows` some 25 times within seconds: without this,
   * those seconds spent most of a core on ANALYZE.
   */
  analyzeSpacing?: { ms: number; fromRows: number; ofDuration: number };
}

interface EventRow {
  position: string | number | bigint;
  stream: string;
  revision: string | number | bigint;
  id: string;
  type: string;
  data: JsonValue;
  metadata: JsonObject;
  created_at: Date;
}

/** Pages of another process's appends read at most per notification for all subscriptions (see `takeTail`). */
const TAIL_PAGES = 4;

/** SQLSTATE the append function raises when an event id is already in the log. */
const ID_ALREADY_IN_LOG = 'CN001';
/** SQLSTATE of a unique violation: in a group, an id the group's own check missed (it never should; the group is then retried append by append). */
const UNIQUE_VIOLATION = '23505';

type Numeric = string | number | bigint | null | undefined;
const big = (value: Numeric) => (value === null || value === undefined ? undefined : BigInt(value));

/** One append's four numbers in an append function's answer: `{1, revision, position, recorded at in µs}`, `{0, actual revision or null}` or `{2}` (pg gives them as text, PGlite as numbers). */
function outcomeOf(code: Numeric, revision: Numeric, position: Numeric, recordedAt: Numeric): AppendOutcome {
  switch (big(code)) {
    case 1n:
      return { ok: true, revision: big(revision)!, position: big(position)!, recordedAt: new Date(Number(big(recordedAt)! / 1000n)) };
    case 2n:
      return { ok: false, reason: 'duplicate-id' };
    default:
      return { ok: false, reason: 'revision', actual: big(revision) };
  }
}

function outcomesOf(answer: unknown, appends: number): AppendOutcome[] {
  if (!Array.isArray(answer) || answer.length !== appends * 4) throw new Error(`the append function answered ${String(answer)}`);
  const numbers = answer as Numeric[];
  return Array.from({ length: appends }, (_, i) => outcomeOf(numbers[4 * i], numbers[4 * i + 1], numbers[4 * i + 2], numbers[4 * i + 3]));
}

const COLUMNS = 'position, stream, revision, id, type, data, metadata, created_at';

/** The payload as the log stored it, marked as validated when the appended one was. */
function checkedCopy(check: PayloadCheck | undefined, stored: string): JsonValue {
  const copy = JSON.parse(stored) as JsonValue;
  markCopy(check, copy);
  return copy;
}

function toEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    stream: row.stream,
    type: row.type,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    data: row.data,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/** SQL conditions (and their parameters) for events between two exclusive positions that match a filter. */
function rangeConditions(after: Position | undefined, before: Position | undefined, filter: EventFilter | undefined): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (after !== undefined) where.push(`position > ${param(String(after))}`);
  if (before !== undefined) where.push(`position < ${param(String(before))}`);
  if (filter?.streamPrefixes) {
    where.push(`(${filter.streamPrefixes.map((prefix) => `starts_with(stream, ${param(prefix)})`).join(' OR ') || 'false'})`);
  }
  if (filter?.eventTypes) where.push(`type = ANY (${param([...filter.eventTypes])}::text[])`);
  return { where, params };
}

function duplicateEventId(stream: string, ids: readonly string[]): CanopyError {
  return new CanopyError(
    ErrorCode.DUPLICATE_EVENT_ID,
    `Some of these event ids were already appended by a different append (to ${stream} or another stream). Use new ids for new events.`,
    { field: 'events', stream, ids },
  );
}

function unavailable(error: unknown): CanopyError {
  if (error instanceof CanopyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CanopyError(ErrorCode.EVENT_STORE_UNAVAILABLE, `The event log could not be reached: ${message}`, {}, { cause: error });
}

/** The log over PostgreSQL-compatible SQL: one implementation for `pg` and PGlite. */
export class SqlEventStore implements EventStore, PolledLog {
  readonly appended = new Wakeup();
  private readonly tables: LogTables;
  private readonly maxAppendBytes: number;
  private readonly pageSize: number;
  private readonly idleMs: number;
  private unlisten: (() => Promise<void>) | undefined;
  /** The highest position this store's pollers have been woken for, by its own append or by a NOTIFY. */
  private announced: Position = 0n;
  private readonly ownAppends = new OwnAppends();
  private readonly groups: AppendGroups;
  private appendsInFlight = 0;
  private heldNotice: Position | undefined;
  /** The read of another process's appends in flight (one at a time), and the highest head noticed meanwhile. */
  private tailReading = false;
  private tailWanted: Position | undefined;
  /** Appends returned since the last announce: the highest position they reached, and how many they are. */
  private returned: { head: Position; appends: number } | undefined;
  private readonly autoAnalyze: boolean;
  private changedSinceAnalyze = 0;
  private analyzeAfter = 50;
  private analyzing: Promise<void> | undefined;
  private readonly analyzeSpacing: { ms: number; fromRows: number; ofDuration: number };
  /** When the next ANALYZE may run (`performance.now()`), whatever the rows appended. */
  private analyzeNotBefore = 0;

  private constructor(private readonly sql: SqlClient, options: SqlEventStoreOptions) {
    this.tables = logTables(options.schema ?? 'public');
    this.maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
    this.pageSize = options.pageSize ?? 1000;
    this.idleMs = options.idleMs ?? 1000;
    this.autoAnalyze = options.autoAnalyze ?? false;
    this.analyzeSpacing = options.analyzeSpacing ?? { ms: 60_000, fromRows: 30_000, ofDuration: 50 };
    this.groups = new AppendGroups((group) => this.sendGroup(group), Math.max(this.maxAppendBytes, 4 * 1024 * 1024));
  }

  /** Creates the tables when missing and starts listening for appends of other processes. */
  static async open(sql: SqlClient, options: SqlEventStoreOptions = {}): Promise<SqlEventStore> {
    const store = new SqlEventStore(sql, options);
    await sql.exec(logMigration(store.tables));
    // The payload is the head the append left (whichever process made it).
    store.unlisten = await sql.listen(store.tables.channel, (payload) => (payload !== undefined && /^\d+$/.test(payload) ? store.noticed(BigInt(payload)) : store.appended.fire()));
    // From here on, what another process appends past the head is read once for all subscriptions (`takeTail`).
    store.announced = (await store.headPosition()) ?? 0n;
    if (store.autoAnalyze) {
      store.analyze();
      await store.analyzing;
    }
    return store;
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const expected = validateExpectedRevision(options.expectedRevision);
    const prepared = prepareAppend(stream, events, this.maxAppendBytes);
    const checks = events.map((event) => checkOf(event.data));
    const ids = prepared.events.map((e) => e.id);
    const size = preparedSize(prepared.events);
    let outcome: AppendOutcome;
    this.appendsInFlight++;
    try {
      outcome = await this.groups.submit({ stream: prepared.stream, expected: String(expected), events: prepared.events, size });
    } catch (error) {
      this.appendSettled();
      throw unavailable(error);
    }
    if (!outcome.ok) {
      this.appendSettled();
      // A retry of an append that succeeded is answered like the first time, even though the stream moved on.
      const earlier = await this.earlierAppend(prepared.stream, ids);
      if (earlier) return earlier;
      if (outcome.reason === 'duplicate-id') throw duplicateEventId(prepared.stream, ids);
      throw wrongExpectedVersion(prepared.stream, expected, outcome.actual ?? 'no_stream');
    }
    const { position, revision, recordedAt } = outcome;
    const count = BigInt(prepared.events.length);
    this.ownAppends.remember({
      after: position - count,
      events: prepared.events.map((event, i) => ({
        id: event.id,
        stream: prepared.stream,
        type: event.type,
        revision: revision - count + 1n + BigInt(i),
        position: position - count + 1n + BigInt(i),
        // Parsed from the text the log stored, so subscribers see what a read returns.
        data: checkedCopy(checks[i], event.data),
        metadata: JSON.parse(event.metadata) as JsonObject,
        createdAt: recordedAt,
      })),
    }, size);
    this.announceSoon(position);
    if (this.autoAnalyze && (this.changedSinceAnalyze += prepared.events.length) >= this.analyzeAfter && !this.analyzing && performance.now() >= this.analyzeNotBefore) this.analyze();
    return { nextExpectedRevision: revision, position };
  }

  /** The appends that waited together (see `AppendGroups`): one round trip, one transaction. */
  private async sendGroup(group: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    if (group.length === 1) return [await this.sendOne(group[0]!)];
    const events = group.flatMap((request) => request.events);
    const lastTo = new Map<string, number>();
    const previous = group.map((request, i) => {
      const earlier = lastTo.get(request.stream) ?? 0;
      lastTo.set(request.stream, i + 1);
      return earlier;
    });
    try {
      const [row] = await this.sql.query<{ r: unknown }>(
        `SELECT ${this.tables.appendGroup}($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[], $7::uuid[], $8::text[], $9::json, $10::json) AS r`,
        [
          group.map((request) => request.stream),
          group.map((request) => request.expected),
          group.map((request) => request.events.length),
          previous,
          group.flatMap((request, i) => request.events.map(() => i + 1)),
          group.flatMap((request) => request.events.map((_, k) => k + 1)),
          events.map((e) => e.id),
          events.map((e) => e.type),
          `[${events.map((e) => e.data).join(',')}]`,
          `[${events.map((e) => e.metadata).join(',')}]`,
        ],
      );
      return outcomesOf(row?.r, group.length);
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      const outcomes: AppendOutcome[] = [];
      for (const request of group) outcomes.push(await this.sendOne(request));
      return outcomes;
    }
  }

  /** One append, one round trip: `log_append_one` for a single event, `log_append` with arrays for several. */
  private async sendOne(request: AppendRequest): Promise<AppendOutcome> {
    const [only, ...more] = request.events;
    try {
      const [row] =
        more.length === 0
          ? await this.sql.query<{ r: unknown }>(`SELECT ${this.tables.appendOne}($1, $2, $3::uuid, $4, $5, $6) AS r`, [request.stream, request.expected, only!.id, only!.type, only!.data, only!.metadata])
          : await this.sql.query<{ r: unknown }>(`SELECT ${this.tables.append}($1, $2, $3::uuid[], $4::text[], $5::text[], $6::text[]) AS r`, [
              request.stream,
              request.expected,
              request.events.map((e) => e.id),
              request.events.map((e) => e.type),
              request.events.map((e) => e.data),
              request.events.map((e) => e.metadata),
            ]);
      const answer = row?.r;
      if (!Array.isArray(answer)) throw new Error(`the append function answered ${String(answer)}`);
      const [code, revision, position, recordedAt] = answer as Numeric[];
      return outcomeOf(code, revision, position, recordedAt);
    } catch (error) {
      if ((error as { code?: string }).code === ID_ALREADY_IN_LOG) return { ok: false, reason: 'duplicate-id' };
      throw error;
    }
  }

  /**
   * The result of the earlier append these ids came from, when they are that
   * whole append (same stream, same order); undefined when none is in the
   * log; DUPLICATE_EVENT_ID when only some are, or elsewhere.
   */
  private async earlierAppend(stream: string, ids: readonly string[]): Promise<AppendResult | undefined> {
    const rows = await this.query<{ id: string; stream: string; revision: string | number | bigint; position: string | number | bigint }>(
      `SELECT id, stream, revision, position FROM ${this.tables.events} WHERE id = ANY ($1::uuid[]) ORDER BY position`,
      [ids],
    );
    if (rows.length === 0) return undefined;
    const first = BigInt(rows[0]!.revision);
    const whole =
      rows.length === ids.length &&
      rows.every((row, i) => row.id === ids[i] && row.stream === stream && BigInt(row.revision) === first + BigInt(i));
    if (!whole) throw duplicateEventId(stream, ids);
    const last = rows[rows.length - 1]!;
    return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position) };
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const name = validateStreamName(stream);
    validateReadStreamOptions(options);
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let from = options.fromRevision;
    while (remaining > 0) {
      const limit = Math.min(this.pageSize, remaining);
      const bound = from === undefined ? '' : forwards ? 'AND revision >= $2' : 'AND revision <= $2';
      const params: unknown[] = [name];
      if (from !== undefined) params.push(String(from));
      params.push(limit);
      const rows = await this.query<EventRow>(
        `SELECT ${COLUMNS} FROM ${this.tables.events} WHERE stream = $1 ${bound} ORDER BY revision ${forwards ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
        params,
      );
      for (const row of rows) yield toEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      const last = BigInt(rows[rows.length - 1]!.revision);
      if (!forwards && last === 0n) return;
      from = forwards ? last + 1n : last - 1n;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadAllOptions(options);
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let after = options.after;
    let before = options.before;
    while (remaining > 0) {
      const limit = Math.min(this.pageSize, remaining);
      const rows = await this.readRange(after, before, options.filter, limit, forwards);
      for (const event of rows) yield event;
      if (rows.length < limit) return;
      remaining -= rows.length;
      const last = rows[rows.length - 1]!.position;
      if (forwards) after = last;
      else before = last;
    }
  }

  /** With `sized`, also the bytes the page's events' data and metadata take as stored (else 0). */
  async readPage(after: Position | undefined, filter: EventFilter | undefined, limit: number, sized = false): Promise<{ head: Position | undefined; events: RecordedEvent[]; bytes: number }> {
    const { where, params } = rangeConditions(after, undefined, filter);
    params.push(limit);
    // One statement, so the page and the head come from the same snapshot:
    // every returned event is at or below the head, and a short page means
    // everything up to the head was scanned. (No `position <= head` bound in
    // the page: the planner cannot see its value and may sort the whole tail.)
    const rows = await this.query<EventRow & { head: string | number | bigint | null; bytes?: string | number | null }>(
      `WITH page AS (
         SELECT ${COLUMNS}${sized ? ', octet_length(data::text) + octet_length(metadata::text) AS bytes' : ''} FROM ${this.tables.events}
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY position LIMIT $${params.length}
       )
       SELECT (SELECT max(position) FROM ${this.tables.events}) AS head, page.*
       FROM (VALUES (1)) AS one (x) LEFT JOIN page ON true`,
      params,
    );
    const head = rows[0]?.head;
    const stored = rows.filter((row) => row.position !== null);
    return {
      head: head === null || head === undefined ? undefined : BigInt(head),
      events: stored.map(toEvent),
      bytes: sized ? stored.reduce((sum, row) => sum + Number(row.bytes ?? 0), 0) : 0,
    };
  }

  get announcedHead(): Position {
    return this.announced;
  }

  ownAppendAfter(after: Position): AppendedBatch | undefined {
    return this.ownAppends.startingAfter(after);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    validateSubscribeOptions(options);
    return pollingSubscription(this, options, { pageSize: this.pageSize, idleMs: this.idleMs });
  }

  async headPosition(): Promise<Position | undefined> {
    // Appends commit in position order, so the largest visible position is the head; the index answers at once.
    const rows = await this.query<{ position: string | number | bigint | null }>(`SELECT max(position) AS position FROM ${this.tables.events}`);
    const head = rows[0]?.position;
    return head === null || head === undefined ? undefined : BigInt(head);
  }

  /**
   * A notification that arrives while this store has an append in flight may
   * be that append's own (PGlite delivers it before the append returns; pg on
   * another connection, in any order): it is held until the append has
   * recorded its batch, so live subscriptions take the batch instead of
   * reading it back. Another process's notification waits at most one append.
   */
  private noticed(head: Position): void {
    if (this.appendsInFlight === 0) this.takeTail(head);
    else if (this.heldNotice === undefined || head > this.heldNotice) this.heldNotice = head;
  }

  /**
   * Another process appended up to `head`: its events are read once, from the
   * head announced so far, and remembered as this process's own appends are,
   * before the subscriptions are woken: a live subscription there takes them
   * without a query of its own, so N subscriptions cost one read per
   * notification, not N. (The log commits in position order, so a page read
   * after the announced head is exactly what follows it.) At most
   * `TAIL_PAGES` pages; a subscription still behind after them, or when the
   * read fails, reads for itself.
   */
  private takeTail(head: Position): void {
    if (head <= this.announced) return;
    if (this.tailWanted === undefined || head > this.tailWanted) this.tailWanted = head;
    if (this.tailReading) return;
    this.tailReading = true;
    void this.followTail();
  }

  private async followTail(): Promise<void> {
    try {
      while (this.tailWanted !== undefined && this.tailWanted > this.announced) {
        const target = this.tailWanted;
        try {
          await this.readTail(this.announced, target);
        } catch {
          // The subscriptions read for themselves.
        }
        this.announce(target);
      }
    } finally {
      this.tailWanted = undefined;
      this.tailReading = false;
    }
  }

  private async readTail(from: Position, to: Position): Promise<void> {
    let after = from;
    for (let pages = 0; after < to && pages < TAIL_PAGES; pages++) {
      const { events, bytes } = await this.readPage(after, undefined, this.pageSize, true);
      if (events.length === 0) return;
      this.ownAppends.remember({ after, events }, bytes);
      after = events[events.length - 1]!.position;
      if (events.length < this.pageSize) return;
    }
  }

  /**
   * Subscribers are woken on the next turn of the event loop: the caller gets its answer first (and can
   * fold its own events), and the subscribers' work runs after rather than in front of it. The appends of
   * a group all return in one turn: they are announced together, so each subscriber wakes once for the
   * group and takes its appends in one go, not once per append.
   */
  private announceSoon(position: Position): void {
    if (this.returned) {
      if (position > this.returned.head) this.returned.head = position;
      this.returned.appends += 1;
      return;
    }
    this.returned = { head: position, appends: 1 };
    setImmediate(() => {
      const { head, appends } = this.returned!;
      this.returned = undefined;
      this.announce(head);
      this.appendSettled(appends);
    });
  }

  private appendSettled(appends = 1): void {
    this.appendsInFlight -= appends;
    if (this.appendsInFlight > 0 || this.heldNotice === undefined) return;
    const head = this.heldNotice;
    this.heldNotice = undefined;
    this.takeTail(head);
  }

  /**
   * Wakes the pollers once per new head: an append announces its position when it returns, and its NOTIFY
   * (sent at commit, so a poll it wakes sees the append) announces it too; whichever comes second is a no-op.
   */
  private announce(position: Position): void {
    if (position <= this.announced) return;
    this.announced = position;
    this.appended.fire();
  }

  /** ANALYZE in the background; the next threshold is 50 + 10% of the rows, as autovacuum's default, and the next run waits as `analyzeSpacing` says. */
  private analyze(): void {
    this.changedSinceAnalyze = 0;
    const started = performance.now();
    this.analyzing = (async () => {
      try {
        await this.sql.exec(`ANALYZE ${this.tables.events}`);
        const finished = performance.now();
        const [row] = await this.sql.query<{ rows: string | number }>(`SELECT reltuples AS rows FROM pg_class WHERE oid = $1::regclass`, [this.tables.events]);
        const rows = Math.max(0, Number(row?.rows ?? 0));
        this.analyzeAfter = 50 + Math.floor(0.1 * rows);
        const spacing = this.analyzeSpacing;
        this.analyzeNotBefore = Math.max(finished + (finished - started) * spacing.ofDuration, rows >= spacing.fromRows ? started + spacing.ms : 0);
      } catch {
        // Statistics are an optimisation: the next threshold tries again.
      } finally {
        this.analyzing = undefined;
      }
    })();
  }

  async close(): Promise<void> {
    await this.analyzing;
    this.appended.fire();
    await this.unlisten?.();
    await this.sql.close();
  }

  private async readRange(
    after: Position | undefined,
    before: Position | undefined,
    filter: EventFilter | undefined,
    limit: number,
    forwards: boolean,
  ): Promise<RecordedEvent[]> {
    const { where, params } = rangeConditions(after, before, filter);
    const rows = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM ${this.tables.events} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY position ${forwards ? 'ASC' : 'DESC'} LIMIT $${params.push(limit)}`,
      params,
    );
    return rows.map(toEvent);
  }

  private async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    try {
      return await this.sql.query<Row>(sql, params);
    } catch (error) {
      throw unavailable(error);
    }
  }
}
