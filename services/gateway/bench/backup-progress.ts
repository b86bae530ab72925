/**
 * `npm run bench -- backup-progress`: backup progress delivered to 100
 * dashboards. A gateway in this process (what `npm start` runs:
 * `startGateway(loadConfig(env))`), a workspace over N simulated clusters
 * with the simulated Velero, run by a child process (`startDemoClusters`:
 * clusters are other machines, so their API servers do not share the
 * gateway's event loop) and attached through their kubeconfig files, and
 * graphql-ws subscribers of the workspace's `backupProgress` in another
 * child process (clients are not the server's process). A `backupNow`
 * through GraphQL; the Velero driver puts a Backup on each cluster, each
 * cluster's Velero reports progress every second, and every report becomes
 * an event, then an item at every subscriber. Measured for every item
 * delivered: from the event's append (its `recordedAt`, set by the database
 * on insert) to its arrival.
 *
 * The subscribers follow the workspace (no `backupId`): what a workspace's
 * backups dashboard does, which must also show backups that start later
 * (schedules). The baseline, in the same run: one subscriber.
 *
 * Environment: CANOPY_BENCH_STORE (pglite, or postgres on CANOPY_BENCH_POSTGRES_URL),
 * CANOPY_BENCH_CLUSTERS (20), CANOPY_BENCH_SUBSCRIBERS (100),
 * CANOPY_BENCH_ITEMS (200 objects per cluster to back up), CANOPY_BENCH_BACKUPS (2 timed backups).
 * `--no-write` leaves BENCHMARKS.md alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startDemoClusters } from '@canopy/kube';
import { mintToken } from '../auth/index.js';
import { loadConfig, startGateway, type RunningGateway } from '../index.js';
import { graphqlClient, percentile, type GraphQLClient } from './client.js';
import { machine, positiveInt, postgresUrl, repoRoot } from './config.js';
import { writeSection } from './report.js';
import { stopChild } from './child.js';

const SCRIPT = fileURLToPath(import.meta.url);
const OWNER = 'bench-owner';
const TARGET_P99_MS = 100;
const NAMESPACE = 'shop';

const sizes = {
  clusters: positiveInt('CANOPY_BENCH_CLUSTERS', 20),
  subscribers: positiveInt('CANOPY_BENCH_SUBSCRIBERS', 100),
  items: positiveInt('CANOPY_BENCH_ITEMS', 200),
  backups: positiveInt('CANOPY_BENCH_BACKUPS', 2),
};

const PROGRESS = `subscription ($w: ID!) { backupProgress(workspaceId: $w) {
  cursor kind backupId recordedAt status finished
  cluster { clusterName phase itemsDone totalItems }
  progress { percent estimatedSecondsLeft clusters { planned done failed } }
} }`;

const log = (line: string) => console.error(`[backup-progress] ${line}`);

/** Milliseconds on the wall clock (comparable with a database timestamp on the same machine), sub-millisecond precise. */
const wallNow = () => performance.timeOrigin + performance.now();

// ---------- child: the subscribers ----------

type ToSubscribers = { kind: 'start'; url: string; token: string; workspaceId: string; count: number } | { kind: 'collect'; backupId: string; timeoutMs: number } | { kind: 'stop' };

interface Collected {
  kind: 'collected';
  /** Milliseconds from each item's recordedAt to its arrival, every subscriber's. */
  delays: number[];
  /** Per item: the delay to the first subscriber it reached, and to the last. */
  first: number[];
  last: number[];
  /** Items of the backup (distinct cursors). */
  items: number;
  /** Every subscriber got the same items, in log order, each once. */
  identical: boolean;
  errors: string[];
}

interface Item {
  backupId: string;
  cursor: string;
  delay: number;
  finished: boolean;
}

function subscribersMain(): void {
  const clients: Client[] = [];
  const received: Item[][] = [];
  const errors: string[] = [];
  process.on('message', (message: ToSubscribers) => {
    void (async () => {
      if (message.kind === 'start') {
        for (let i = 0; i < message.count; i++) {
          let connected!: () => void;
          const acknowledged = new Promise<void>((resolve) => (connected = resolve));
          const client = createClient({ url: message.url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${message.token}` }, retryAttempts: 0, lazy: false, on: { connected } });
          clients.push(client);
          const mine: Item[] = [];
          received.push(mine);
          client.subscribe<{ backupProgress: { cursor: string; backupId: string; recordedAt: string; finished: boolean } }>(
            { query: PROGRESS, variables: { w: message.workspaceId } },
            {
              next: (result) => {
                const at = wallNow();
                const item = result.data?.backupProgress;
                if (!item) return void errors.push(JSON.stringify(result.errors ?? result).slice(0, 300));
                mine.push({ backupId: item.backupId, cursor: item.cursor, delay: at - Date.parse(item.recordedAt), finished: item.finished });
              },
              error: (error) => errors.push(`subscriber ${i}: ${JSON.stringify(error).slice(0, 300)}`),
              complete: () => errors.push(`subscriber ${i}: completed`),
            },
          );
          // Connect in groups of 50, as clients arriving over time would (graphql-ws gives a connection 3 s to initialise).
          if (i % 50 === 49 || i === message.count - 1) await acknowledged;
        }
        process.send!({ kind: 'subscribed' });
      } else if (message.kind === 'collect') {
        const ofBackup = () => received.map((items) => items.filter((item) => item.backupId === message.backupId));
        const deadline = Date.now() + message.timeoutMs;
        while (!ofBackup().every((items) => items.some((item) => item.finished)) && errors.length === 0) {
          if (Date.now() > deadline) {
            errors.push(`${ofBackup().filter((items) => items.some((item) => item.finished)).length} of ${received.length} subscribers saw backup ${message.backupId} finish within ${message.timeoutMs} ms`);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const all = ofBackup();
        const reference = all[0]!.map((item) => item.cursor);
        const ordered = reference.every((cursor, i) => i === 0 || BigInt(reference[i - 1]!) < BigInt(cursor));
        const identical = ordered && all.every((items) => items.length === reference.length && items.every((item, i) => item.cursor === reference[i]));
        const byCursor = new Map<string, number[]>();
        for (const items of all) {
          for (const item of items) {
            let delays = byCursor.get(item.cursor);
            if (!delays) byCursor.set(item.cursor, (delays = []));
            delays.push(item.delay);
          }
        }
        const spread = [...byCursor.values()];
        const answer: Collected = {
          kind: 'collected',
          delays: all.flatMap((items) => items.map((item) => item.delay)),
          first: spread.map((delays) => Math.min(...delays)),
          last: spread.map((delays) => Math.max(...delays)),
          items: byCursor.size,
          identical,
          errors: [...errors],
        };
        process.send!(answer);
      } else {
        await Promise.all(clients.map((client) => client.dispose()));
        process.exit(0);
      }
    })();
  });
}

// ---------- child: the clusters ----------

type ToClusters = { kind: 'start'; directory: string; names: string[]; items: number } | { kind: 'stop' };

/** Simulated clusters with the simulated Velero, each with `items` ConfigMaps in the namespace to back up; answers their kubeconfig files. */
function clustersMain(): void {
  let stop: (() => Promise<void>) | undefined;
  process.on('message', (message: ToClusters) => {
    void (async () => {
      if (message.kind === 'stop') {
        await stop?.();
        process.exit(0);
      }
      const demo = await startDemoClusters({ directory: message.directory, names: message.names, nodes: 1, cluster: { namespaces: [NAMESPACE] } });
      stop = () => demo.stop();
      for (const cluster of demo.clusters) {
        const configMaps = cluster.api.resource('v1', 'ConfigMap');
        for (let i = 0; i < message.items; i++) {
          cluster.api.create(configMaps, NAMESPACE, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `settings-${i}`, namespace: NAMESPACE }, data: { value: String(i) } }, { manager: 'bench' });
        }
      }
      process.send!({ kind: 'ready', kubeconfigs: demo.kubeconfigs });
    })().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}

// ---------- parent: the gateway, the run ----------

interface Clusters {
  /** Kubeconfig file by cluster name. */
  kubeconfigs: Record<string, string>;
  stop(): Promise<void>;
}

function startClusters(start: Extract<ToClusters, { kind: 'start' }>): Promise<Clusters> {
  const child: ChildProcess = fork(SCRIPT, ['--clusters'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the clusters' process exited (code ${code}) before they were ready`));
    child.once('exit', onExit);
    child.once('message', (message: { kubeconfigs: Record<string, string> }) => {
      child.off('exit', onExit);
      resolve({
        kubeconfigs: message.kubeconfigs,
        stop: () => stopChild(child, { kind: 'stop' } satisfies ToClusters, 10_000),
      });
    });
    child.send(start);
  });
}

interface Subscribers {
  collect(backupId: string): Promise<Collected>;
  stop(): Promise<void>;
}

function startSubscribers(start: Extract<ToSubscribers, { kind: 'start' }>): Promise<Subscribers> {
  const child: ChildProcess = fork(SCRIPT, ['--subscribers'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(kind: string) =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the subscribers' process exited (code ${code})`));
      child.once('exit', onExit);
      const onMessage = (message: { kind: string }) => {
        if (message.kind !== kind) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      child.on('message', onMessage);
    });
  const subscribed = next('subscribed');
  child.send(start);
  return subscribed.then(() => ({
    collect: (backupId) => {
      const answer = next<Collected>('collected');
      child.send({ kind: 'collect', backupId, timeoutMs: 120_000 } satisfies ToSubscribers);
      return answer;
    },
    stop: () => stopChild(child, { kind: 'stop' } satisfies ToSubscribers, 10_000),
  }));
}

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An organization, a workspace over the clusters (attached by kubeconfig file) with the namespace to back up, and a backup location; returns the ids. */
async function setUp(client: GraphQLClient, kubeconfigs: Record<string, string>): Promise<{ workspaceId: string; locationId: string }> {
  const { createOrganization } = await client.request<{ createOrganization: { organizationId: string } }>('mutation { createOrganization(name: "bench", kind: TEAM) { organizationId } }', {});
  const { createWorkspace } = await client.request<{ createWorkspace: { workspaceId: string; version: number } }>(
    'mutation ($org: ID!) { createWorkspace(organizationId: $org, name: "fleet", kind: PROJECT) { workspaceId version } }',
    { org: createOrganization.organizationId },
  );
  const workspaceId = createWorkspace.workspaceId;
  let v = createWorkspace.version;
  v = (await client.request<{ addNamespace: { version: number } }>('mutation ($w: ID!, $v: Int!, $ns: String!) { addNamespace(workspaceId: $w, expectedVersion: $v, namespace: $ns) { version } }', { w: workspaceId, v, ns: NAMESPACE })).addNamespace.version;
  for (const [name, path] of Object.entries(kubeconfigs)) {
    v = (
      await client.request<{ attachCluster: { version: number } }>(
        'mutation ($w: ID!, $v: Int!, $name: String!, $path: String!) { attachCluster(workspaceId: $w, expectedVersion: $v, name: $name, kubeconfig: { path: $path }) { version } }',
        { w: workspaceId, v, name, path },
      )
    ).attachCluster.version;
  }
  const { addWorkspaceBackupLocation } = await client.request<{ addWorkspaceBackupLocation: { id: string } }>(
    'mutation ($w: ID!) { addWorkspaceBackupLocation(workspaceId: $w, location: { name: "primary", provider: AWS, bucket: "canopy-backups", prefix: "bench", credentials: { secretName: "cloud-credentials", key: "cloud" } }) { id } }',
    { w: workspaceId },
  );
  return { workspaceId, locationId: addWorkspaceBackupLocation.id };
}

interface Phase {
  subscribers: number;
  backups: number;
  items: number;
  delays: number[];
  first: number[];
  last: number[];
  /** CPU time of the gateway's process while the timed backups ran, in ms. */
  cpuMs: number;
  /** The gateway process's event-loop delay while the timed backups ran (ms): how long ready work waited for the thread. */
  loop: { p50: number; p99: number; max: number };
  seconds: number;
  errors: string[];
  identical: boolean;
}

interface Figures {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const figures = (delays: number[]): Figures => ({ count: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY) });

/** Subscribers on the workspace; `warmup` untimed backups then `timed` ones, each from `backupNow` until every subscriber saw it finish. */
async function phase(gateway: RunningGateway, client: GraphQLClient, ids: { workspaceId: string; locationId: string }, token: string, subscribers: number, warmup: number, timed: number): Promise<Phase> {
  const before = gateway.subscriptions.stats().listening;
  const clients = await startSubscribers({ kind: 'start', url: `${gateway.url.replace(/^http/, 'ws')}/graphql`, token, workspaceId: ids.workspaceId, count: subscribers });
  try {
    await until(`${subscribers} subscribers listening`, () => gateway.subscriptions.stats().listening >= before + subscribers, 30_000);
    const result: Phase = { subscribers, backups: timed, items: 0, delays: [], first: [], last: [], loop: { p50: 0, p99: 0, max: 0 }, cpuMs: 0, seconds: 0, errors: [], identical: true };
    const loop = monitorEventLoopDelay({ resolution: 5 });
    for (let run = 0; run < warmup + timed; run++) {
      if (run === warmup) loop.enable();
      const started = performance.now();
      const cpu = process.cpuUsage();
      const { backupNow } = await client.request<{ backupNow: { id: string } }>(
        'mutation ($w: ID!, $l: ID!, $p: String!) { backupNow(workspaceId: $w, backup: { prefix: $p, locationId: $l, namespaces: ["shop"], expiry: "7d" }) { id } }',
        { w: ids.workspaceId, l: ids.locationId, p: `run-${subscribers}-${run}` },
      );
      const collected = await clients.collect(backupNow.id);
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      const timedRun = run >= warmup;
      const f = figures(collected.delays);
      log(`${subscribers} subscriber(s), ${timedRun ? 'timed' : 'warm-up'} backup ${run + 1}: ${collected.items} items, ${f.count} deliveries in ${seconds.toFixed(1)} s (gateway CPU ${(cpuMs / 1000).toFixed(1)} s), p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms`);
      if (collected.errors.length > 0) throw new Error(`subscribers failed: ${collected.errors.slice(0, 5).join('; ')}`);
      if (!timedRun) continue;
      result.items += collected.items;
      result.delays.push(...collected.delays);
      result.first.push(...collected.first);
      result.last.push(...collected.last);
      result.seconds += seconds;
      result.cpuMs += cpuMs;
      result.identical &&= collected.identical;
    }
    loop.disable();
    result.loop = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    return result;
  } finally {
    await clients.stop();
  }
}

/** CANOPY_BENCH_STORE=postgres: the log, keys and read models on the PostgreSQL server (CANOPY_BENCH_POSTGRES_URL); default embedded PGlite. */
const store = process.env['CANOPY_BENCH_STORE'] === 'postgres' ? 'postgres' : 'pglite';
const STORE_NAME = store === 'postgres' ? 'PostgreSQL' : 'embedded PGlite';
const NAME = store === 'postgres' ? 'backup-progress-postgres' : 'backup-progress';
const MARKERS = { start: `<!-- bench:${NAME}:start -->`, end: `<!-- bench:${NAME}:end -->` };

function report(baseline: Phase, fanOut: Phase, extra: { logSubscriptions: number; maxQueued: number; slowConsumerCloses: number; load: [number, number]; seconds: number }): { text: string; markdown: string; failed: boolean } {
  const m = machine('not used');
  const f = figures(fanOut.delays);
  const pass = f.p99 < TARGET_P99_MS && fanOut.identical && baseline.identical;
  const ms = (n: number, bold = false) => (bold ? `**${n.toFixed(1)}**` : n.toFixed(1));
  const row = (label: string, x: Figures, process: string, bold = false) => `| ${label} | ${x.count} | ${ms(x.p50, bold)} | ${ms(x.p99, bold)} | ${ms(x.max)} | ${process} |`;
  const processOf = (phase: Phase) => `${(phase.cpuMs / phase.backups / 1000).toFixed(2)} s; ${ms(phase.loop.p50)} / ${ms(phase.loop.p99)} / ${ms(phase.loop.max)}`;
  const markdown = [
    MARKERS.start,
    `## Backup progress to ${fanOut.subscribers} subscribers (${STORE_NAME})`,
    '',
    `\`node services/gateway/dist/bench/backup-progress.js\`${store === 'postgres' ? ' with CANOPY_BENCH_STORE=postgres' : ''} (\`npm run bench -- backup-progress\`) — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${m.cpu} (${m.cores} cores), Node ${m.node}, ${STORE_NAME}; load average ${extra.load[0].toFixed(1)} at the start, ${extra.load[1].toFixed(1)} at the end (the machine is shared: figures vary with it); took ${Math.round(extra.seconds)} s.`,
    '',
    `The real gateway in the benchmark's process (\`startGateway(loadConfig(env))\`: composition, read models, Velero driver, with the log on ${STORE_NAME}) and ${sizes.clusters} simulated clusters with the simulated Velero (\`startDemoClusters\`, one node each, in a child process: their API servers do not share the gateway's event loop, but do share the machine; Velero takes 1 s to start, then backs up 20 items/s and reports progress every second, so the clusters report in bursts), attached by their kubeconfig files to one workspace whose namespace \`${NAMESPACE}\` holds ${sizes.items} ConfigMaps on each cluster. The subscribers are graphql-ws clients in a child process, one connection each, all following the **workspace** (\`backupProgress(workspaceId)\`, no \`backupId\`: a workspace's backups dashboard, which also shows the backups that start later). Each backup is a \`backupNow\` over GraphQL; the Velero driver creates a Backup on each cluster and records each cluster's reports; every event is an item at every subscriber. ${fanOut.backups} timed backups per row, after one untimed. Delay: from the event's insert into the log (its \`recordedAt\`, whole milliseconds) to the item's arrival at a subscriber.`,
    '',
    '| delay to each delivery | count | p50 ms | p99 ms | max ms | gateway process: CPU per backup; event-loop delay p50 / p99 / max ms |',
    '|---|---:|---:|---:|---:|---|',
    row(`1 subscriber (baseline), ${baseline.items} items`, figures(baseline.delays), processOf(baseline)),
    row(`${fanOut.subscribers} subscribers, ${fanOut.items} items`, f, processOf(fanOut), true),
    row(`… per item, its first subscriber`, figures(fanOut.first), ''),
    row(`… per item, its last subscriber`, figures(fanOut.last), ''),
    '',
    `Every subscriber got every item of each backup, once, in log order: ${fanOut.identical && baseline.identical ? 'yes' : '**no**'}. Log subscriptions opened while the subscribers followed: ${extra.logSubscriptions} (the gateway's one, opened at its start, serves them all). Longest subscription queue: ${extra.maxQueued} events; slow-consumer closes: ${extra.slowConsumerCloses}. The gateway process's figures cover the timed backups: its CPU time (\`process.cpuUsage\`: the log, the read models, the Velero driver and the subscriptions; the clusters and the clients are other processes) and its event-loop delay (\`monitorEventLoopDelay\`: how long ready work waited for the thread, a floor under every delivery's delay).`,
    '',
    `Target: delivery p99 < ${TARGET_P99_MS} ms from the append with ${fanOut.subscribers} subscribers: ${pass ? 'PASS' : 'FAIL'}.`,
    MARKERS.end,
  ].join('\n');
  return { text: markdown.split('\n').slice(1, -1).join('\n'), markdown, failed: !pass };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'canopy-bench-progress-'));
  const secret = randomBytes(32).toString('base64url');
  const names = Array.from({ length: sizes.clusters }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  const env = {
    CANOPY_DATA_DIR: dataDir,
    CANOPY_JWT_SECRET: secret,
    CANOPY_LOG_LEVEL: 'warn',
    PORT: '0',
    CANOPY_MODE: 'production',
    CANOPY_RATE_LIMIT_PER_MINUTE: '0',
    ...(store === 'postgres' ? { CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: postgresUrl(), CANOPY_POSTGRES_SCHEMA: `bench_progress_${Date.now().toString(36)}`, CANOPY_MASTER_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const token = await mintToken({ secret: new TextEncoder().encode(secret), issuer: 'canopy', audience: 'canopy', userId: OWNER, ttlSeconds: 3600 });
  log(`starting ${sizes.clusters} simulated clusters, ${sizes.items} objects each to back up`);
  const clusters = await startClusters({ kind: 'start', directory: join(dataDir, 'clusters'), names, items: sizes.items });
  const gateway = await startGateway(loadConfig(env), pino({ level: 'warn' }));
  try {
    const client = graphqlClient(`${gateway.url}/graphql`, token);
    log(`setting up a workspace over the ${sizes.clusters} clusters`);
    const ids = await setUp(client, clusters.kubeconfigs);
    // Counts the log subscriptions opened from here on: the subscribers must not open any.
    const logStore = gateway.store!;
    const subscribeToAll = logStore.subscribeToAll.bind(logStore);
    let logSubscriptions = 0;
    logStore.subscribeToAll = (options) => {
      logSubscriptions += 1;
      return subscribeToAll(options);
    };
    const baseline = await phase(gateway, client, ids, token, 1, 1, sizes.backups);
    const fanOut = await phase(gateway, client, ids, token, sizes.subscribers, 1, sizes.backups);
    const stats = gateway.subscriptions.stats();
    const result = report(baseline, fanOut, {
      logSubscriptions,
      maxQueued: stats.maxQueued,
      slowConsumerCloses: stats.slowConsumerCloses,
      load: [loadAtStart, os.loadavg()[0]!],
      seconds: (performance.now() - started) / 1000,
    });
    console.log(result.text);
    if (!process.argv.includes('--no-write')) writeSection(join(repoRoot(), 'BENCHMARKS.md'), result.markdown, MARKERS);
    process.exitCode = result.failed ? 1 : 0;
  } finally {
    await gateway.stop();
    await clusters.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--subscribers')) subscribersMain();
else if (process.argv.includes('--clusters')) clustersMain();
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(2);
  });
