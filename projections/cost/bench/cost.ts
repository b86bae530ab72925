/**
 * The cost read model's benchmark: usage events ingested per second (a
 * rebuild of `cost` from zero over a log of usage samples), beside the log's
 * own catch-up read of the same events; and the 30-day daily cost of a
 * workspace running 1,000 workloads (p50/p99), beside the same figures
 * summed from the per-workload table. On embedded PGlite, and on PostgreSQL
 * when CANOPY_TEST_POSTGRES_URL is set. Prints the figures and writes the
 * "Cost" section of BENCHMARKS.md (`--no-write` leaves it alone).
 *
 * Sizes: CANOPY_BENCH_COST_EVENTS (ingest log, default 100,000),
 * CANOPY_BENCH_COST_ROWS (workload rows per usage event, one ingest log per
 * value, default "10,1"),
 * CANOPY_BENCH_COST_RUNS (timed rebuilds per store, default 3).
 * Quick iterations: `--ingest-only` skips the query measurement (and, like
 * `--store postgres`, is best run with `--no-write`), e.g.
 * `CANOPY_BENCH_COST_EVENTS=20000 CANOPY_BENCH_COST_ROWS=10 CANOPY_BENCH_COST_RUNS=1 node dist/bench/cost.js --store postgres --ingest-only --no-write`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventLog, openPostgresEventStore, openPgliteEventStore, type DomainEvent, type EventStore } from '@canopy/eventstore';
import { freshSchema, machine, packageVersion, probePostgres, redact, repoRoot, type Machine } from '@canopy/eventstore/bench-kit';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { canopyEventRegistry, pricingStream, usageStream, type PayloadOf, type UsageSampled, type WorkloadUsage } from '@canopy/schema';
import { costProjector, costStreams, dailyCost } from '../src/index.js';

type Sample = PayloadOf<typeof UsageSampled>;
type StoreId = 'pglite' | 'postgres';

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
};

const SIZES = {
  ingestEvents: envInt('CANOPY_BENCH_COST_EVENTS', 100_000),
  /** Workload rows per usage event, one ingest log per shape (the first is the main one). */
  rowShapes: (process.env['CANOPY_BENCH_COST_ROWS'] ?? '10,1')
    .split(',')
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0 && n <= 5000),
  runs: envInt('CANOPY_BENCH_COST_RUNS', 3),
  /** Clusters the ingest log's samples rotate over (one sample per cluster and minute). */
  ingestClusters: 20,
  /** The queried workspace: workloads, spread over clusters, sampled hourly for `days`. */
  queryWorkloads: 1_000,
  queryClusters: 4,
  queryDays: 30,
  /** Other workspaces on the same clusters (their rows share the tables). */
  otherWorkspaces: 9,
  otherWorkloads: 100,
  queryWarmup: 200,
  queryTimed: 2_000,
  /** The baseline is slower: fewer runs. */
  baselineWarmup: 20,
  baselineTimed: 200,
  appendBatch: 100,
} as const;

const START = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  workspaceId: string;
  namespace: string;
  name: string;
  cpuRequest: number;
  memoryRequest: number;
}

function usageRow(w: Workload, next: () => number): WorkloadUsage {
  return {
    workspaceId: w.workspaceId,
    namespace: w.namespace,
    kind: 'Deployment',
    name: w.name,
    pods: 2,
    cpuRequest: w.cpuRequest,
    cpuUsage: Math.round(w.cpuRequest * (0.2 + next())),
    memoryRequest: w.memoryRequest,
    memoryUsage: Math.round(w.memoryRequest * (0.2 + next())),
    gpus: 0,
  };
}

function workloadsOf(prefix: string, count: number, workspaces: (i: number) => string, next: () => number): Workload[] {
  return Array.from({ length: count }, (_, i) => ({
    workspaceId: workspaces(i),
    namespace: `ns-${i % 7}`,
    name: `${prefix}-${i}`,
    cpuRequest: 100 + Math.floor(next() * 1900),
    memoryRequest: (64 + Math.floor(next() * 4000)) * 2 ** 20,
  }));
}

/** Appends `samples` of one cluster, up to `appendBatch` events per append (the collector appends one; batches only make the fill quicker). */
async function appendSamples(log: EventLog, clusterId: string, samples: Sample[]): Promise<void> {
  // Within the log's 1 MiB per append.
  const batch = Math.max(1, Math.min(SIZES.appendBatch, Math.floor(900_000 / JSON.stringify(samples[0] ?? {}).length)));
  for (let i = 0; i < samples.length; i += batch) {
    const events: DomainEvent[] = samples.slice(i, i + batch).map((data) => ({ type: 'UsageSampled', data }));
    await log.append(usageStream(clusterId), events);
  }
}

/** The ingest log: one-minute samples of `ingestClusters` clusters, `rows` workloads each, `ingestEvents` in all. */
async function fillIngest(log: EventLog, rows: number): Promise<number> {
  const next = random(7);
  const clusters = SIZES.ingestClusters;
  const minutes = Math.ceil(SIZES.ingestEvents / clusters);
  let events = 0;
  for (let c = 0; c < clusters; c++) {
    const clusterId = `ingest-${c}`;
    await log.append(pricingStream(clusterId), [{ type: 'PriceBookSet', data: { clusterId, effectiveFrom: iso(START), currency: 'USD', cpuCoreHour: '0.031611', memoryGiBHour: '0.004237', gpuHour: null } }]);
    events++;
    const workloads = workloadsOf(`app-${c}`, rows, (i) => `ingest-ws-${(c * rows + i) % 50}`, next);
    const count = Math.min(minutes, SIZES.ingestEvents - c * minutes);
    const samples: Sample[] = [];
    for (let m = 0; m < count; m++) {
      samples.push({ clusterId, start: iso(START + m * 60_000), end: iso(START + (m + 1) * 60_000), capacity: { cpu: 64_000, memory: 256 * 2 ** 30, gpus: 0 }, rows: workloads.map((w) => usageRow(w, next)) });
    }
    await appendSamples(log, clusterId, samples);
    events += samples.length;
  }
  return events;
}

/** The query data: the workspace `bench-target` with 1,000 workloads over 4 clusters and 9 others with 100 each, sampled hourly for 30 days. */
async function fillQuery(log: EventLog): Promise<number> {
  const next = random(11);
  let events = 0;
  for (let c = 0; c < SIZES.queryClusters; c++) {
    const clusterId = `query-${c}`;
    const perCluster = SIZES.queryWorkloads / SIZES.queryClusters;
    const workloads = [
      ...workloadsOf(`target-${c}`, perCluster, () => 'bench-target', next),
      ...workloadsOf(`other-${c}`, (SIZES.otherWorkspaces * SIZES.otherWorkloads) / SIZES.queryClusters, (i) => `bench-other-${i % SIZES.otherWorkspaces}`, next),
    ];
    const samples: Sample[] = [];
    for (let h = 0; h < SIZES.queryDays * 24; h++) {
      samples.push({ clusterId, start: iso(START + h * 3_600_000), end: iso(START + (h + 1) * 3_600_000), capacity: { cpu: 2_000_000, memory: 8 * 2 ** 40, gpus: 0 }, rows: workloads.map((w) => usageRow(w, next)) });
    }
    await appendSamples(log, clusterId, samples);
    events += samples.length;
  }
  return events;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

interface IngestFigures {
  rows: number;
  events: number;
  /** events/s of each timed rebuild. */
  rebuilds: number[];
  /** events/s of each timed catch-up read of the same events. */
  reads: number[];
}

interface Measured {
  store: StoreId;
  status: 'measured';
  ingest: IngestFigures[];
  queryEvents: number;
  query: { p50: number; p99: number; max: number };
  baseline: { p50: number; p99: number; max: number };
  seconds: number;
}
type Result = Measured | { store: StoreId; status: 'not-measured' | 'failed'; reason: string };

/** The log's own catch-up read of the cost streams, every event iterated: what no projector can beat. */
async function timedRead(store: EventStore, events: number): Promise<number> {
  const started = performance.now();
  let seen = 0;
  const subscription = store.subscribeToAll({ filter: costStreams });
  for await (const message of subscription) {
    if (message.kind === 'event') seen++;
    else if (message.kind === 'caught-up') break;
  }
  await subscription.close();
  if (seen !== events) throw new Error(`read ${seen} events, expected ${events}`);
  return events / ((performance.now() - started) / 1000);
}

async function timeQueries(run: () => Promise<unknown>, count: number = SIZES.queryTimed, warmup: number = SIZES.queryWarmup): Promise<{ p50: number; p99: number; max: number }> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1)! };
}

interface Backend {
  store: EventStore;
  db: ReadModelDb;
  close(): Promise<void>;
}

/** A log and a read-model database of their own: a fresh schema on PostgreSQL, an in-memory PGlite otherwise. */
async function openBackend(storeId: StoreId, url: string | undefined): Promise<Backend> {
  if (storeId === 'pglite') {
    const [store, db] = await Promise.all([openPgliteEventStore(), openReadModelDb({ kind: 'pglite' })]);
    return { store, db, close: async () => (await db.close(), await store.close()) };
  }
  const schema = await freshSchema(url!, 'bcost');
  const store = await openPostgresEventStore(url!, { schema: schema.name });
  const db = await openReadModelDb({ kind: 'postgres', url: url!, schemaPrefix: `${schema.name}_` });
  return {
    store,
    db,
    async close() {
      const schemas = await db.query<{ schema_name: string }>(`SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, $1)`, [`${schema.name}_`]);
      for (const { schema_name: name } of schemas) await db.exec(`DROP SCHEMA "${name}" CASCADE`);
      await db.close();
      await store.close();
      await schema.drop();
    },
  };
}

async function measureIngest(storeId: StoreId, { store, db }: Backend, rows: number): Promise<IngestFigures> {
  const log = new EventLog(store, canopyEventRegistry());
  console.log(`[${storeId}] filling the log: ${SIZES.ingestEvents} usage events of ${rows} rows`);
  const events = await fillIngest(log, rows);
  const reads: number[] = [];
  for (let i = 0; i < SIZES.runs; i++) reads.push(await timedRead(store, events));
  const runner = new ProjectionRunner({ store, db, projectors: [costProjector] });
  await runner.start();
  try {
    if (!(await runner.waitFor(['cost'], (await store.headPosition())!, 600_000))) throw new Error('the cost read model did not catch up');
    const rebuilds: number[] = [];
    for (let i = 0; i < SIZES.runs; i++) {
      const [result] = await runner.rebuild('cost');
      rebuilds.push(result!.events / (result!.elapsedMs / 1000));
      console.log(`[${storeId}] ${rows} rows/event, rebuild ${i + 1}: ${Math.round(rebuilds.at(-1)!)} events/s (log read: ${Math.round(reads[i]!)} events/s)`);
    }
    return { rows, events, rebuilds, reads };
  } finally {
    await runner.stop();
  }
}

async function measureQuery(storeId: StoreId, { store, db }: Backend): Promise<Pick<Measured, 'queryEvents' | 'query' | 'baseline'>> {
  console.log(`[${storeId}] filling the query data`);
  const queryEvents = await fillQuery(new EventLog(store, canopyEventRegistry()));
  const runner = new ProjectionRunner({ store, db, projectors: [costProjector] });
  await runner.start();
  try {
    if (!(await runner.waitFor(['cost'], (await store.headPosition())!, 600_000))) throw new Error('the cost read model did not catch up with the query data');
    const schema = runner.activeSchema('cost');
    await db.exec(`ANALYZE ${schema}.workspace_daily; ANALYZE ${schema}.workload_daily;`);
    const period = { workspaceId: 'bench-target', from: iso(START).slice(0, 10), to: iso(START + SIZES.queryDays * 86_400_000).slice(0, 10) };
    const expected = await dailyCost(db, schema, period);
    if (expected.length !== SIZES.queryDays) throw new Error(`the daily cost has ${expected.length} days, expected ${SIZES.queryDays}`);
    const baselineSql = `SELECT to_char(day, 'YYYY-MM-DD') AS day, currency, sum(cpu_cost + memory_cost + gpu_cost + idle_cost)::text AS total
         FROM ${schema}.workload_daily WHERE workspace_id = $1 AND day >= $2::date AND day < $3::date GROUP BY day, currency ORDER BY day, currency`;
    const baselineRows = await db.query<{ total: string }>(baselineSql, [period.workspaceId, period.from, period.to]);
    if (baselineRows.length !== SIZES.queryDays) throw new Error('the baseline query answers another number of days');
    const query = await timeQueries(() => dailyCost(db, schema, period));
    const baseline = await timeQueries(() => db.query(baselineSql, [period.workspaceId, period.from, period.to]), SIZES.baselineTimed, SIZES.baselineWarmup);
    console.log(`[${storeId}] 30-day daily cost: p50 ${query.p50.toFixed(2)} ms, p99 ${query.p99.toFixed(2)} ms (from workload_daily: ${baseline.p50.toFixed(2)} / ${baseline.p99.toFixed(2)} ms)`);
    return { queryEvents, query, baseline };
  } finally {
    await runner.stop();
  }
}

/** Each ingest shape and the query, each on a backend of its own. */
async function measure(storeId: StoreId, url: string | undefined): Promise<Result> {
  const started = performance.now();
  const run = async <T>(step: (backend: Backend) => Promise<T>): Promise<T> => {
    const backend = await openBackend(storeId, url);
    try {
      return await step(backend);
    } finally {
      await backend.close().catch(() => {});
    }
  };
  try {
    const ingest: IngestFigures[] = [];
    for (const rows of SIZES.rowShapes) ingest.push(await run((backend) => measureIngest(storeId, backend, rows)));
    const query = process.argv.includes('--ingest-only')
      ? { queryEvents: 0, query: { p50: NaN, p99: NaN, max: NaN }, baseline: { p50: NaN, p99: NaN, max: NaN } }
      : await run((backend) => measureQuery(storeId, backend));
    return { store: storeId, status: 'measured', ingest, ...query, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    console.error(error);
    return { store: storeId, status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

const SECTION_START = '<!-- bench:cost:start -->';
const SECTION_END = '<!-- bench:cost:end -->';
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);
const TARGET_INGEST = 20_000;
const TARGET_P99_MS = 50;

function section(results: Result[], m: Machine, url: string | undefined, seconds: number): string {
  const md: string[] = [
    SECTION_START,
    '## Cost',
    '',
    '_Generated by `projections/cost/bench/cost.ts`; do not edit by hand — re-run instead (`npm run bench -w @canopy/cost` after `npm run build -w @canopy/cost`; PostgreSQL from `CANOPY_TEST_POSTGRES_URL`)._',
    '',
    `- Date: ${new Date().toISOString()} (took ${Math.round(seconds)} s)`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} memory; ${m.os}; Node ${m.node}; PostgreSQL server: ${m.postgres}${url ? ` at \`${redact(url)}\`` : ''}; @electric-sql/pglite ${packageVersion('@electric-sql/pglite')}, pg ${packageVersion('pg')}`,
    `- Ingest: per shape, a log of ${int(SIZES.ingestEvents)} \`UsageSampled\` events (one-minute samples of ${SIZES.ingestClusters} clusters, the shape's number of workload rows each, and a price book per cluster), appended through \`EventLog.append\`; \`cost\` rebuilt from zero by \`ProjectionRunner.rebuild\` (2,000-event batches), ${SIZES.runs} timed runs, median. Beside it, the log's own catch-up read of the same events (a subscription to the cost streams, every event iterated): what no projector can beat. Rows/s counts workload rows (one workload's usage over one interval).`,
    `- Query: \`dailyCost\` over 30 days for a workspace with ${int(SIZES.queryWorkloads)} workloads on ${SIZES.queryClusters} clusters, sampled hourly (${SIZES.otherWorkspaces} other workspaces with ${SIZES.otherWorkloads} workloads each on the same clusters), ${int(SIZES.queryTimed)} sequential queries after ${SIZES.queryWarmup} untimed ones. Baseline: the same days summed from \`workload_daily\` (${int(SIZES.queryWorkloads)} rows per day; ${SIZES.baselineTimed} queries after ${SIZES.baselineWarmup}), which is what the per-workspace roll-up saves.`,
    '',
    '### Ingest',
    '',
    '| store | rows per event | ingest events/s | rows/s | runs (events/s) | log read events/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const name = (store: StoreId) => (store === 'pglite' ? 'embedded PGlite' : 'PostgreSQL');
  for (const r of results) {
    if (r.status !== 'measured') {
      md.push(`| ${name(r.store)} | ${r.status}: ${r.reason.replace(/\|/g, '\\|')} | | | | |`);
      continue;
    }
    for (const shape of r.ingest) {
      const events = median(shape.rebuilds);
      md.push(`| ${name(r.store)} | ${shape.rows} | **${int(events)}** | ${int(events * shape.rows)} | ${shape.rebuilds.map(int).join(' / ')} | ${int(median(shape.reads))} |`);
    }
  }
  md.push('', '### 30-day daily cost of a workspace with 1,000 workloads', '', '| store | p50 / p99 (max) | from `workload_daily`: p50 / p99 |', '| --- | ---: | ---: |');
  for (const r of results) {
    if (r.status === 'measured') md.push(`| ${name(r.store)} | ${ms(r.query.p50)} / **${ms(r.query.p99)} ms** (${ms(r.query.max)}) | ${ms(r.baseline.p50)} / ${ms(r.baseline.p99)} ms |`);
  }
  md.push('', '### Targets', '', '| target | measured | result |', '| --- | ---: | --- |');
  const postgres = results.find((r): r is Measured => r.store === 'postgres' && r.status === 'measured');
  if (postgres) {
    for (const shape of postgres.ingest) {
      const events = median(shape.rebuilds);
      md.push(`| usage events ingested ≥ ${int(TARGET_INGEST)}/s on PostgreSQL, ${shape.rows} row${shape.rows === 1 ? '' : 's'} per event | ${int(events)} | ${events >= TARGET_INGEST ? 'PASS' : 'FAIL'} |`);
    }
    md.push(`| 30-day daily cost p99 < ${TARGET_P99_MS} ms on PostgreSQL | ${ms(postgres.query.p99)} ms | ${postgres.query.p99 < TARGET_P99_MS ? 'PASS' : 'FAIL'} |`);
  } else md.push('| on PostgreSQL | not measured | — |');
  md.push('', SECTION_END);
  return md.join('\n');
}

function writeSection(file: string, text: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = current.indexOf(SECTION_START);
  const end = current.indexOf(SECTION_END);
  const next = start >= 0 && end > start ? current.slice(0, start) + text + current.slice(end + SECTION_END.length) : `${current.replace(/\n*$/, '\n\n')}${text}\n`;
  writeFileSync(file, next);
}

async function main(): Promise<void> {
  const started = performance.now();
  const url = process.env['CANOPY_TEST_POSTGRES_URL'] || undefined;
  const probe = url ? await probePostgres(url) : undefined;
  const only = process.argv.includes('--store') ? (process.argv[process.argv.indexOf('--store') + 1] as StoreId) : undefined;
  const results: Result[] = [];
  if (!only || only === 'pglite') results.push(await measure('pglite', undefined));
  if (!only || only === 'postgres') {
    if (!url) results.push({ store: 'postgres', status: 'not-measured', reason: 'CANOPY_TEST_POSTGRES_URL is not set' });
    else if (!probe?.ok) results.push({ store: 'postgres', status: 'not-measured', reason: `no server answered: ${probe?.reason}` });
    else results.push(await measure('postgres', url));
  }
  const text = section(results, machine(probe?.ok ? probe.version : 'not used'), url, (performance.now() - started) / 1000);
  console.log(`\n${text}`);
  if (!process.argv.includes('--no-write')) {
    const file = join(repoRoot(), 'BENCHMARKS.md');
    writeSection(file, text);
    console.log(`\nWrote the Cost section of ${file}`);
  }
}

await main();
