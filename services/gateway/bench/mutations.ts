/**
 * `npm run bench` (after the log benchmark): the mutation round trip over
 * HTTP — the real gateway appending one event per mutation and answering
 * with the workspace's version — beside a plain `@apollo/server` mutation
 * that INSERTs one row into the same database, on the embedded store
 * (PGlite) and on PostgreSQL. Prints the table and replaces its own section
 * of BENCHMARKS.md. With `--serve` it is a child process serving one side.
 *
 * Environment: CANOPY_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * CANOPY_BENCH_MUTATIONS (2000), CANOPY_BENCH_WARMUP (500), CANOPY_BENCH_ROUNDS (5),
 * CANOPY_BENCH_STORES (pglite,postgres), CANOPY_BENCH_LOG_LEVEL (info: the gateway's default),
 * CANOPY_BENCH_CPU_PROF=<dir> (each timed run of each server is CPU-profiled into <dir>, warm-up and start-up left out),
 * CANOPY_BENCH_TRACE=1 (the gateway reports its server-side and append times per run, on stderr).
 * `--no-write` leaves BENCHMARKS.md alone.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../auth/index.js';
import { figures, graphqlClient, percentile, timed, type GraphQLClient, type RunFigures } from './client.js';
import { NAMESPACES, machine, packageVersion, postgresUrl, redact, repoRoot, selectedStores, sizes, type Sizes, type StoreId } from './config.js';
import { freshSchema, probePostgres, type Probe } from '@canopy/eventstore/bench-kit';
import { consoleReport, failed, markdownSection, writeSection, type Report, type StoreResult } from './report.js';
import { serveMain, startServer, type ServerHandle, type Side, type Trace } from './servers.js';

const SCRIPT = fileURLToPath(import.meta.url);
const ISSUER = 'canopy';
const AUDIENCE = 'canopy';
const USER = 'bench-user';

const CREATE_ORGANIZATION = 'mutation ($name: String!) { createOrganization(name: $name, kind: TEAM) { organizationId } }';
const CREATE_WORKSPACE = 'mutation ($org: ID!, $name: String!) { createWorkspace(organizationId: $org, name: $name, kind: PROJECT) { workspaceId version } }';
const ADD_NAMESPACE = 'mutation ($w: ID!, $v: Int!, $ns: String!) { addNamespace(workspaceId: $w, expectedVersion: $v, namespace: $ns) { version } }';
const REMOVE_NAMESPACE = 'mutation ($w: ID!, $v: Int!, $ns: String!) { removeNamespace(workspaceId: $w, expectedVersion: $v, namespace: $ns) { version } }';

const RECORD = 'mutation ($name: String!) { record(name: $name) }';

const log = (line: string) => console.error(`[mutations] ${line}`);

/** One side's loop: `prepare` starts a run (fresh workspace), `step(i)` is one round trip. */
interface Loop {
  prepare(round: number): Promise<void>;
  step(i: number): Promise<void>;
}

/**
 * The gateway: one organization; per run a fresh workspace, then one namespace change per round trip with the
 * version the previous answer returned: addNamespace("ns-<i>") until the workspace holds NAMESPACES, then
 * removeNamespace of the oldest and addNamespace of the next in turn, so the workspace keeps a realistic size
 * (each round trip appends one event either way).
 */
async function subjectLoop(client: GraphQLClient): Promise<Loop> {
  const { createOrganization } = await client.request<{ createOrganization: { organizationId: string } }>(CREATE_ORGANIZATION, { name: 'bench' });
  let workspaceId = '';
  let version = 0;
  let sequence = 0;
  const namespaces: string[] = [];
  return {
    async prepare(round) {
      const { createWorkspace } = await client.request<{ createWorkspace: { workspaceId: string; version: number } }>(CREATE_WORKSPACE, { org: createOrganization.organizationId, name: `bench-${round}` });
      ({ workspaceId, version } = createWorkspace);
      namespaces.length = 0;
    },
    async step() {
      const adding = namespaces.length < NAMESPACES;
      const namespace = adding ? `ns-${sequence++}` : namespaces[0]!;
      const data = await client.request<Record<'addNamespace' | 'removeNamespace', { version: number } | undefined>>(adding ? ADD_NAMESPACE : REMOVE_NAMESPACE, { w: workspaceId, v: version, ns: namespace });
      const answered = (adding ? data.addNamespace : data.removeNamespace)?.version;
      if (answered !== version + 1) throw new Error(`${adding ? 'addNamespace' : 'removeNamespace'} answered version ${answered}; expected ${version + 1}`);
      version = answered;
      if (adding) namespaces.push(namespace);
      else namespaces.shift();
    },
  };
}

function baselineLoop(client: GraphQLClient): Loop {
  let sequence = 0;
  let last = 0;
  return {
    async prepare() {},
    async step() {
      const { record } = await client.request<{ record: number }>(RECORD, { name: `row-${sequence++}` });
      if (!(record > last)) throw new Error(`record answered id ${record} after ${last}`);
      last = record;
    },
  };
}

/** Measures one store: both servers up, their runs alternating. */
async function measureStore(store: StoreId, probe: Probe, url: string, size: Sizes): Promise<StoreResult> {
  if (store === 'postgres' && !probe.ok) return { store, status: 'not-measured', reason: `no PostgreSQL server answered at ${redact(url)} (${probe.reason})` };
  const start = performance.now();
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const jwtSecret = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      PORT: '0',
      CANOPY_EVENTSTORE: store,
      CANOPY_MASTER_KEY: randomBytes(32).toString('base64'),
      CANOPY_JWT_SECRET: jwtSecret,
      // One caller sends thousands of mutations a minute: the per-caller rate would measure the limiter, not the gateway.
      CANOPY_RATE_LIMIT_PER_MINUTE: '0',
    };
    const dataDir = await mkdtemp(join(tmpdir(), `canopy-bench-${store}-`));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    env['CANOPY_DATA_DIR'] = join(dataDir, 'gateway');
    let schema: string | undefined;
    if (store === 'postgres') {
      // Short: the read models' schemas are named after it (at most 27 characters).
      const fresh = await freshSchema(url, 'cbm');
      cleanups.push(() => fresh.drop());
      cleanups.push(() => dropReadModelSchemas(url, fresh.name));
      schema = fresh.name;
      env['CANOPY_POSTGRES_URL'] = url;
      env['CANOPY_POSTGRES_SCHEMA'] = schema;
    }

    const profileDir = process.env.CANOPY_BENCH_CPU_PROF ? resolve(process.env.CANOPY_BENCH_CPU_PROF) : undefined;
    if (profileDir) await mkdir(profileDir, { recursive: true });
    const trace = process.env.CANOPY_BENCH_TRACE === '1';
    const logLevel = process.env.CANOPY_BENCH_LOG_LEVEL || 'info';

    log(`${store}: starting the gateway and the baseline`);
    const subject = await startServer(SCRIPT, { side: 'subject', env, logLevel, trace });
    cleanups.push(() => subject.stop());
    const baseline = await startServer(
      SCRIPT,
      store === 'pglite' ? { side: 'baseline', store, dataDir: join(dataDir, 'baseline'), trace } : { side: 'baseline', store, postgresUrl: url, schema: schema!, trace },
    );
    cleanups.push(() => baseline.stop());
    const servers: Record<Side, ServerHandle> = { subject, baseline };

    const token = await mintToken({ secret: new TextEncoder().encode(jwtSecret), userId: USER, ttlSeconds: 3600, issuer: ISSUER, audience: AUDIENCE });
    const loops: Record<Side, Loop> = {
      subject: await subjectLoop(graphqlClient(servers.subject.endpoint, token)),
      baseline: baselineLoop(graphqlClient(servers.baseline.endpoint)),
    };
    const runs: Record<Side, RunFigures[]> = { subject: [], baseline: [] };
    for (let round = 1; round <= size.rounds; round++) {
      const order: Side[] = round % 2 === 1 ? ['subject', 'baseline'] : ['baseline', 'subject'];
      for (const side of order) {
        const loop = loops[side];
        await loop.prepare(round);
        await timed(size.warmup, (i) => loop.step(i));
        if (trace) await servers[side].trace(); // drop the warm-up's
        if (profileDir) await servers[side].profile({ kind: 'profile-start' });
        const run = figures(await timed(size.mutations, (i) => loop.step(i)));
        if (profileDir) await servers[side].profile({ kind: 'profile-stop', file: join(profileDir, `${side}-${store}-round${round}.cpuprofile`) });
        runs[side].push(run);
        log(`${store} round ${round} ${side}: p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, ${Math.round(run.perSecond)}/s`);
        if (trace) logTrace(await servers[side].trace(), size.mutations);
      }
    }
    return { store, status: 'measured', subject: runs.subject, baseline: runs.baseline, notes: { subject: servers.subject.notes, baseline: servers.baseline.notes }, seconds: (performance.now() - start) / 1000 };
  } catch (error) {
    log(`${store} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { store, status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
}

/** CANOPY_BENCH_TRACE=1: what the server measured inside itself during the run. */
function logTrace(t: Trace, mutations: number): void {
  const p = (values: number[], q: number) => percentile(values, q).toFixed(3);
  log(`  inside the server: request seen → response finished p50 ${p(t.server, 50)} ms (p99 ${p(t.server, 99)})`);
  if (t.append.length) log(`  store.append p50 ${p(t.append, 50)} ms (p99 ${p(t.append, 99)}; ${t.append.length} calls)`);
  for (const [kind, { count, ms }] of Object.entries(t.sql).sort((a, b) => b[1].ms - a[1].ms)) {
    log(`  SQL ${kind}: ${(count / mutations).toFixed(2)} per mutation, ${(ms / count).toFixed(3)} ms each (wall, queueing included)`);
  }
}

async function main(): Promise<number> {
  const start = performance.now();
  const date = new Date();
  const size = sizes();
  const url = postgresUrl();
  const stores = selectedStores();
  const probe = await probePostgres(url);
  if (probe.ok) log(`PostgreSQL: ${probe.version} at ${redact(url)}`);
  else log(`PostgreSQL: NOT MEASURED — no server answered at ${redact(url)} (${probe.reason}); the PostgreSQL rows are skipped.`);

  const results: StoreResult[] = [];
  for (const store of stores) results.push(await measureStore(store, probe, url, size));

  const report: Report = {
    date,
    seconds: (performance.now() - start) / 1000,
    machine: machine(probe.ok ? probe.version : 'none answered'),
    sizes: size,
    postgresUrl: url,
    versions: { '@apollo/server': packageVersion('@apollo/server'), '@electric-sql/pglite': packageVersion('@electric-sql/pglite'), pg: packageVersion('pg') },
    logLevel: process.env.CANOPY_BENCH_LOG_LEVEL || 'info',
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

if (process.argv.includes('--serve')) {
  serveMain();
} else {
  process.exitCode = await main();
}

/** The read models the gateway projected next to the log, in schemas named after it. */
async function dropReadModelSchemas(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${schema}\\_%`]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA ${pg.escapeIdentifier(nspname)} CASCADE`);
  } finally {
    await client.end();
  }
}
