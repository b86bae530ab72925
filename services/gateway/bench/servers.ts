/**
 * The two servers under test, each in a child process of its own (the
 * parent is the HTTP client, as a real client is another process):
 *
 * - subject: the real gateway, `startGateway(loadConfig(env))`, exactly what
 *   `npm start` runs (the built dist/ files);
 * - baseline: a plain `@apollo/server` (`startStandaloneServer`) whose one
 *   mutation INSERTs a row into the same kind of database and returns its id.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, startGateway } from '../index.js';
import type { StoreId } from './config.js';

export type Side = 'subject' | 'baseline';

/** What the parent tells a child to start. */
export type StartMessage =
  | { side: 'subject'; env: Record<string, string>; logLevel: string; trace: boolean }
  | { side: 'baseline'; store: StoreId; dataDir?: string; postgresUrl?: string; schema?: string; trace: boolean };

/** CANOPY_BENCH_CPU_PROF: the parent brackets each timed run with these, so a profile holds the run only (not start-up or warm-up). */
export type ProfileMessage = { kind: 'profile-start' } | { kind: 'profile-stop'; file: string };

/** What a child answers: where it listens (the GraphQL endpoint) and how it was set up. */
export interface Ready {
  kind: 'ready';
  endpoint: string;
  notes: string[];
}

/** With tracing on (CANOPY_BENCH_TRACE=1), what a server measured inside itself between two `trace` requests. */
export interface Trace {
  kind: 'trace';
  /** Milliseconds, per request: from the server seeing the request to the response finishing. */
  server: number[];
  /** Milliseconds, per call of the log's append (the store's, under EventLog; subject only). */
  append: number[];
  /** Every SQL statement the process sent (log and key store alike), by kind: how many, and their wall time (queueing included). */
  sql: Record<string, { count: number; ms: number }>;
}

/** A running child: its GraphQL endpoint, and how to stop it. */
export interface ServerHandle {
  endpoint: string;
  notes: string[];
  /** With tracing on: what it measured since the last call. */
  trace(): Promise<Trace>;
  /** Starts the CPU profiler in the server, or stops it and writes the profile to `file`. */
  profile(message: ProfileMessage): Promise<void>;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 30_000;

/** In the parent: forks this same script with `--serve`, sends it `start`, and resolves once it listens. */
export function startServer(script: string, start: StartMessage): Promise<ServerHandle> {
  const child = fork(script, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`the ${start.side} server exited (${signal ?? `code ${code}`}) before it listened`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (message: Ready | { kind: 'failed'; reason: string }) => {
      child.off('exit', onExit);
      if (message.kind === 'failed') {
        child.kill('SIGKILL');
        reject(new Error(`the ${start.side} server did not start: ${message.reason}`));
        return;
      }
      resolve(handle(child, message));
    });
    child.send(start);
  });
}

function handle(child: ChildProcess, ready: Ready): ServerHandle {
  return {
    endpoint: ready.endpoint,
    notes: ready.notes,
    trace: () =>
      new Promise((resolve) => {
        child.once('message', (message: Trace) => resolve(message));
        child.send('trace');
      }),
    profile: (message) =>
      new Promise((resolve) => {
        child.once('message', () => resolve());
        child.send(message);
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      }),
  };
}

/** In the child: waits for `start`, serves, answers `trace` and the profiler's messages, and exits cleanly on `stop`. */
export function serveMain(): void {
  process.once('message', (start: StartMessage) => {
    void (async () => {
      const tracer = start.trace ? new Tracer() : undefined;
      let running: { endpoint: string; notes: string[]; stop(): Promise<void> };
      try {
        running = start.side === 'subject' ? await startSubject(start, tracer) : await startBaseline(start);
      } catch (error) {
        const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.send!({ kind: 'failed', reason }, () => process.exit(1));
        return;
      }
      if (tracer) running.notes.push('traced (CANOPY_BENCH_TRACE=1)');
      const profiler = new Session();
      process.on('message', (message: unknown) => {
        if (isProfileMessage(message)) void profile(profiler, message).then(() => process.send!('profiled'));
        if (message === 'trace') process.send!(tracer?.take() ?? { kind: 'trace', server: [], append: [], sql: {} });
        if (message === 'stop') {
          void running.stop().finally(() => process.exit(0));
        }
      });
      process.send!({ kind: 'ready', endpoint: running.endpoint, notes: running.notes } satisfies Ready);
    })();
  });
}

function isProfileMessage(message: unknown): message is ProfileMessage {
  return typeof message === 'object' && message !== null && String((message as { kind?: unknown }).kind).startsWith('profile-');
}

async function profile(session: Session, message: ProfileMessage): Promise<void> {
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  if (message.kind === 'profile-start') {
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.start');
    return;
  }
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  session.disconnect();
  await writeFile(message.file, JSON.stringify(profile));
}

/**
 * Measures inside a server without touching its code: the HTTP server's
 * diagnostics channels (request seen → response finished), every query
 * through PGlite and pg (the one hoisted copy of each, which the log and the
 * key store use), and, given the store, its append.
 */
class Tracer {
  private server: number[] = [];
  private append: number[] = [];
  private sql: Trace['sql'] = {};

  constructor() {
    const begun = new WeakMap<object, number>();
    subscribe('http.server.request.start', (message) => begun.set((message as { response: object }).response, performance.now()));
    subscribe('http.server.response.finish', (message) => {
      const at = begun.get((message as { response: object }).response);
      if (at !== undefined) this.server.push(performance.now() - at);
    });
    this.wrapQuery(PGlite.prototype as unknown as Queryable);
    this.wrapQuery(pg.Client.prototype as unknown as Queryable);
  }

  wrapAppend(store: { append: (...args: unknown[]) => Promise<unknown> }): void {
    const original = store.append.bind(store);
    store.append = async (...args: unknown[]) => {
      const at = performance.now();
      try {
        return await original(...args);
      } finally {
        this.append.push(performance.now() - at);
      }
    };
  }

  take(): Trace {
    const trace: Trace = { kind: 'trace', server: this.server, append: this.append, sql: this.sql };
    this.server = [];
    this.append = [];
    this.sql = {};
    return trace;
  }

  private wrapQuery(proto: Queryable): void {
    const original = proto.query;
    const tracer = this;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '?');
      const at = performance.now();
      const done = () => {
        const entry = (tracer.sql[sqlKind(text)] ??= { count: 0, ms: 0 });
        entry.count++;
        entry.ms += performance.now() - at;
      };
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        // pg's Pool calls client.query(text, values, callback)
        args[last] = (...results: unknown[]) => {
          done();
          (callback as (...results: unknown[]) => void)(...results);
        };
      }
      const result = original.apply(this, args);
      if (typeof callback !== 'function' && result instanceof Promise) result.then(done, done);
      return result;
    };
  }
}

type Queryable = { query: (...args: unknown[]) => unknown };

/** What kind of statement: the log's append, a subscription's page, … (the first words otherwise). */
function sqlKind(text: string): string {
  if (text.includes('log_append')) return 'log append';
  if (text.includes('WITH page')) return 'subscription page (readPage)';
  if (/FROM \S*log_events\S* WHERE stream = /i.test(text)) return 'read stream';
  return text.trim().replace(/\s+/g, ' ').slice(0, 50);
}

/** The real gateway. Its log lines (one per mutation at `info`, the default) go to /dev/null, synchronously, as pino writes to stdout by default. */
async function startSubject(start: Extract<StartMessage, { side: 'subject' }>, tracer: Tracer | undefined) {
  const config = loadConfig(start.env);
  const logger = pino({ level: start.logLevel }, pino.destination({ dest: '/dev/null', sync: true }));
  const gateway = await startGateway(config, logger);
  tracer?.wrapAppend(gateway.store as unknown as { append: (...args: unknown[]) => Promise<unknown> });
  return { endpoint: `${gateway.url}/graphql`, notes: [`log level ${start.logLevel} (to /dev/null)`], stop: () => gateway.stop() };
}

const BASELINE_SDL = `#graphql
  type Query { ok: Boolean }
  type Mutation { record(name: String!): Int! }
`;

/** A plain Apollo Server: one mutation, one INSERT … RETURNING id, no auth. */
async function startBaseline(start: Extract<StartMessage, { side: 'baseline' }>) {
  let insert: (name: string) => Promise<number>;
  let close: () => Promise<void>;
  let notes: string[];
  if (start.store === 'pglite') {
    // The same package (and so the same version) the log uses, persisted in a directory as the embedded log is.
    await mkdir(start.dataDir!, { recursive: true });
    const db = await PGlite.create(start.dataDir!);
    await db.exec('CREATE TABLE IF NOT EXISTS bench_record (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())');
    insert = async (name) => (await db.query<{ id: number }>('INSERT INTO bench_record (name) VALUES ($1) RETURNING id', [name])).rows[0]!.id;
    close = () => db.close();
    notes = [`PGlite on disk, in a temporary directory of its own`];
  } else {
    // A pool like the log's (pg, 10 connections), on the same server, in the run's schema.
    const table = `${pg.escapeIdentifier(start.schema!)}.bench_record`;
    const pool = new pg.Pool({ connectionString: start.postgresUrl!, max: 10 });
    pool.on('error', () => {});
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    insert = async (name) => (await pool.query<{ id: number }>(`INSERT INTO ${table} (name) VALUES ($1) RETURNING id`, [name])).rows[0]!.id;
    close = () => pool.end();
    notes = [`pg Pool (max 10) on the same server, table ${start.schema}.bench_record`];
  }
  const server = new ApolloServer({
    typeDefs: BASELINE_SDL,
    resolvers: { Mutation: { record: (_: unknown, args: { name: string }) => insert(args.name) } },
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return {
    endpoint: url,
    notes,
    async stop() {
      await server.stop();
      await close();
    },
  };
}
