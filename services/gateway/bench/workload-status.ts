/**
 * `npm run bench -- workload-status`: workload status changes delivered
 * through the gateway to graphql-ws subscribers of `workloadStatus`.
 *
 * The gateway runs in a child process of its own (`startGateway(loadConfig(env))`,
 * the built dist/, what `npm start` runs); in that same process, where the
 * workload watcher runs in a deployment, a stand-in for the watcher offers a
 * fixed rate of status changes for a fixed window: each change a pod
 * observation turned into its event by the watcher's own code
 * (`statusOf`, `WorkloadChanges`), appended as the watcher appends — every
 * 20 ms, one append per workspace per tick (≤ 500 events), a workspace whose
 * append is still running skipping the tick. The benchmark process is the
 * clients: every subscriber its own user (a member of its workspace), its
 * own graphql-ws connection. For every delivery: the delay from the event's
 * insert into the log (its recorded time) to its arrival.
 *
 * Environment: CANOPY_BENCH_STORE (pglite, or postgres: on CANOPY_BENCH_POSTGRES_URL),
 * CANOPY_BENCH_DURATION_S (10), CANOPY_BENCH_RATE (10000), CANOPY_BENCH_SCENARIOS
 * (names, comma-separated; default all), CANOPY_BENCH_CPU_PROF (a directory: the
 * gateway's CPU profile of each timed window; with CANOPY_BENCH_HEAP_PROF=1 its allocation
 * profile instead), CANOPY_BENCH_WATCHER (`process`: the
 * watcher's stand-in in a process of its own, whose CPU the figures leave out),
 * CANOPY_BENCH_TIMELINE_MS (a slice length: the delays of each slice of the
 * window, printed). `--no-write` leaves BENCHMARKS.md alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import { pino } from 'pino';
import WebSocket from 'ws';
import { EventLog, openEventStore, SqlEventStore, type DomainEvent, type EventStore, type RecordedEvent } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import { statusOf, WATCHER_ACTOR, WORKLOADS_PREFIX, WorkloadChanges, workloadsStream, type KubeObject } from '@canopy/workloads';
import { mintToken } from '../auth/index.js';
import { loadConfig, startGateway, type RunningGateway } from '../index.js';
import { graphqlClient, percentile, type GraphQLClient } from './client.js';
import { machine, positiveInt, postgresUrl, repoRoot } from './config.js';
import { EventHub } from '../subscriptions/hub.js';
import { writeSection } from './report.js';
import { stopChild } from './child.js';
import { cpuBetween, cpuOfProcesses, isLocalServer } from './server-cpu.js';
import { SERVER_NODE_ENV, SERVER_NODE_FLAGS } from '../node-flags.js';

const SCRIPT = fileURLToPath(import.meta.url);
const ISSUER = 'canopy';
const AUDIENCE = 'canopy';
const OWNER = 'bench-owner';
const TARGET_P99_MS = 100;
/** The watcher's defaults: its flush tick, and the most events one append holds. */
const TICK_MS = 20;
const MAX_EVENTS_PER_APPEND = 500;
/** Pods per workspace the changes rotate over (a change per pod per tick at most, so changes rarely coalesce). */
const PODS = 200;

const sizes = { seconds: positiveInt('CANOPY_BENCH_DURATION_S', 10), rate: positiveInt('CANOPY_BENCH_RATE', 10_000) };

interface Scenario {
  name: string;
  workspaces: number;
  perWorkspace: number;
  rate: number;
  what: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'spread', workspaces: 500, perWorkspace: 1, rate: sizes.rate, what: 'each dashboard watching its own workspace: a change reaches one subscriber' },
  { name: 'shared', workspaces: 100, perWorkspace: 5, rate: sizes.rate, what: 'five dashboards per workspace: a change reaches five subscribers' },
  { name: 'half', workspaces: 500, perWorkspace: 1, rate: Math.round(sizes.rate / 2), what: 'the same subscribers at half the rate' },
  { name: 'light', workspaces: 500, perWorkspace: 1, rate: 1_000, what: 'the same subscribers at a tenth of the rate: the delivery path unloaded, for comparison' },
];

export const SUBSCRIPTION = `subscription ($w: ID!) {
  workloadStatus(workspaceId: $w) {
    cursor change clusterId namespace kind name status previousStatus
    replicas { desired ready available updated }
    reason message observedAt
  }
}`;

const log = (line: string) => console.error(`[workload-status] ${line}`);
const wallNow = () => performance.timeOrigin + performance.now();

// ---------- child: the gateway, and the watcher's stand-in ----------

type ToChild = { kind: 'start'; env: Record<string, string> } | { kind: 'offer'; workspaces: string[]; rate: number; seconds: number; profile?: string } | { kind: 'recorded'; after: string } | { kind: 'settle' } | { kind: 'cpu' } | { kind: 'stop' };

interface Offered {
  kind: 'offered';
  /** Changes observed (offered), events appended, appends, in the window (the appends it started). */
  changes: number;
  events: number;
  appends: number;
  appendP50: number;
  appendP99: number;
  /** Ticks on which a workspace had changes but its append was still running. */
  skipped: number;
  seconds: number;
  /** Events whose append ended within the window, and how long after the window the rest took to append. */
  eventsInWindow: number;
  drainSeconds: number;
  /** The log's head before the window: the window's events are after it. */
  after: string;
  /** The log's page reads (its subscriptions' polls: the hub's and the projections') in the window, their wall time (pool wait included), and the batches its subscriptions took from this process's own appends without reading. */
  pageReads: { count: number; events: number; p50: number; p99: number };
  /** From each workload event's insert into the log to the hub handing it to its listeners (the process's one log subscription). */
  toHub: { p50: number; p99: number };
  ownBatches: number;
  /** The gateway's subscription figures after the window. */
  stats: ReturnType<RunningGateway['subscriptions']['stats']>;
}

function pod(name: string, restarts: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'apps', uid: name, resourceVersion: String(restarts), labels: { app: 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'web:1' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: [{ name: 'main', ready: false, restartCount: restarts, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container=main' } } }],
    },
  } as KubeObject;
}

/**
 * The watcher's tick, without the clusters: `rate` changes/s observed
 * across the workspaces in turn (each a pod's restart count it has not had,
 * so each is a status change), turned into events by `WorkloadChanges` and
 * appended per workspace per tick as `startWorkloadWatcher` does.
 */
async function offer(gateway: RunningGateway, message: Extract<ToChild, { kind: 'offer' }>): Promise<Offered> {
  if (process.env['CANOPY_BENCH_WATCHER'] === 'process') return offerFromWatcherProcess(gateway, message);
  return { ...(await offerOn(gateway.store!, message)), stats: gateway.subscriptions.stats() };
}

/**
 * CANOPY_BENCH_WATCHER=process: the watcher's stand-in in a process of its
 * own, on its own connection to the log, as the process that leads the
 * cluster work would be; the gateway takes its events from the log after
 * each notification. The log's figures are the gateway's.
 */
async function offerFromWatcherProcess(gateway: RunningGateway, message: Extract<ToChild, { kind: 'offer' }>): Promise<Offered> {
  const watcher = fork(SCRIPT, ['--watch'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS] });
  logReads.reset();
  const answer = await new Promise<Offered | { kind: 'failed'; reason: string }>((resolve) => {
    watcher.once('message', (reply: Offered | { kind: 'failed'; reason: string }) => resolve(reply));
    watcher.send({ ...message, profile: undefined, env: startEnv });
  });
  await stopChild(watcher, { kind: 'stop' } satisfies ToChild, 30_000);
  if (answer.kind === 'failed') throw new Error(`the watcher process failed: ${answer.reason}`);
  return {
    ...answer,
    pageReads: { count: logReads.pages.length, events: logReads.events, p50: percentile(logReads.pages, 50), p99: percentile(logReads.pages, 99) },
    ownBatches: logReads.ownBatches,
    toHub: { p50: percentile(logReads.toHub, 50), p99: percentile(logReads.toHub, 99) },
    stats: gateway.subscriptions.stats(),
  };
}

/** The gateway's environment, for a watcher process to open the same log. */
let startEnv: Record<string, string> = {};

function watcherMain(): void {
  process.on('message', (message: ToChild & { env?: Record<string, string> }) => {
    void (async () => {
      try {
        if (message.kind !== 'offer') process.exit(0);
        const opened = await openEventStore(loadConfig(message.env!).eventStore);
        const offered = await offerOn(opened.store, message);
        await opened.close();
        process.send!({ ...offered, stats: undefined });
      } catch (error) {
        process.send!({ kind: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
}

async function offerOn(store: EventStore, message: Extract<ToChild, { kind: 'offer' }>): Promise<Omit<Offered, 'stats'>> {
  const eventLog = new EventLog(store, canopyEventRegistry());
  const watched = message.workspaces.map((workspaceId) => ({ workspaceId, changes: new WorkloadChanges(workspaceId), flushing: false, observed: 0 }));
  const head = (await store.headPosition()) ?? 0n;
  const appendMs: number[] = [];
  let events = 0;
  let changes = 0;
  let skipped = 0;
  const inFlight = new Set<Promise<void>>();
  const flush = (ws: (typeof watched)[number]) => {
    const drained = ws.changes.drain();
    ws.flushing = true;
    const run = (async () => {
      for (let start = 0; start < drained.length; start += MAX_EVENTS_PER_APPEND) {
        const batch: DomainEvent[] = drained.slice(start, start + MAX_EVENTS_PER_APPEND).map((change) => ({ id: randomUUID(), type: change.type, data: change.data }));
        const at = performance.now();
        await eventLog.append(workloadsStream(ws.workspaceId), batch, { context: { actor: WATCHER_ACTOR } });
        appendMs.push(performance.now() - at);
        events += batch.length;
      }
    })().finally(() => {
      ws.flushing = false;
      inFlight.delete(run);
    });
    inFlight.add(run);
  };
  logReads.reset();
  const profiler = message.profile ? await startProfile() : undefined;
  const started = performance.now();
  const end = started + message.seconds * 1000;
  let next = 0;
  let ticks = 0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor(((now - started) / 1000) * message.rate);
    const at = new Date().toISOString();
    for (; changes < due; changes++) {
      const ws = watched[next]!;
      next = (next + 1) % watched.length;
      const p = ws.observed % PODS;
      const name = `web-${p}`;
      ws.changes.observe({ clusterId: 'prod', namespace: 'apps', kind: 'Pod', name }, statusOf('Pod', pod(name, Math.floor(ws.observed / PODS) + 1)), at);
      ws.observed++;
    }
    const from = ticks++ % watched.length;
    for (let i = 0; i < watched.length; i++) {
      const ws = watched[(from + i) % watched.length]!;
      if (ws.changes.pendingCount === 0) continue;
      if (ws.flushing) skipped++;
      else flush(ws);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  const seconds = (performance.now() - started) / 1000;
  const eventsInWindow = events;
  // What is still pending is appended after the window (as the watcher's next ticks would); its deliveries are measured too.
  while (inFlight.size > 0 || watched.some((ws) => ws.changes.pendingCount > 0)) {
    for (const ws of watched) if (!ws.flushing && ws.changes.pendingCount > 0) flush(ws);
    await Promise.race([...inFlight]);
  }
  const drainSeconds = (performance.now() - started) / 1000 - seconds;
  if (profiler) await stopProfile(profiler, message.profile!);
  return {
    kind: 'offered',
    changes,
    events,
    appends: appendMs.length,
    appendP50: percentile(appendMs, 50),
    appendP99: percentile(appendMs, 99),
    skipped,
    seconds,
    eventsInWindow,
    drainSeconds,
    after: head.toString(),
    pageReads: { count: logReads.pages.length, events: logReads.events, p50: percentile(logReads.pages, 50), p99: percentile(logReads.pages, 99) },
    ownBatches: logReads.ownBatches,
    toHub: { p50: percentile(logReads.toHub, 50), p99: percentile(logReads.toHub, 99) },
  };
}

/** Counts, without changing them, the log's page reads and the batches its pollers take from the process's own appends (patched before the gateway opens its store). */
const logReads = {
  pages: [] as number[],
  events: 0,
  ownBatches: 0,
  toHub: [] as number[],
  reset() {
    this.toHub = [];
    this.pages = [];
    this.events = 0;
    this.ownBatches = 0;
  },
  install() {
    const proto = SqlEventStore.prototype;
    const readPage = proto.readPage;
    proto.readPage = async function (this: SqlEventStore, ...args: Parameters<typeof readPage>) {
      const at = performance.now();
      const page = await readPage.apply(this, args);
      logReads.pages.push(performance.now() - at);
      logReads.events += page.events.length;
      return page;
    };
    const ownAppendAfter = proto.ownAppendAfter;
    proto.ownAppendAfter = function (this: SqlEventStore, ...args: Parameters<typeof ownAppendAfter>) {
      const batch = ownAppendAfter.apply(this, args);
      if (batch) logReads.ownBatches++;
      return batch;
    };
    const hub = EventHub.prototype as unknown as { dispatch?: (recorded: RecordedEvent) => void };
    const dispatch = hub.dispatch;
    if (typeof dispatch !== 'function') throw new Error('EventHub.dispatch is gone: update the benchmark');
    hub.dispatch = function (this: EventHub, recorded: RecordedEvent) {
      if (recorded.stream.startsWith(WORKLOADS_PREFIX)) logReads.toHub.push(Date.now() - recorded.createdAt.getTime());
      return dispatch.call(this, recorded);
    };
  },
};

/** Each workload event after `after`: its position and its recorded time (ms since the epoch). */
async function recorded(gateway: RunningGateway, after: bigint): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for await (const event of gateway.store!.readAll({ after, filter: { streamPrefixes: [WORKLOADS_PREFIX] } })) out.push([event.position.toString(), event.createdAt.getTime()]);
  return out;
}

/** CANOPY_BENCH_HEAP_PROF=1: a sampling profile of what the window allocates (collected objects included: what the garbage collector works through) in place of the CPU profile. */
const HEAP_PROFILE = process.env['CANOPY_BENCH_HEAP_PROF'] === '1';

async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) => new Promise<void>((resolve, reject) => session.post(method, params, (error) => (error ? reject(error) : resolve())));
  if (HEAP_PROFILE) {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else {
    await post('Profiler.enable');
    await post('Profiler.start');
  }
  return session;
}

async function stopProfile(session: Session, file: string): Promise<void> {
  const method = HEAP_PROFILE ? 'HeapProfiler.stopSampling' : 'Profiler.stop';
  const profile = await new Promise<unknown>((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve((result as { profile: unknown }).profile))));
  session.disconnect();
  await writeFile(HEAP_PROFILE ? file.replace(/\.cpuprofile$/, '.heapprofile') : file, JSON.stringify(profile));
}

function childMain(): void {
  let gateway: RunningGateway | undefined;
  process.on('message', (message: ToChild) => {
    void (async () => {
      try {
        if (message.kind === 'start') {
          logReads.install();
          startEnv = message.env;
          gateway = await startGateway(loadConfig(message.env), pino({ level: 'warn' }));
          process.send!({ kind: 'ready', endpoint: `${gateway.url}/graphql` });
        } else if (message.kind === 'offer') {
          process.send!(await offer(gateway!, message));
        } else if (message.kind === 'cpu') {
          process.send!({ kind: 'cpu', usage: process.cpuUsage() });
        } else if (message.kind === 'settle') {
          // A subscription checks access on the read models once they reach the log's head: after a window, they catch up first.
          const head = await gateway!.store!.headPosition();
          const settled = head === undefined || (await gateway!.projections!.waitFor('all', head, 300_000));
          process.send!(settled ? { kind: 'settled' } : { kind: 'failed', reason: 'the read models did not reach the head of the log within 300 s' });
        } else if (message.kind === 'recorded') {
          process.send!({ kind: 'recorded', events: await recorded(gateway!, BigInt(message.after)) });
        } else {
          await gateway?.stop();
          process.exit(0);
        }
      } catch (error) {
        process.send!({ kind: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1));
      }
    })();
  });
}

// ---------- parent: the clients ----------

interface Child {
  endpoint: string;
  ask<T>(message: ToChild, kind: string): Promise<T>;
  stop(): Promise<void>;
}

function startChild(env: Record<string, string>): Promise<Child> {
  // With the Node flags `npm start` and the canopy command run the server with.
  const child: ChildProcess = fork(SCRIPT, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS], env: { ...process.env, NODE_ENV: process.env['NODE_ENV'] ?? SERVER_NODE_ENV } });
  const ask = <T>(message: ToChild, kind: string) =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (answer: { kind: string; reason?: string }) => (answer.kind === kind ? resolve(answer as T) : reject(new Error(`the gateway process failed: ${answer.reason ?? answer.kind}`))));
      child.send(message);
    });
  return ask<{ endpoint: string }>({ kind: 'start', env }, 'ready').then(({ endpoint }) => ({
    endpoint,
    ask,
    stop: () => stopChild(child, { kind: 'stop' } satisfies ToChild, 30_000),
  }));
}

/** One organization of `count` workspaces, each with `members` members (`member-<w>-<m>`, role MEMBER). */
async function seed(client: GraphQLClient, count: number, membersOf: (w: number) => number): Promise<string[]> {
  const { createOrganization } = await client.request<{ createOrganization: { organizationId: string } }>('mutation { createOrganization(name: "workloads", kind: TEAM) { organizationId } }', {});
  const ids: string[] = [];
  for (let w = 0; w < count; w++) {
    const { createWorkspace } = await client.request<{ createWorkspace: { workspaceId: string; version: number } }>(
      'mutation ($org: ID!, $name: String!) { createWorkspace(organizationId: $org, name: $name, kind: PROJECT) { workspaceId version } }',
      { org: createOrganization.organizationId, name: `team-${w}` },
    );
    let version = createWorkspace.version;
    for (let m = 0; m < membersOf(w); m++) {
      version = (
        await client.request<{ addMember: { version: number } }>('mutation ($w: ID!, $v: Int!, $u: String!) { addMember(workspaceId: $w, expectedVersion: $v, userId: $u, role: MEMBER) { version } }', {
          w: createWorkspace.workspaceId,
          v: version,
          u: `member-${w}-${m}`,
        })
      ).addMember.version;
    }
    ids.push(createWorkspace.workspaceId);
    if (w % 100 === 99) log(`seeded ${w + 1} workspaces`);
  }
  return ids;
}

/**
 * One subscriber's deliveries: cursor, arrival and observation time, in
 * typed arrays. The client process shares the cores with the server, and
 * 100,000 entries of a Map with a key string and an array each made it
 * collect its old generation in pauses of 20–36 ms while measuring. A
 * delivery whose cursor is not past the last one (out of order, or twice)
 * is counted, not stored.
 */
class Arrivals {
  private cursors = new Float64Array(256);
  private arrived = new Float64Array(256);
  private observed = new Float64Array(256);
  size = 0;
  outOfOrder = 0;

  add(cursor: number, at: number, observedAt: number): void {
    if (this.size > 0 && cursor <= this.cursors[this.size - 1]!) {
      this.outOfOrder++;
      return;
    }
    if (this.size === this.cursors.length) {
      const grow = (from: Float64Array) => {
        const to = new Float64Array(from.length * 2);
        to.set(from);
        return to;
      };
      this.cursors = grow(this.cursors);
      this.arrived = grow(this.arrived);
      this.observed = grow(this.observed);
    }
    this.cursors[this.size] = cursor;
    this.arrived[this.size] = at;
    this.observed[this.size] = observedAt;
    this.size++;
  }

  clear(): void {
    this.size = 0;
    this.outOfOrder = 0;
  }

  *entries(): IterableIterator<[cursor: number, at: number, observedAt: number]> {
    for (let i = 0; i < this.size; i++) yield [this.cursors[i]!, this.arrived[i]!, this.observed[i]!];
  }
}

/** CANOPY_BENCH_TIMELINE_MS=<ms>: the delays of each slice of the window (by observation time), printed to stderr: where in the window the tail comes from. */
const TIMELINE_MS = Number(process.env['CANOPY_BENCH_TIMELINE_MS'] ?? 0);

class Timeline {
  private readonly slices = new Map<number, { fromObservation: number[]; fromInsert: number[] }>();

  constructor(
    private readonly start: number,
    private readonly sliceMs: number,
  ) {}

  add(observedAt: number, fromObservation: number, fromInsert: number): void {
    if (this.sliceMs <= 0) return;
    const slice = Math.floor((observedAt - this.start) / this.sliceMs);
    const entry = this.slices.get(slice) ?? { fromObservation: [], fromInsert: [] };
    entry.fromObservation.push(fromObservation);
    entry.fromInsert.push(fromInsert);
    this.slices.set(slice, entry);
  }

  print(name: string): void {
    log(`${name}: delays by observation time (slice start ms: changes, from observation p50/p99/max, from the insert p50/p99)`);
    for (const [slice, { fromObservation, fromInsert }] of [...this.slices].sort(([a], [b]) => a - b)) {
      const o = delaysOf(fromObservation);
      const i = delaysOf(fromInsert);
      log(`  ${String(slice * this.sliceMs).padStart(6)}: ${String(fromObservation.length).padStart(5)}  ${ms(o.p50)} / ${ms(o.p99)} / ${ms(o.max)}  ${ms(i.p50)} / ${ms(i.p99)}`);
    }
  }
}

const delaysOf = (sample: number[]): Delays => ({ p50: percentile(sample, 50), p99: percentile(sample, 99), max: sample.reduce((a, b) => Math.max(a, b), 0) });

interface Delays {
  p50: number;
  p99: number;
  max: number;
}

interface Result {
  scenario: Scenario;
  subscribers: number;
  offered: Offered;
  expected: number;
  deliveries: number;
  /** Deliveries/s over the window (from its start to the last delivery). */
  deliveriesPerSecond: number;
  fromAppend: Delays;
  /** From the change's observation (its `observedAt`, when the watcher saw it: before its append waited) to its arrival: what a dashboard sees. */
  fromObservation: Delays;
  /** Connections the server closed as slow consumers (4503), as the clients saw them. */
  slowClosed: number;
  /** Deliveries whose cursor was not past the subscriber's last one (out of order, or twice). */
  outOfOrder: number;
  dropped: number;
  otherErrors: number;
  /** CPU time (user + system) from the window's start to the last delivery: the gateway's process (appends, projections and deliveries), the clients', and the PostgreSQL server's when it runs on this machine. */
  cpuMs: { server: number; clients: number; database: number | undefined };
  load: { median: number; max: number };
}

async function measure(env: Record<string, string>, secret: string, workspaceIds: string[], scenario: Scenario, profileDir: string | undefined): Promise<Result> {
  const child = await startChild(env);
  const clients: Client[] = [];
  const sampler = loadSampler();
  try {
    await child.ask({ kind: 'settle' }, 'settled');
    const url = child.endpoint.replace(/^http/, 'ws');
    /** Per subscriber: each delivery's cursor, arrival and observation time. */
    const arrivals: Arrivals[] = [];
    let slowClosed = 0;
    let otherErrors = 0;
    /** Connections closed otherwise while measuring (1006: the server got no pong in time). */
    let dropped = 0;
    let measuring = true;
    const workspaces = workspaceIds.slice(0, scenario.workspaces);
    for (let w = 0; w < workspaces.length; w++) {
      for (let m = 0; m < scenario.perWorkspace; m++) {
        const token = await mintToken({ secret: new TextEncoder().encode(secret), issuer: ISSUER, audience: AUDIENCE, userId: `member-${w}-${m}`, ttlSeconds: 3600 });
        const got = new Arrivals();
        arrivals.push(got);
        let connected!: () => void;
        const acknowledged = new Promise<void>((resolve) => (connected = resolve));
        const client = createClient({
          url,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${token}` },
          retryAttempts: 0,
          lazy: false,
          // Counted below (closed), not printed.
          onNonLazyError: () => {},
          on: {
            connected,
            closed: (event) => {
              if (!measuring) return;
              const code = (event as { code?: number }).code;
              if (code === 4503) slowClosed++;
              else dropped++;
            },
          },
        });
        clients.push(client);
        client.subscribe<{ workloadStatus: { cursor: string; observedAt: string } }>(
          { query: SUBSCRIPTION, variables: { w: workspaces[w] } },
          {
            next: (result) => {
              const at = wallNow();
              const change = result.data?.workloadStatus;
              if (change === undefined) otherErrors++;
              else got.add(Number(change.cursor), at, Date.parse(change.observedAt));
            },
            error: () => otherErrors++,
            complete: () => {},
          },
        );
        // Connect in groups of 50, as dashboards opening over time would (a burst of handshakes outlasts graphql-ws's init timeout on 2 cores).
        if (clients.length % 50 === 0) await acknowledged;
      }
    }
    // Every subscriber listens once a change to each workspace reaches all of them.
    for (let attempt = 0; ; attempt++) {
      await child.ask<Offered>({ kind: 'offer', workspaces, rate: workspaces.length * 2, seconds: 1 }, 'offered');
      const deadline = performance.now() + 10_000;
      const missing = () => arrivals.filter((got) => got.size === 0).length;
      while (missing() > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (missing() === 0) break;
      if (attempt >= 3) throw new Error(`${missing()} subscribers got nothing in the warm-up`);
    }
    for (const got of arrivals) got.clear();
    const profile = profileDir ? join(profileDir, `gateway-${scenario.name}.cpuprofile`) : undefined;
    log(`${scenario.name}: ${clients.length} subscribers on ${workspaces.length} workspaces, ${scenario.rate} changes/s for ${sizes.seconds} s`);
    sampler.start();
    const cpu = async () => {
      const { usage } = await child.ask<{ usage: NodeJS.CpuUsage }>({ kind: 'cpu' }, 'cpu');
      const database = store === 'postgres' && isLocalServer(postgresUrl()) ? await cpuOfProcesses('postgres') : undefined;
      return { server: (usage.user + usage.system) / 1000, clients: (process.cpuUsage().user + process.cpuUsage().system) / 1000, database };
    };
    const cpuBefore = await cpu();
    const windowStart = wallNow();
    const offered = await child.ask<Offered>({ kind: 'offer', workspaces, rate: scenario.rate, seconds: sizes.seconds, ...(profile ? { profile } : {}) }, 'offered');
    const events = new Map((await child.ask<{ events: [string, number][] }>({ kind: 'recorded', after: offered.after }, 'recorded')).events.map(([cursor, at]) => [Number(cursor), at]));
    const expected = events.size * scenario.perWorkspace;
    const count = () => arrivals.reduce((sum, got) => sum + got.size, 0);
    // Wait for the deliveries still under way: until all arrived, or none for 3 s.
    let last = -1;
    let quietSince = performance.now();
    while (count() < expected && performance.now() - quietSince < 3_000) {
      const now = count();
      if (now !== last) {
        last = now;
        quietSince = performance.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    sampler.stop();
    measuring = false;
    const cpuAfter = await cpu();
    const delays: number[] = [];
    const sinceObserved: number[] = [];
    const timeline = new Timeline(windowStart, TIMELINE_MS);
    let lastArrival = windowStart;
    for (const got of arrivals) {
      for (const [cursor, at, observedAt] of got.entries()) {
        const recordedAt = events.get(cursor);
        if (recordedAt === undefined) continue;
        delays.push(at - recordedAt);
        sinceObserved.push(at - observedAt);
        timeline.add(observedAt, at - observedAt, at - recordedAt);
        if (at > lastArrival) lastArrival = at;
      }
    }
    if (TIMELINE_MS > 0) timeline.print(scenario.name);
    return {
      scenario,
      subscribers: clients.length,
      offered,
      expected,
      deliveries: delays.length,
      deliveriesPerSecond: delays.length / ((lastArrival - windowStart) / 1000),
      fromAppend: delaysOf(delays),
      fromObservation: delaysOf(sinceObserved),
      slowClosed,
      outOfOrder: arrivals.reduce((sum, got) => sum + got.outOfOrder, 0),
      dropped,
      otherErrors,
      cpuMs: { server: cpuAfter.server - cpuBefore.server, clients: cpuAfter.clients - cpuBefore.clients, database: cpuBetween(cpuBefore.database, cpuAfter.database) },
      load: sampler.figures(),
    };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await child.stop();
  }
}

/** The 1-minute load average, sampled every second. */
function loadSampler() {
  const samples: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      samples.push(loadavg()[0]!);
      timer = setInterval(() => samples.push(loadavg()[0]!), 1000);
    },
    stop() {
      clearInterval(timer);
      samples.push(loadavg()[0]!);
    },
    figures: () => ({ median: percentile(samples, 50), max: Math.max(...samples) }),
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
/** A figure in ms; none (an empty sample's NaN, null once through IPC) as a dash. */
const ms = (n: number | null) => (n === null || Number.isNaN(n) ? '—' : n.toFixed(1));

function report(results: Result[], took: number): { text: string; markdown: string; failed: boolean } {
  const m = machine('not used');
  const target = results.filter((r) => r.scenario.rate === sizes.rate);
  const pass = (r: Result) => r.fromObservation.p99 < TARGET_P99_MS && r.deliveries === r.expected && r.outOfOrder === 0 && r.slowClosed === 0 && r.dropped === 0 && r.offered.eventsInWindow / r.offered.seconds >= r.scenario.rate * 0.95;
  const rows = results.map(
    (r) =>
      `| ${r.scenario.workspaces} × ${r.scenario.perWorkspace} (${r.subscribers}) | ${int(r.scenario.rate)} | ${int(r.offered.changes / r.offered.seconds)} | ${int(r.offered.eventsInWindow / r.offered.seconds)} | ${r.offered.drainSeconds.toFixed(1)} | ${int(r.offered.appends / (r.offered.seconds + r.offered.drainSeconds))} | ${ms(r.offered.appendP50)} / ${ms(r.offered.appendP99)} | ${int(r.deliveriesPerSecond)} | ${int(r.deliveries)} of ${int(r.expected)} | **${ms(r.fromObservation.p50)}** | **${ms(r.fromObservation.p99)}** | ${ms(r.fromObservation.max)} | ${ms(r.fromAppend.p50)} / ${ms(r.fromAppend.p99)} | ${r.slowClosed} / ${r.dropped} / ${r.offered.stats.maxQueued} | ${r.load.median.toFixed(1)} / ${r.load.max.toFixed(1)} |`,
  );
  const verdict = (r: Result) => `- ${r.scenario.workspaces} × ${r.scenario.perWorkspace} at ${int(r.scenario.rate)}/s: p99 ${ms(r.fromObservation.p99)} ms from observation (${ms(r.fromAppend.p99)} ms from the insert), ${int(r.deliveries)} of ${int(r.expected)} delivered${r.outOfOrder > 0 ? ` (and ${int(r.outOfOrder)} out of order or twice)` : ' in order'}, ${int(r.offered.eventsInWindow / r.offered.seconds)} events/s appended in the window of ${int(r.scenario.rate)} offered: **${pass(r) ? 'PASS' : 'FAIL'}**`;
  const markdown = [
    MARKERS.start,
    `## Workload status delivery through the gateway (${STORE_NAME})`,
    '',
    `_Generated by \`services/gateway/bench/workload-status.ts\`; do not edit by hand — re-run: \`npm run build -w @canopy/gateway && npm run bench -- ${NAME}\`; it replaces only this section._`,
    '',
    `- Date: ${new Date().toISOString()} (took ${Math.round(took)} s); ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${STORE_NAME}.`,
    `- The gateway (\`startGateway\`, built dist/) in a child process; in that process, where the workload watcher runs, the watcher's stand-in: ${sizes.seconds} s of changes offered at a fixed rate, each a pod observation made an event by the watcher's own \`statusOf\` and \`WorkloadChanges\` and appended as the watcher does (every ${TICK_MS} ms one append per workspace, ≤ ${MAX_EVENTS_PER_APPEND} events; a workspace whose append still runs skips the tick; the log sends the appends made while one is in flight together, as one group). The server runs with the Node flags \`npm start\` uses (${SERVER_NODE_FLAGS.join(' ')}). The projections (the workloads read model among them) run in that process as in a deployment.`,
    '- The subscribers: every one its own user (a member of its workspace) on its own graphql-ws connection, all in the benchmark process — **on the same 2 cores as the gateway**: receiving and parsing the messages competes with the server for the CPU. Each subscribes to `workloadStatus(workspaceId)` with every field of the change.',
    '- Delay, for every delivery: from the change\'s observation (its `observedAt`, set when the watcher saw it, before its append waited for its turn) to its arrival at the subscriber — what a dashboard sees, and what the target is judged on; and from the event\'s insert into the log (its recorded time) to its arrival. deliveries/s: over the window, from its start to the last delivery. slow consumers: connections closed with 4503; other closes: connections closed otherwise while measuring (1006: the server\'s ping got no pong in time); max queued: the longest any subscription\'s queue got.',
    '- The load average column is the 1-minute load average through the window (median / max); above 2 the cores are shared with work outside this benchmark.',
    '',
    '| workspaces × subscribers each (total) | changes/s offered | changes/s observed | events appended/s in the window | appended after the window (s) | appends/s | append p50 / p99 ms | deliveries/s | delivered | observed → delivered p50 ms | p99 ms | max ms | insert → delivered p50 / p99 ms | slow consumers / other closes / max queued | load avg |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...results.map((r) => `- ${r.scenario.workspaces} × ${r.scenario.perWorkspace}: ${r.scenario.what}.`),
    '',
    "The log's side of each row, in the gateway process during the window: its subscriptions (the hub's one, the projections') poll the log; after an append they take the events from the append itself when it is the next one in position order, and read a page from the store otherwise — through the same connection pool (PostgreSQL) or the same single PGlite instance the appends use.",
    '',
    "CPU time per change, from the window's start to the last delivery (user + system, so independent of what else the machine runs): the gateway process — the appends (contract validation, the store's client), the projections, the hub and the deliveries; the client process; and, with PostgreSQL on this machine (a loopback or socket URL), its server's processes (every backend and background worker, read from /proc) — the log's inserts and the read models' writes (PGlite runs in the gateway's process and is counted there). 2 cores hold 2,000 ms of CPU per second: the gateway's figure bounds the changes/s its process can take on them, and the three together the changes/s this machine can carry at all, with the clients on it (a queue that never drains beyond; latency climbs well before).",
    '',
    "| row | gateway CPU per change (µs) | gateway CPU per delivery (µs) | client CPU per delivery (µs) | PostgreSQL CPU per change (µs) | the machine's CPU per change (µs) | changes/s 2 cores allow: the gateway's / the machine's |",
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const events = r.expected / r.scenario.perWorkspace;
      const perChange = (cpuMs: number) => (cpuMs * 1000) / events;
      const database = r.cpuMs.database === undefined ? undefined : perChange(r.cpuMs.database);
      const machineWide = perChange(r.cpuMs.server + r.cpuMs.clients + (r.cpuMs.database ?? 0));
      return `| ${r.scenario.workspaces} × ${r.scenario.perWorkspace} at ${int(r.scenario.rate)}/s | ${int(perChange(r.cpuMs.server))} | ${int((r.cpuMs.server * 1000) / r.deliveries)} | ${int((r.cpuMs.clients * 1000) / r.deliveries)} | ${database === undefined ? '—' : int(database)} | ${int(machineWide)} | ${int(2e6 / perChange(r.cpuMs.server))} / ${int(2e6 / machineWide)} |`;
    }),
    '',
    '| row | insert → hub p50 / p99 ms | batches taken from own appends | page reads | events read | page read p50 / p99 ms (pool wait included) |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.scenario.workspaces} × ${r.scenario.perWorkspace} at ${int(r.scenario.rate)}/s | ${ms(r.offered.toHub.p50)} / ${ms(r.offered.toHub.p99)} | ${int(r.offered.ownBatches)} | ${int(r.offered.pageReads.count)} | ${int(r.offered.pageReads.events)} | ${ms(r.offered.pageReads.p50)} / ${ms(r.offered.pageReads.p99)} |`),
    '',
    `Target: ${int(sizes.rate)} changes/s delivered with p99 < ${TARGET_P99_MS} ms from the observation, every event delivered in order, no slow consumer:`,
    '',
    ...target.map(verdict),
    '',
    'The same criteria at the lower rates (where the target would hold):',
    '',
    ...results.filter((r) => r.scenario.rate < sizes.rate).map(verdict),
    MARKERS.end,
  ].join('\n');
  return { text: markdown.split('\n').slice(1, -1).join('\n'), markdown, failed: !target.every(pass) };
}

const store = process.env['CANOPY_BENCH_STORE'] === 'postgres' ? 'postgres' : 'pglite';
const STORE_NAME = store === 'postgres' ? 'PostgreSQL' : 'embedded PGlite';
/** The embedded store's section is `workload-status`, PostgreSQL's `workload-status-postgres` (as `npm run bench -- <name>` names them). */
const NAME = store === 'postgres' ? 'workload-status-postgres' : 'workload-status';
const MARKERS = { start: `<!-- bench:${NAME}:start -->`, end: `<!-- bench:${NAME}:end -->` };

async function main(): Promise<void> {
  const began = performance.now();
  const chosen = process.env['CANOPY_BENCH_SCENARIOS']?.split(',').map((s) => s.trim());
  const scenarios = chosen ? SCENARIOS.filter((s) => chosen.includes(s.name)) : SCENARIOS;
  if (scenarios.length === 0) throw new Error(`CANOPY_BENCH_SCENARIOS: none of ${chosen!.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const profileDir = process.env['CANOPY_BENCH_CPU_PROF'];
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'canopy-bench-workloads-'));
  const secret = randomBytes(32).toString('base64url');
  const env = {
    CANOPY_DATA_DIR: dataDir,
    CANOPY_JWT_SECRET: secret,
    CANOPY_LOG_LEVEL: 'warn',
    PORT: '0',
    CANOPY_MODE: 'production',
    CANOPY_RATE_LIMIT_PER_MINUTE: '0',
    ...(store === 'postgres' ? { CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: postgresUrl(), CANOPY_POSTGRES_SCHEMA: `bench_workloads_${Date.now().toString(36)}`, CANOPY_MASTER_KEY: randomBytes(32).toString('base64') } : {}),
  };
  try {
    const workspaceCount = Math.max(...scenarios.map((s) => s.workspaces));
    const membersOf = (w: number) => Math.max(...scenarios.map((s) => (w < s.workspaces ? s.perWorkspace : 0)));
    log(`seeding ${workspaceCount} workspaces with their members`);
    const seeding = await startChild(env);
    const ownerToken = await mintToken({ secret: new TextEncoder().encode(secret), issuer: ISSUER, audience: AUDIENCE, userId: OWNER, ttlSeconds: 3600 });
    const workspaceIds = await seed(graphqlClient(seeding.endpoint, ownerToken), workspaceCount, membersOf);
    await seeding.stop();
    const results: Result[] = [];
    for (const scenario of scenarios) {
      const result = await measure(env, secret, workspaceIds, scenario, profileDir);
      log(`${scenario.name}: ${int(result.deliveries)} of ${int(result.expected)} delivered; from observation p50 ${ms(result.fromObservation.p50)} ms, p99 ${ms(result.fromObservation.p99)} ms; from the insert p50 ${ms(result.fromAppend.p50)} ms, p99 ${ms(result.fromAppend.p99)} ms`);
      results.push(result);
    }
    const result = report(results, (performance.now() - began) / 1000);
    console.log(result.text);
    if (!process.argv.includes('--no-write')) writeSection(join(repoRoot(), 'BENCHMARKS.md'), result.markdown, MARKERS);
    process.exitCode = result.failed ? 1 : 0;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    if (store === 'postgres') await dropSchema(env.CANOPY_POSTGRES_URL!, env.CANOPY_POSTGRES_SCHEMA!);
  }
}

/** The run's log, keys and read models live in its schema and the schemas named after it (`<schema>_…`): dropped afterwards. */
async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_')`, [schema]);
    for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
  } finally {
    await client.end();
  }
}

if (process.argv.includes('--serve')) childMain();
else if (process.argv.includes('--watch')) watcherMain();
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(2);
  });
