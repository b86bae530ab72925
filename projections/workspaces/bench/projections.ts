/**
 * `npm run bench` (after the log and the mutation benchmarks): the read
 * models of organizations and workspaces on the projector runtime.
 *
 * For each store — the embedded default (the log and the read models in two
 * PGlite databases on disk, as `npm start` keeps them) and PostgreSQL (the
 * log and the read models on the server) — it fills a log with N events of
 * realistic workspace traffic (bench/traffic.ts), then measures:
 *
 * - rebuild speed: `ProjectionRunner.rebuild()` of the four read models from
 *   zero (each in turn, as `canopy replay` does), per read model and all
 *   four; beside the log's own catch-up read of the same events and a
 *   trivial projector (one UPDATE per event) through the same runner; with
 *   CANOPY_BENCH_PROJECTION_CONCURRENT=1 also a fresh runner catching all
 *   four up at once (a first start on a full log);
 * - live lag: with the runner live, single workspace events appended at a
 *   paced rate; per event, append acknowledged → `runner.waitFor('all', position)`
 *   resolved, and append start → resolved.
 *
 * Prints the table, checks the targets, and replaces its own section of
 * BENCHMARKS.md (`--no-write` leaves it alone). Exits 1 when a target fails
 * or a store could not be measured because of an error. Each store runs in a
 * child process of its own (this script with `--store ID`).
 *
 * Environment: CANOPY_BENCH_PROJECTION_EVENTS (1000000), CANOPY_BENCH_LIVE_RATE (200 per second),
 * CANOPY_BENCH_LIVE_SECONDS (60), CANOPY_BENCH_STORES (pglite,postgres),
 * CANOPY_BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test),
 * CANOPY_BENCH_PROJECTION_CONCURRENT=1 (also a fresh runner catching all four up at once; off by default: it takes as long again),
 * CANOPY_BENCH_CPU_PROF=<dir> (a CPU profile of the trivial projector's and of the four read models' rebuild, per store),
 * CANOPY_BENCH_TRACE=1 (per read model, the statements that took most of its rebuild: how many per event, µs each),
 * CANOPY_BENCH_CODE (what the report names as the code measured; by default the git commit and whether the sources had uncommitted changes).
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EventLog, openEventStore, type EventStore } from '@canopy/eventstore';
import { freshSchema, machine, packageVersion, postgresUrl, probePostgres, redact, repoRoot, type Probe } from '@canopy/eventstore/bench-kit';
import { openReadModelDb, ProjectionRunner, type ReadModelDb, type RebuildProgress } from '@canopy/projections';
import { canopyEventRegistry } from '@canopy/schema';
import { workspaceProjectors, workspaceStreams } from '@canopy/workspace-read-models';
import { catchUpRead, counted, counterProjector, emptyStats, percentiles, Profiler, resetStats, traceLines, type ApplyStats } from './measure.js';
import { consoleReport, failed, markdownSection, writeSection, type LiveFigures, type ModelFigures, type Report, type Sizes, type StoreId, type StoreResult } from './report.js';
import { fill, SimulatedClock, Traffic } from './traffic.js';

const SCRIPT = fileURLToPath(import.meta.url);
const STORES: readonly StoreId[] = ['pglite', 'postgres'];
/** A store's child gets this long before it is stopped. */
const STORE_TIMEOUT_MS = 3 * 3600_000;
/** How long the live phase's `waitFor` waits before counting an event as not reached. */
const WAIT_TIMEOUT_MS = 10_000;

function positiveInt(name: string, fallback: number): number {
  const text = process.env[name]?.replace(/[_,]/g, '');
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number; got "${process.env[name]}".`);
  return value;
}

function sizes(): Sizes {
  return {
    events: positiveInt('CANOPY_BENCH_PROJECTION_EVENTS', 1_000_000),
    liveRate: positiveInt('CANOPY_BENCH_LIVE_RATE', 200),
    liveSeconds: positiveInt('CANOPY_BENCH_LIVE_SECONDS', 60),
    catchUpRuns: 3,
    concurrent: process.env.CANOPY_BENCH_PROJECTION_CONCURRENT === '1',
  };
}

function selectedStores(): StoreId[] {
  const text = process.env.CANOPY_BENCH_STORES;
  if (!text) return [...STORES];
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of list) if (!STORES.includes(id as StoreId)) throw new Error(`CANOPY_BENCH_STORES: unknown store "${id}"; known: ${STORES.join(', ')}`);
  return list as StoreId[];
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The log and the read-model database of one store, as the gateway opens them. */
interface Opened {
  store: EventStore;
  db: ReadModelDb;
  /** A second, empty set of read models on the same database (for the fresh runner catching up). */
  scratchPrefix: string;
  /** After the fill: the statistics a log that grew over time would have (see below). */
  analyze(): Promise<void>;
  /** Before the live phase: what the server's background work does after a bulk load (see below). */
  settle(): Promise<void>;
  notes: string[];
  close(): Promise<void>;
}

async function open(id: StoreId, url: string): Promise<Opened> {
  if (id === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'canopy-bench-projections-'));
    const log = await openEventStore({ kind: 'pglite', dataDir: join(dir, 'log') });
    const db = await openReadModelDb({ kind: 'pglite', dataDir: join(dir, 'read-models') });
    return {
      store: log.store,
      db,
      scratchPrefix: 'fresh_',
      // The PGlite adapter runs ANALYZE itself as the log grows (autoAnalyze).
      analyze: async () => {},
      // No background workers in PGlite: only the dirty pages of the rebuilds, written now rather than mid-phase.
      settle: async () => {
        await db.exec('CHECKPOINT');
      },
      notes: [`@electric-sql/pglite ${packageVersion('@electric-sql/pglite')}; the log in ${join(dir, 'log')}, the read models in ${join(dir, 'read-models')} (a temporary directory, removed afterwards)`],
      async close() {
        await log.close();
        await db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = await freshSchema(url, 'cbproj');
  const prefix = `${schema.name}_`;
  const log = await openEventStore({ kind: 'postgres', url, schema: schema.name });
  const db = await openReadModelDb({ kind: 'postgres', url, schemaPrefix: prefix });
  return {
    store: log.store,
    db,
    scratchPrefix: `${prefix}f_`,
    // Autovacuum analyzes a log that grows over days; one filled in seconds has stale statistics, with which the
    // planner reads a filtered catch-up page by sorting the whole rest of the log (quadratic over a catch-up).
    async analyze() {
      const tables = await db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [schema.name]);
      for (const { tablename } of tables) await db.exec(`ANALYZE "${schema.name}"."${tablename}"`);
    },
    // After millions of inserted rows autovacuum visits every table of the log and of the read models (the insert
    // threshold), and the checkpointer writes the rebuilds' pages: minutes of background I/O that a server settles
    // once. Done now, the live phase measures steady state rather than the aftermath of the bulk load.
    async settle() {
      const tables = await db.query<{ schemaname: string; tablename: string }>(
        `SELECT schemaname, tablename FROM pg_tables WHERE schemaname = $1 OR starts_with(schemaname, $2)`,
        [schema.name, prefix],
      );
      for (const { schemaname, tablename } of tables) await db.exec(`VACUUM (ANALYZE) "${schemaname}"."${tablename}"`);
      await db.exec('CHECKPOINT');
    },
    notes: [`pg ${packageVersion('pg')}; the log in schema ${schema.name}, the read models in schemas ${prefix}* (pools of 10; all dropped afterwards)`],
    async close() {
      await log.close();
      try {
        const schemas = await db.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, [prefix]);
        for (const { nspname } of schemas) await db.exec(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
      } finally {
        await db.close();
        await schema.drop();
      }
    },
  };
}

/** The read models the issue's rebuild target names (the fourth, `audit`, is measured beside them). */
const TARGET_MODELS = ['membership', 'quotas', 'workspace_summary'];

/** In the child: fills the store's log, measures, and sends the result to the parent. */
async function storeMain(id: StoreId): Promise<void> {
  const log = (line: string) => console.error(`[projections ${id}] ${line}`);
  const size = sizes();
  const url = postgresUrl();
  const started = performance.now();
  const profileDir = process.env.CANOPY_BENCH_CPU_PROF ? resolve(process.env.CANOPY_BENCH_CPU_PROF) : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  let result: StoreResult;
  let opened: Opened | undefined;
  try {
    opened = await open(id, url);
    const { store, db } = opened;
    const notes = [...opened.notes];

    // The log: N events of traffic, appended once and read by every run below.
    log(`filling the log with ${size.events.toLocaleString('en-US')} events`);
    const traffic = new Traffic(size.events);
    const clock = new SimulatedClock(size.events);
    const eventLog = new EventLog(store, canopyEventRegistry(), clock.now);
    const filled = await fill(eventLog, traffic, clock, size.events, log);
    const head = (await store.headPosition())!;
    await opened.analyze();
    log(`filled in ${filled.seconds.toFixed(1)} s (${Math.round(filled.events / filled.seconds).toLocaleString('en-US')} events/s, ${filled.appends.toLocaleString('en-US')} appends)`);

    // Baseline 1: the log's own catch-up read (after one untimed, so caches are warm for every run after it).
    await catchUpRead(store, workspaceStreams);
    const catchUp: number[] = [];
    for (let run = 0; run < size.catchUpRuns; run++) {
      const read = await catchUpRead(store, workspaceStreams);
      if (read.events !== filled.events) throw new Error(`the catch-up read ${read.events} events; the log holds ${filled.events}`);
      catchUp.push((read.events * 1000) / read.ms);
      log(`log catch-up read: ${Math.round(catchUp[run]!).toLocaleString('en-US')} events/s`);
    }

    // Baseline 2: a trivial projector (one UPDATE per event) through the same runner.
    const counterStats = emptyStats();
    const counterRunner = new ProjectionRunner({ store, db, projectors: [counted(counterProjector(workspaceStreams), counterStats)] });
    const profiler = profileDir ? new Profiler() : undefined;
    await profiler?.start();
    const [counterResult] = await counterRunner.rebuild('bench_counter');
    await profiler?.stop(join(profileDir!, `projections-counter-${id}.cpuprofile`));
    const counter = modelFigures(counterResult!, counterStats);
    log(`trivial projector: ${Math.round(counter.eventsPerSecond).toLocaleString('en-US')} events/s`);

    // The three read models the target names, rebuilt from zero in one call by a runner holding only them.
    const threeRunner = new ProjectionRunner({ store, db, projectors: workspaceProjectors.filter((p) => TARGET_MODELS.includes(p.name)) });
    const threeStarted = performance.now();
    await threeRunner.rebuild();
    const threeMs = performance.now() - threeStarted;
    const three = { events: filled.events, ms: threeMs, eventsPerSecond: (filled.events * 1000) / threeMs };
    log(`the three of the target, rebuild(): ${Math.round(three.eventsPerSecond).toLocaleString('en-US')} events/s (${(threeMs / 1000).toFixed(1)} s)`);

    // The four read models rebuilt from zero in one call, ProjectionRunner.rebuild(), however the runtime schedules them.
    const stats = new Map<string, ApplyStats>(workspaceProjectors.map((p) => [p.name, emptyStats()]));
    const runner = new ProjectionRunner({ store, db, projectors: workspaceProjectors.map((p) => counted(p, stats.get(p.name)!)) });
    let lastReport = 0;
    const onProgress = (progress: RebuildProgress) => {
      if (performance.now() - lastReport < 15_000) return;
      lastReport = performance.now();
      log(`rebuilding ${progress.name}: ${progress.events.toLocaleString('en-US')} events, ${Math.round(progress.eventsPerSecond).toLocaleString('en-US')}/s`);
    };
    await profiler?.start();
    const rebuildStarted = performance.now();
    const results = await runner.rebuild(undefined, { onProgress });
    const rebuildMs = performance.now() - rebuildStarted;
    await profiler?.stop(join(profileDir!, `projections-rebuild-${id}.cpuprofile`));
    if (profiler) notes.push(`CPU-profiled (CANOPY_BENCH_CPU_PROF): the rebuilds ran under the inspector's profiler`);
    const all = { events: filled.events, ms: rebuildMs, eventsPerSecond: (filled.events * 1000) / rebuildMs, statementsPerEvent: 0 };
    log(`all four, rebuild(): ${Math.round(all.eventsPerSecond).toLocaleString('en-US')} events/s (${(rebuildMs / 1000).toFixed(1)} s)`);
    // Each read model's own figure: from that call when it rebuilt them one after another, else from a rebuild of each alone.
    const oneAfterAnother = results.reduce((sum, r) => sum + r.elapsedMs, 0) <= rebuildMs * 1.02;
    let models: ModelFigures[];
    if (oneAfterAnother) {
      models = results.map((r) => modelFigures(r, stats.get(r.name)!));
    } else {
      log('rebuild() ran them side by side: rebuilding each alone for its own figure');
      models = [];
      for (const p of workspaceProjectors) {
        resetStats(stats.get(p.name)!);
        const [r] = await runner.rebuild(p.name, { onProgress });
        models.push(modelFigures(r!, stats.get(p.name)!));
      }
    }
    all.statementsPerEvent = models.reduce((sum, m) => sum + m.statementsPerEvent, 0);
    notes.push(oneAfterAnother ? '`rebuild()` rebuilt the four one after another; the per-read-model rows are from that call' : '`rebuild()` rebuilt the four side by side; each per-read-model row is a `rebuild(name)` of that read model alone, after it');
    for (const m of models) {
      log(`${m.name} v${m.version}: ${Math.round(m.eventsPerSecond).toLocaleString('en-US')} events/s, ${m.statementsPerEvent.toFixed(2)} statements/event`);
      for (const line of traceLines(m.name, stats.get(m.name)!)) log(line);
    }

    // A fresh runner on an empty set of read models: all four catch up at once, as at a first start on a full log.
    let concurrent: { ms: number; eventsPerSecond: number } | undefined;
    if (size.concurrent) {
      const scratch = db.withSchemaPrefix(opened.scratchPrefix);
      const fresh = new ProjectionRunner({ store, db: scratch, projectors: workspaceProjectors });
      const at = performance.now();
      await fresh.start();
      const reached = await fresh.waitFor('all', head, STORE_TIMEOUT_MS);
      const ms = performance.now() - at;
      await fresh.stop();
      if (!reached) throw new Error(`the fresh runner did not reach the head: ${JSON.stringify(await fresh.health(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
      concurrent = { ms, eventsPerSecond: (filled.events * 1000) / ms };
      log(`all four, fresh runner catching up: ${Math.round(concurrent.eventsPerSecond).toLocaleString('en-US')} events/s (${(ms / 1000).toFixed(1)} s)`);
      const schemas = await scratch.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, [opened.scratchPrefix]);
      for (const { nspname } of schemas) await scratch.exec(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    }

    // Live: the runner follows the log; single workspace events at a paced rate. First the bulk load settles
    // (vacuum, checkpoint) and its writes reach the disk (the file system's sync): the live phase measures steady
    // state, not the deferred writeback of a million rows, which stalls fsyncs for hundreds of milliseconds.
    log('settling the store (vacuum, checkpoint, sync)');
    await opened.settle();
    execFileSync('sync');
    await runner.start();
    if (!(await runner.waitFor('all', head, 60_000))) throw new Error('the rebuilt read models did not go live');
    const live = await liveLag(runner, eventLog, traffic, clock, size, log);
    await runner.stop();

    result = {
      store: id,
      status: 'measured',
      fill: filled,
      catchUp,
      counter,
      models,
      all,
      three,
      concurrent,
      live,
      notes,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    result = { store: id, status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await opened?.close().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
  await new Promise<void>((done) => process.send!(result, () => done()));
  process.exit(0);
}

function modelFigures(result: { name: string; version: number; events: number; elapsedMs: number }, stats: ApplyStats): ModelFigures {
  const events = result.events;
  return {
    name: result.name,
    version: result.version,
    events,
    ms: result.elapsedMs,
    eventsPerSecond: (events * 1000) / result.elapsedMs,
    statementsPerEvent: stats.statements / Math.max(1, stats.events),
    applyShare: stats.applyMs / result.elapsedMs,
    queryShare: stats.queryMs / result.elapsedMs,
  };
}

/**
 * Appends one workspace event every 1/rate seconds (open loop: on schedule,
 * whether or not the previous one is visible yet; events of one workspace
 * in order, 100 workspaces in rotation), and times each until
 * `runner.waitFor('all', its position)` resolves. The first second is a
 * warm-up, left out.
 */
async function liveLag(runner: ProjectionRunner, eventLog: EventLog, traffic: Traffic, clock: SimulatedClock, size: Sizes, log: (line: string) => void): Promise<LiveFigures> {
  const warmup = size.liveRate;
  const count = size.liveRate * size.liveSeconds;
  const interval = 1000 / size.liveRate;
  const workspaces = Math.min(100, traffic.liveWorkspaces);
  const previous = new Map<number, Promise<void>>();
  const ack: number[] = [];
  const total: number[] = [];
  const append: number[] = [];
  let timeouts = 0;
  const one = async (i: number) => {
    const w = i % workspaces;
    await previous.get(w);
    const planned = traffic.single(w);
    clock.tick();
    const t0 = performance.now();
    const { position } = await eventLog.append(planned.stream, planned.events, { expectedRevision: planned.expectedRevision, context: { actor: planned.actor, correlationId: traffic.correlationId() } });
    const t1 = performance.now();
    const reached = await runner.waitFor('all', position, WAIT_TIMEOUT_MS);
    const t2 = performance.now();
    if (i < warmup) return;
    if (!reached) timeouts++;
    append.push(t1 - t0);
    ack.push(t2 - t1);
    total.push(t2 - t0);
  };
  log(`live: ${size.liveRate} events/s for ${size.liveSeconds} s (after ${warmup} warm-up events)`);
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < warmup + count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    const step = one(i);
    previous.set(i % workspaces, step.catch(() => {}));
    pending.push(step);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000 - warmup / size.liveRate;
  const figures: LiveFigures = { events: count, seconds, achievedRate: (warmup + count) / ((performance.now() - start) / 1000), ackToVisible: percentiles(ack), startToVisible: percentiles(total), append: percentiles(append), timeouts };
  log(
    `live lag (ack → visible): p50 ${figures.ackToVisible.p50.toFixed(2)} ms, p99 ${figures.ackToVisible.p99.toFixed(2)} ms, max ${figures.ackToVisible.max.toFixed(2)} ms; append p50 ${figures.append.p50.toFixed(2)} ms${timeouts ? `; ${timeouts} not visible within ${WAIT_TIMEOUT_MS} ms` : ''}`,
  );
  return figures;
}

/** In the parent: one store's child process. */
function runStore(id: StoreId): Promise<StoreResult> {
  return new Promise((done) => {
    const child = fork(SCRIPT, ['--store', id], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: StoreResult | undefined;
    const timer = setTimeout(() => {
      result ??= { store: id, status: 'failed', reason: `did not finish within ${STORE_TIMEOUT_MS / 3600_000} hours` };
      child.kill('SIGKILL');
    }, STORE_TIMEOUT_MS);
    child.on('message', (message) => (result = message as StoreResult));
    child.on('error', (error) => (result ??= { store: id, status: 'failed', reason: error.message }));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done(result ?? { store: id, status: 'failed', reason: `the store's process exited (${signal ?? `code ${code}`}) without a result` });
    });
  });
}

/** The commit measured, and the measured packages' uncommitted changes (benchmarks of a working tree say so). */
function codeVersion(): string {
  if (process.env.CANOPY_BENCH_CODE) return process.env.CANOPY_BENCH_CODE;
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('status', '--porcelain', '--', 'projections/runtime/src', 'projections/workspaces/src', 'infra/eventstore/src', 'schema/src').split('\n').filter(Boolean).length;
    return `commit ${commit}${changed ? ` with uncommitted changes to ${changed} file(s) of projections/runtime, projections/workspaces, infra/eventstore or schema sources` : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  const date = new Date();
  const size = sizes();
  const url = postgresUrl();
  const stores = selectedStores();
  const probe: Probe = await probePostgres(url);
  if (probe.ok) console.error(`[projections] PostgreSQL: ${probe.version} at ${redact(url)}`);
  else console.error(`[projections] PostgreSQL: NOT MEASURED — no server answered at ${redact(url)} (${probe.reason}); the PostgreSQL rows are skipped.`);

  // The machine is shared (2 cores here): the 1-minute load average, sampled through the run, tells a reader whether other work ran meanwhile.
  const load: number[] = [];
  const sampler = setInterval(() => load.push(loadavg()[0]!), 10_000);
  const results: StoreResult[] = [];
  for (const id of stores) {
    if (id === 'postgres' && !probe.ok) results.push({ store: id, status: 'not-measured', reason: `no PostgreSQL server answered at ${redact(url)} (${probe.reason})` });
    else results.push(await runStore(id));
  }
  clearInterval(sampler);
  const report: Report = {
    load,
    date,
    seconds: (performance.now() - started) / 1000,
    machine: machine(probe.ok ? probe.version : 'none answered'),
    sizes: size,
    postgresUrl: url,
    versions: { '@electric-sql/pglite': packageVersion('@electric-sql/pglite'), pg: packageVersion('pg') },
    code: codeVersion(),
    results,
  };
  console.log(`\n${consoleReport(report)}`);
  if (!process.argv.includes('--no-write')) {
    const file = join(repoRoot(), 'BENCHMARKS.md');
    writeSection(file, markdownSection(report));
    console.log(`\nWrote its section of ${file}`);
  }
  return failed(report) ? 1 : 0;
}

const storeFlag = process.argv.indexOf('--store');
if (storeFlag >= 0) {
  await storeMain(process.argv[storeFlag + 1] as StoreId);
} else {
  process.exitCode = await main();
}
