/**
 * `npm run bench` (after the mutation benchmark): the gateway's read path and
 * its subscription fan-out, on the embedded store or on PostgreSQL.
 *
 * 1. A dashboard page (50 workspaces with members, budget, quotas, counts and
 *    the caller's permissions) at 50 connections for a fixed time, through
 *    the real gateway (composition, limits, rate limiting, metrics: what
 *    `npm start` runs) and through a plain `@apollo/server` serving the same
 *    subgraph schema with the same resolvers and read models, no
 *    composition. Each side runs in a child process of its own, on the same
 *    data, in alternating rounds; the report shows medians.
 * 2. One event to 1,000 graphql-ws subscribers of `workspaceEvents`: the
 *    delay from sending the mutation to each subscriber receiving its event.
 *
 * Environment: CANOPY_BENCH_STORE (pglite, or postgres: on CANOPY_BENCH_POSTGRES_URL),
 * CANOPY_BENCH_DURATION_S (10), CANOPY_BENCH_ROUNDS (3),
 * CANOPY_BENCH_CONNECTIONS (50), CANOPY_BENCH_SUBSCRIBERS (1000),
 * CANOPY_BENCH_EVENTS (20). `--no-write` leaves BENCHMARKS.md alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import autocannon from 'autocannon';
import { createClient, type Client } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { buildWorkspacesSubgraph } from '@canopy/workspaces';
import { createAuthenticator, mintToken, resolveAuthConfig } from '../auth/index.js';
import { loadConfig, startGateway } from '../index.js';
import { openWorkspacesBackend } from '../workspaces-backend.js';
import { graphqlClient, median, percentile, type GraphQLClient } from './client.js';
import { machine, positiveInt, postgresUrl, repoRoot } from './config.js';
import { writeSection } from './report.js';
import { stopChild } from './child.js';

const SCRIPT = fileURLToPath(import.meta.url);
const ISSUER = 'canopy';
const AUDIENCE = 'canopy';
const OWNER = 'bench-owner';
const WORKSPACES = 50;
const TARGET_RATIO = 0.7;
const TARGET_FANOUT_P99_MS = 100;


const sizes = {
  durationS: positiveInt('CANOPY_BENCH_DURATION_S', 10),
  rounds: positiveInt('CANOPY_BENCH_ROUNDS', 3),
  connections: positiveInt('CANOPY_BENCH_CONNECTIONS', 50),
  subscribers: positiveInt('CANOPY_BENCH_SUBSCRIBERS', 1000),
  events: positiveInt('CANOPY_BENCH_EVENTS', 20),
};

export const DASHBOARD = `query Dashboard($organizationId: ID) {
  workspaces(organizationId: $organizationId, first: 100) {
    nodes {
      id name kind memberCount clusterCount namespaceCount
      members { nodes { userId role source } }
      budget { cpu memory }
      quotas { nodes { namespace clusterId cpu memory } }
      myPermissions { role canGovern }
    }
  }
}`;

const log = (line: string) => console.error(`[gateway-reads] ${line}`);

type Side = 'gateway' | 'plain';
type Start = { side: Side; env: Record<string, string> };

// ---------- child: one server ----------

async function serve(start: Start): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const config = loadConfig(start.env);
  if (start.side === 'gateway') {
    const gateway = await startGateway(config, pino({ level: 'warn' }));
    return { endpoint: `${gateway.url}/graphql`, stop: () => gateway.stop() };
  }
  // The same resolvers and read models, served by Apollo Server alone: no composition, no limits, no metrics.
  const logger = pino({ level: 'warn' });
  const backend = await openWorkspacesBackend(config, logger);
  const authenticator = createAuthenticator(await resolveAuthConfig(config.auth));
  const server = new ApolloServer({ schema: await buildWorkspacesSubgraph(), plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => {
      const caller = await authenticator.authenticate(req.headers.authorization);
      return backend.contextFor({ caller: { userId: caller.userId }, correlationId: randomUUID(), readAfter: undefined, authorization: req.headers.authorization ?? '' });
    },
  });
  return {
    endpoint: url,
    async stop() {
      await server.stop();
      await backend.close();
    },
  };
}

function childMain(): void {
  process.once('message', (start: Start) => {
    serve(start).then(
      (running) => {
        process.send!({ kind: 'ready', endpoint: running.endpoint });
        process.once('message', () => void running.stop().then(() => process.exit(0)));
      },
      (error: unknown) => {
        process.send!({ kind: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        process.exit(1);
      },
    );
  });
}

// ---------- parent ----------

interface Child {
  endpoint: string;
  stop(): Promise<void>;
}

function startChild(start: Start): Promise<Child> {
  const child: ChildProcess = fork(SCRIPT, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: { kind: 'ready'; endpoint: string } | { kind: 'failed'; reason: string }) => {
      if (message.kind === 'failed') return reject(new Error(`the ${start.side} server did not start: ${message.reason}`));
      resolve({
        endpoint: message.endpoint,
        stop: () => stopChild(child, { kind: 'stop' }, 30_000),
      });
    });
    child.send(start);
  });
}

/** An organization of 50 workspaces (its default one and 49 projects), each project with a member, a namespace and its quota. */
async function seed(client: GraphQLClient): Promise<string> {
  const { createOrganization } = await client.request<{ createOrganization: { organizationId: string } }>('mutation { createOrganization(name: "bench", kind: TEAM) { organizationId } }', {});
  const organizationId = createOrganization.organizationId;
  for (let i = 0; i < WORKSPACES - 1; i++) {
    const { createWorkspace } = await client.request<{ createWorkspace: { workspaceId: string; version: number } }>(
      'mutation ($org: ID!, $name: String!) { createWorkspace(organizationId: $org, name: $name, kind: PROJECT) { workspaceId version } }',
      { org: organizationId, name: `project-${i}` },
    );
    const w = createWorkspace.workspaceId;
    let v = createWorkspace.version;
    v = (await client.request<{ addMember: { version: number } }>('mutation ($w: ID!, $v: Int!, $u: String!) { addMember(workspaceId: $w, expectedVersion: $v, userId: $u, role: MEMBER) { version } }', { w, v, u: `member-${i}` })).addMember.version;
    v = (await client.request<{ addNamespace: { version: number } }>('mutation ($w: ID!, $v: Int!, $ns: String!) { addNamespace(workspaceId: $w, expectedVersion: $v, namespace: $ns) { version } }', { w, v, ns: `team-${i}` })).addNamespace.version;
    await client.request('mutation ($w: ID!, $v: Int!, $ns: String!) { setNamespaceQuota(workspaceId: $w, expectedVersion: $v, namespace: $ns, cpu: "2", memory: "4Gi") { version } }', { w, v, ns: `team-${i}` });
  }
  return organizationId;
}

interface LoadFigures {
  side: Side;
  requestsPerSecond: number;
  p50: number;
  p99: number;
}

async function load(side: Side, env: Record<string, string>, token: string, organizationId: string): Promise<LoadFigures> {
  const child = await startChild({ side, env });
  try {
    const body = JSON.stringify({ query: DASHBOARD, variables: { organizationId } });
    // Every answer must be the full page: a server that answers errors fast would win otherwise.
    const page = await graphqlClient(child.endpoint, token).request<{ workspaces: { nodes: unknown[] } }>(DASHBOARD, { organizationId });
    if (page.workspaces.nodes.length !== WORKSPACES) throw new Error(`the ${side} server answered ${page.workspaces.nodes.length} workspaces, not ${WORKSPACES}`);
    // A generous timeout: on the embedded store 50 connections queue for seconds, and a request counted as an error would be no figure.
    const options = { url: child.endpoint, connections: sizes.connections, timeout: 60, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body };
    await autocannon({ ...options, duration: 3 });
    const result = await autocannon({ ...options, duration: sizes.durationS });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`the ${side} server failed ${result.non2xx} requests (non-2xx) and ${result.errors} (errors) under load`);
    return { side, requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
  } finally {
    await child.stop();
  }
}

interface Delays {
  p50: number;
  p99: number;
  max: number;
}

interface FanOut {
  subscribers: number;
  events: number;
  deliveries: number;
  /** From the event's insert into the log (its recordedAt, set by the database) to each delivery. */
  fromAppend: Delays;
  /** From sending the mutation (the command's own work included) to each delivery. */
  fromMutation: Delays;
}

function delays(values: number[]): Delays {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}

/** Milliseconds on the wall clock (comparable with a database timestamp on the same machine), sub-millisecond precise. */
const wallNow = () => performance.timeOrigin + performance.now();

/** `subscribers` graphql-ws clients on one workspace's events; `events` mutations one after another; the delay of every delivery. */
async function fanOut(env: Record<string, string>, token: string): Promise<FanOut> {
  const child = await startChild({ side: 'gateway', env });
  const clients: Client[] = [];
  try {
    const client = graphqlClient(child.endpoint, token);
    const { createOrganization } = await client.request<{ createOrganization: { organizationId: string } }>('mutation { createOrganization(name: "fan-out", kind: TEAM) { organizationId } }', {});
    const { createWorkspace } = await client.request<{ createWorkspace: { workspaceId: string; version: number } }>(
      'mutation ($org: ID!) { createWorkspace(organizationId: $org, name: "watched", kind: PROJECT) { workspaceId version } }',
      { org: createOrganization.organizationId },
    );
    const workspaceId = createWorkspace.workspaceId;
    let version = createWorkspace.version;
    const received = new Map<string, number[]>();
    const recordedAt = new Map<string, number>();
    const url = child.endpoint.replace(/^http/, 'ws');
    for (let i = 0; i < sizes.subscribers; i++) {
      let connected!: () => void;
      const acknowledged = new Promise<void>((resolve) => (connected = resolve));
      const ws = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false, on: { connected } });
      clients.push(ws);
      ws.subscribe<{ workspaceEvents: { recordedAt: string; data: { namespace?: string } } }>(
        { query: 'subscription ($w: ID!) { workspaceEvents(workspaceId: $w) { revision type recordedAt data } }', variables: { w: workspaceId } },
        {
          next: (result) => {
            const at = wallNow();
            const event = result.data?.workspaceEvents;
            const revision = event?.data.namespace;
            if (revision === undefined) return;
            let times = received.get(revision);
            if (!times) received.set(revision, (times = []));
            times.push(at);
            if (!recordedAt.has(revision)) recordedAt.set(revision, Date.parse(event!.recordedAt));
          },
          error: (error) => log(`a subscriber failed: ${JSON.stringify(error).slice(0, 200)}`),
          complete: () => {},
        },
      );
      // Connect in groups of 50, as clients arriving over time would: a thousand handshakes at once would outlast graphql-ws's 3 s init timeout on 2 cores.
      if (i % 50 === 49) await acknowledged;
    }
    /** Adds namespace `fan-<i>`; its event is known to the subscribers by that name. */
    const change = async (i: number): Promise<string> => {
      const answer = await client.request<{ addNamespace: { version: number } }>(
        'mutation ($w: ID!, $v: Int!, $ns: String!) { addNamespace(workspaceId: $w, expectedVersion: $v, namespace: $ns) { version } }',
        { w: workspaceId, v: version, ns: `fan-${i}` },
      );
      version = answer.addNamespace.version;
      return `fan-${i}`;
    };
    const allReceived = async (revision: string, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs;
      while ((received.get(revision)?.length ?? 0) < sizes.subscribers) {
        if (performance.now() > deadline) throw new Error(`${received.get(revision)?.length ?? 0} of ${sizes.subscribers} subscribers got the event adding ${revision} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    // Every subscriber listens once the warm-up events reach all of them.
    for (let attempt = 0; ; attempt++) {
      const revision = await change(1000 + attempt);
      try {
        await allReceived(revision, 5_000);
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
    await change(2000);
    const fromMutation: number[] = [];
    const fromAppend: number[] = [];
    for (let i = 0; i < sizes.events; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const sent = wallNow();
      const revision = await change(i);
      await allReceived(revision, 10_000);
      for (const at of received.get(revision)!) {
        fromMutation.push(at - sent);
        fromAppend.push(at - recordedAt.get(revision)!);
      }
    }
    return { subscribers: sizes.subscribers, events: sizes.events, deliveries: fromMutation.length, fromAppend: delays(fromAppend), fromMutation: delays(fromMutation) };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await child.stop();
  }
}

function report(rounds: LoadFigures[], fan: FanOut): { text: string; markdown: string; failed: boolean } {
  const of = (side: Side) => rounds.filter((r) => r.side === side);
  const med = (side: Side, key: 'requestsPerSecond' | 'p50' | 'p99') => median(of(side).map((r) => r[key]));
  const ratio = med('gateway', 'requestsPerSecond') / med('plain', 'requestsPerSecond');
  const readPass = ratio >= TARGET_RATIO;
  const fanPass = fan.fromAppend.p99 < TARGET_FANOUT_P99_MS;
  const m = machine('not used');
  const rows = (['gateway', 'plain'] as const).map(
    (side) =>
      `| ${side === 'gateway' ? 'Canopy gateway (composed, limits, metrics)' : 'plain @apollo/server, same resolvers'} | ${med(side, 'requestsPerSecond').toFixed(0)} | ${med(side, 'p50').toFixed(0)} | ${med(side, 'p99').toFixed(0)} | ${of(side)
        .map((r) => r.requestsPerSecond.toFixed(0))
        .join(', ')} |`,
  );
  const markdown = [
    MARKERS.start,
    `## Gateway: dashboard reads and subscription fan-out (${STORE_NAME})`,
    '',
    `\`node services/gateway/dist/bench/gateway.js\` — ${new Date().toISOString().slice(0, 10)}, ${m.cpu} (${m.cores} cores), Node ${m.node}, ${STORE_NAME}.`,
    '',
    `Dashboard page (${WORKSPACES} workspaces with members, budget, quotas, counts, permissions) at ${sizes.connections} connections, ${sizes.durationS} s per run after 3 s of warm-up, ${sizes.rounds} runs per side alternating (medians):`,
    '',
    '| server | req/s | p50 ms | p99 ms | req/s per run |',
    '|---|---:|---:|---:|---|',
    ...rows,
    '',
    `Gateway / plain: **${ratio.toFixed(2)}×** (target ≥ ${TARGET_RATIO}: ${readPass ? 'PASS' : 'FAIL'}).`,
    '',
    `Fan-out: one event to ${fan.subscribers} graphql-ws subscribers of \`workspaceEvents\` (all in one client process on the same 2 cores), ${fan.events} events 200 ms apart, ${fan.deliveries} deliveries:`,
    '',
    '| delay to each delivery | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|',
    `| from the event's insert into the log (its \`recordedAt\`) | **${fan.fromAppend.p50.toFixed(1)}** | **${fan.fromAppend.p99.toFixed(1)}** | ${fan.fromAppend.max.toFixed(1)} |`,
    `| from sending the mutation (the command's own work included) | ${fan.fromMutation.p50.toFixed(1)} | ${fan.fromMutation.p99.toFixed(1)} | ${fan.fromMutation.max.toFixed(1)} |`,
    '',
    `Target: delivery p99 < ${TARGET_FANOUT_P99_MS} ms from the append: ${fanPass ? 'PASS' : 'FAIL'}.`,
    MARKERS.end,
  ].join('\n');
  return { text: markdown.split('\n').slice(1, -1).join('\n'), markdown, failed: !readPass || !fanPass };
}

/** CANOPY_BENCH_STORE=postgres: the log, keys and read models on the PostgreSQL server (CANOPY_BENCH_POSTGRES_URL); default embedded PGlite. */
const store = process.env['CANOPY_BENCH_STORE'] === 'postgres' ? 'postgres' : 'pglite';
const STORE_NAME = store === 'postgres' ? 'PostgreSQL' : 'embedded PGlite';
const MARKERS = { start: `<!-- bench:gateway-reads-${store}:start -->`, end: `<!-- bench:gateway-reads-${store}:end -->` };

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'canopy-bench-reads-'));
  const secret = randomBytes(32).toString('base64url');
  const env = {
    CANOPY_DATA_DIR: dataDir,
    CANOPY_JWT_SECRET: secret,
    CANOPY_LOG_LEVEL: 'warn',
    PORT: '0',
    CANOPY_MODE: 'production',
    // Rate limiting is the gateway's to do, but a benchmark that measures throughput must not be refused.
    CANOPY_RATE_LIMIT_PER_MINUTE: '0',
    ...(store === 'postgres' ? { CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: postgresUrl(), CANOPY_POSTGRES_SCHEMA: `bench_reads_${Date.now().toString(36)}`, CANOPY_MASTER_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const token = await mintToken({ secret: new TextEncoder().encode(secret), issuer: ISSUER, audience: AUDIENCE, userId: OWNER, ttlSeconds: 3600 });
  try {
    log(`seeding ${WORKSPACES} workspaces`);
    const seeding = await startChild({ side: 'gateway', env });
    const organizationId = await seed(graphqlClient(seeding.endpoint, token));
    await seeding.stop();
    // The fan-out first: measured after a minute of 50 connections at full load, it would measure the machine recovering from them.
    log(`fan-out to ${sizes.subscribers} subscribers`);
    const fan = await fanOut(env, token);
    const rounds: LoadFigures[] = [];
    for (let round = 1; round <= sizes.rounds; round++) {
      for (const side of ['gateway', 'plain'] as const) {
        const figures = await load(side, env, token, organizationId);
        log(`round ${round} ${side}: ${figures.requestsPerSecond.toFixed(0)} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms`);
        rounds.push(figures);
      }
    }
    const result = report(rounds, fan);
    console.log(result.text);
    if (!process.argv.includes('--no-write')) writeSection(join(repoRoot(), 'BENCHMARKS.md'), result.markdown, MARKERS);
    process.exitCode = result.failed ? 1 : 0;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serve')) childMain();
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(2);
  });


