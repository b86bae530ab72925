/**
 * Fan-out: one workspace attached to 100 simulated clusters (one node each,
 * all in this process, each its own HTTPS API server); one change to the
 * workspace, timed until every cluster reports in sync with it. Prints the
 * figures and writes the "Reconciler fan-out" section of BENCHMARKS.md
 * (`--no-write` leaves it alone).
 *
 *   npm run build -w @canopy/reconciler && node services/reconciler/dist/bench/fan-out.js [--clusters 100] [--runs 5]
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { machine, repoRoot } from '@canopy/eventstore/bench-kit';
import { EventLog, openPgliteEventStore } from '@canopy/eventstore';
import { openKeyStore } from '@canopy/keystore';
import { ClusterConnector, simulatorDirectory, startSimulatedCluster, type SimulatedCluster } from '@canopy/kube';
import { canopyEventRegistry } from '@canopy/schema';
import { startWorkspacesService, type CommandContext, type WorkspaceCommand } from '@canopy/workspaces';
import { startReconciler, type Reconciler } from '../src/index.js';

const TARGET_MS = 5000;
/** 3 namespaces, 1 quota, 3 secrets, 2 role bindings, the image policy and its binding. */
const OBJECTS_PER_CLUSTER = 11;
const SECTION_START = '<!-- bench:reconciler-fan-out:start -->';
const SECTION_END = '<!-- bench:reconciler-fan-out:end -->';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Resolves with the time (ms from `start`) when every cluster of the workspace is in sync with a state at least as new as `position`. */
async function allInSync(reconciler: Reconciler, workspaceId: string, count: number, start: number, position: bigint | undefined): Promise<number> {
  await reconciler.reached(position);
  for (;;) {
    const statuses = reconciler.status(workspaceId);
    if (statuses.length === count && statuses.every((s) => s.state === 'in-sync')) return performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function main(): Promise<void> {
  const clusterCount = flag('clusters', 100);
  const runs = flag('runs', 5);
  const concurrency = flag('concurrency', 16);
  const ada: CommandContext = { userId: 'ada' };
  const began = performance.now();

  const store = await openPgliteEventStore();
  const keys = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
  const log = new EventLog(store, canopyEventRegistry());
  const service = await startWorkspacesService({ log, keys: keys.keys });
  const sims: SimulatedCluster[] = [];
  for (let i = 0; i < clusterCount; i++) sims.push(await startSimulatedCluster({ name: `sim-${String(i + 1).padStart(3, '0')}`, nodes: 1 }));
  console.error(`${clusterCount} simulated clusters up after ${Math.round(performance.now() - began)} ms`);

  const { organizationId } = await service.commands.createOrganization(ada, { name: 'bench', kind: 'team' });
  const { workspaceId } = await service.commands.createWorkspace(ada, { organizationId, name: 'fan-out', kind: 'project' });
  const run = async (command: WorkspaceCommand) =>
    service.commands.workspaceCommand(ada, workspaceId, service.directory.workspace(workspaceId)!.version, command, () => command);
  for (const sim of sims) await run({ type: 'AttachCluster', clusterId: service.commands.newClusterId(ada, workspaceId), name: sim.name, connection: { kind: 'simulator', simulator: sim.name } });
  for (const namespace of ['web', 'api', 'db']) await run({ type: 'AddNamespace', namespace });
  await run({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '1', memory: '1Gi' });
  await run({ type: 'AddRoleBinding', name: 'devs', namespaces: ['web', 'api'], role: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'devs', namespace: null }] });
  await run({ type: 'RestrictImage', namespace: 'web', image: 'docker.io/library/nginx:*' });
  await service.commands.writeSecret(ada, workspaceId, service.directory.workspace(workspaceId)!.version, 'db-credentials', [{ key: 'password', value: 'bench' }]);

  const connector = new ClusterConnector(simulatorDirectory(sims));
  const startedAt = performance.now();
  const reconciler = await startReconciler({ log, keys: keys.keys, connector, concurrency, resyncIntervalMs: 600_000 });
  const initialMs = await allInSync(reconciler, workspaceId, clusterCount, startedAt, undefined);
  console.error(`initial convergence of ${clusterCount} clusters: ${Math.round(initialMs)} ms`);

  const changes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = await run({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: String(2 + i), memory: `${2 + i}Gi` });
    const ms = await allInSync(reconciler, workspaceId, clusterCount, start, result.position);
    const sample = sims[clusterCount - 1]!.api.list(sims[clusterCount - 1]!.api.resource('v1', 'ResourceQuota'), { namespace: 'web' }).items[0] as { spec: { hard: Record<string, string> } };
    if (sample.spec.hard['requests.cpu'] !== String(2 + i)) throw new Error(`the last cluster's quota is ${JSON.stringify(sample.spec.hard)} after the change`);
    changes.push(ms);
    console.error(`change ${i + 1}: all ${clusterCount} clusters in sync after ${Math.round(ms)} ms`);
  }

  await reconciler.stop();
  await service.close();
  await Promise.all(sims.map((sim) => sim.stop()));
  await keys.close();
  await store.close();

  const m = machine('not used');
  const figure = median(changes);
  const verdict = figure < TARGET_MS ? 'PASS' : 'FAIL';
  const lines = [
    SECTION_START,
    '## Reconciler fan-out',
    '',
    '_Generated by `services/reconciler/bench/fan-out.ts`; re-run: `npm run build -w @canopy/reconciler && node services/reconciler/dist/bench/fan-out.js`._',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} memory; ${m.os}; Node ${m.node}`,
    `- Setup: one workspace (3 namespaces, a quota, a role binding, an image restriction, a secret: ${OBJECTS_PER_CLUSTER} objects per cluster) attached to ${clusterCount} simulated clusters of one node each, all in the benchmark's process (each its own HTTPS API server, reached through the real client-node); the log on PGlite in memory; reconciler concurrency ${concurrency} clusters, 8 calls in flight per cluster.`,
    `- Measured: from the command that changes the namespace's quota until every cluster reports in sync with it (the reconciler folds the event from its log subscription, applies on each cluster what differs from its last sync there — a change needs no listing; resyncs list and compare everything — and records an outcome event per cluster); ${runs} changes, one after another.`,
    '',
    '| Figure | Value |',
    '| --- | ---: |',
    `| Initial convergence (reconciler start → ${clusterCount} clusters in sync) | ${Math.round(initialMs).toLocaleString('en-US')} ms |`,
    `| One change → all ${clusterCount} in sync, median of ${runs} | ${Math.round(figure).toLocaleString('en-US')} ms |`,
    `| … fastest / slowest | ${Math.round(Math.min(...changes)).toLocaleString('en-US')} / ${Math.round(Math.max(...changes)).toLocaleString('en-US')} ms |`,
    `| Target: median < ${TARGET_MS.toLocaleString('en-US')} ms | ${verdict} |`,
    '',
    `The simulated API servers share the benchmark process (and its ${m.cores} cores, with whatever else runs on the machine: load average ${os.loadavg()[0]!.toFixed(1)} at the end) with the reconciler, so this is an upper bound on the reconciler's own time. The initial convergence creates every object on every cluster through full syncs (lists, then applies).`,
    SECTION_END,
  ];
  const section = lines.join('\n');
  console.log(section);
  if (!process.argv.includes('--no-write')) {
    const file = join(repoRoot(), 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const start = text.indexOf(SECTION_START);
    const end = text.indexOf(SECTION_END);
    const next = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + SECTION_END.length) : `${text.replace(/\n*$/, '\n\n')}${section}\n`;
    writeFileSync(file, next);
  }
  process.exit(verdict === 'PASS' ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
