/**
 * Backups fan-out: a workspace backup over 50 simulated clusters (one node
 * each, with the simulated Velero), from the `backupNow` command to the 50
 * Velero Backup objects existing on their clusters. Everything real but the
 * clusters: the log (PGlite), the workspaces and backups services, the
 * health check probing each cluster over HTTPS, the driver creating the
 * BackupStorageLocations and Backups through client-node.
 *
 *   node dist/bench/velero.js [--no-write]   (CANOPY_BENCH_CLUSTERS, CANOPY_BENCH_RUNS)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { EventLog, openEventStore } from '@canopy/eventstore';
import { openKeyStore } from '@canopy/keystore';
import { ClusterConnector, simulatedVelero, simulatorDirectory, startSimulatedCluster, type SimulatedCluster } from '@canopy/kube';
import { canopyEventRegistry } from '@canopy/schema';
import { startWorkspacesService, type WorkspaceCommand } from '@canopy/workspaces';
import { backupProgress, probingHealthCheck, startBackupsService, startVeleroDriver } from '../index.js';

const CLUSTERS = Number(process.env['CANOPY_BENCH_CLUSTERS'] ?? 50);
const RUNS = Number(process.env['CANOPY_BENCH_RUNS'] ?? 5);
const TARGET_MS = 3000;
const START = '<!-- backups-fanout:start -->';
const END = '<!-- backups-fanout:end -->';

type Run = { commandMs: number; firstMs: number; allMs: number; finishedMs: number };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const started = performance.now();
  const clusters: SimulatedCluster[] = [];
  const names = Array.from({ length: CLUSTERS }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  for (const name of names) clusters.push(await startSimulatedCluster({ name, nodes: 1, namespaces: ['shop'], ...simulatedVelero() }));
  const opened = await openEventStore({ kind: 'pglite' });
  const keys = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
  const log = new EventLog(opened.store, canopyEventRegistry());
  const workspaces = await startWorkspacesService({ log, keys: keys.keys });
  const connector = new ClusterConnector(simulatorDirectory(clusters));
  const backups = await startBackupsService({ log, workspaces: workspaces.directory, health: probingHealthCheck({ workspaces: workspaces.directory, connector }) });
  const driver = startVeleroDriver({ log, backups, workspaces: workspaces.directory, connector });
  const as = { userId: 'ada' };
  const { organizationId } = await workspaces.commands.createOrganization(as, { name: 'Bench', kind: 'team' });
  const { workspaceId } = await workspaces.commands.createWorkspace(as, { organizationId, name: 'fleet', kind: 'project' });
  const ws = (command: WorkspaceCommand) => workspaces.commands.workspaceCommand(as, workspaceId, workspaces.directory.workspace(workspaceId)!.version, command, () => command);
  await ws({ type: 'AddNamespace', namespace: 'shop' });
  for (const name of names) await ws({ type: 'AttachCluster', clusterId: `${workspaceId}-${name}`, name, connection: { kind: 'simulator', simulator: name } });
  const { locationId } = await backups.commands.addOrganizationLocation(as, organizationId, {
    name: 'primary',
    provider: 'aws',
    bucket: 'bench-backups',
    prefix: 'canopy',
    credentials: { secretName: 'velero-credentials', key: 'cloud' },
  });
  await driver.caughtUp;

  // When each cluster's store sees a Backup created, by backup name.
  const created = new Map<string, number[]>();
  for (const cluster of clusters) {
    const backupType = cluster.api.resource('velero.io/v1', 'Backup');
    cluster.api.store.subscribe(undefined, (change) => change.resource === backupType && change.type === 'ADDED', (change) => {
      const name = String((change.object['metadata'] as { name: string }).name);
      created.set(name, [...(created.get(name) ?? []), performance.now()]);
    });
  }

  async function once(prefix: string): Promise<Run> {
    const t0 = performance.now();
    const { backupId } = await backups.commands.backupNow(as, workspaceId, { prefix, locationId, includeAllDisks: false, includeClusterResources: 'auto', namespaces: ['shop'] });
    const commandMs = performance.now() - t0;
    const request = backups.directory.backup(backupId).state.request!;
    if (request.planned.length !== CLUSTERS) throw new Error(`planned ${request.planned.length} of ${CLUSTERS} clusters: ${JSON.stringify(request.skipped)}`);
    const deadline = Date.now() + 60_000;
    while ((created.get(request.name)?.length ?? 0) < CLUSTERS) {
      if (Date.now() > deadline) throw new Error(`only ${created.get(request.name)?.length ?? 0} Backups after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const times = created.get(request.name)!;
    const run = { commandMs, firstMs: Math.min(...times) - t0, allMs: Math.max(...times) - t0, finishedMs: 0 };
    while (['Pending', 'InProgress'].includes(backupProgress(backups.directory.backup(backupId).state, new Date()).status)) {
      if (Date.now() > deadline) throw new Error('the backup did not finish within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    run.finishedMs = performance.now() - t0;
    return run;
  }

  console.error(`${CLUSTERS} simulated clusters ready; warm-up run`);
  await once('warmup');
  const runs: Run[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const run = await once(`run-${i}`);
    console.error(`run ${i}: command ${run.commandMs.toFixed(0)} ms, first Backup ${run.firstMs.toFixed(0)} ms, all ${CLUSTERS} ${run.allMs.toFixed(0)} ms, all finished ${run.finishedMs.toFixed(0)} ms`);
    runs.push(run);
  }
  await driver.close();
  await backups.close();
  await workspaces.close();
  await keys.close();
  await opened.close();
  await Promise.all(clusters.map((c) => c.stop()));

  const m = (field: keyof Run) => median(runs.map((r) => r[field]));
  const range = (field: keyof Run) => `${Math.min(...runs.map((r) => r[field])).toFixed(0)}–${Math.max(...runs.map((r) => r[field])).toFixed(0)}`;
  const met = m('allMs') < TARGET_MS;
  const rows: [string, keyof Run][] = [
    ['`backupNow` answered (50 health probes, the `BackupRequested` append)', 'commandMs'],
    ['first Backup object created', 'firstMs'],
    [`all ${CLUSTERS} Backup objects created`, 'allMs'],
    [`all ${CLUSTERS} clusters' completion recorded in the log`, 'finishedMs'],
  ];
  console.log(`\nBackups fan-out over ${CLUSTERS} clusters, median of ${RUNS} (ms from the command):`);
  for (const [label, field] of rows) console.log(`  ${label.replace(/`/g, '')}: ${m(field).toFixed(0)} (${range(field)})`);
  console.log(`  target: all Backups created < ${TARGET_MS} ms: ${met ? 'met' : 'NOT met'}`);

  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const load = os.loadavg()[0]!.toFixed(1);
  const section = [
    START,
    '## Backups fan-out',
    '',
    `\`node services/backups/dist/bench/velero.js\` (\`npm run bench -w @canopy/backups\` after a build): one workspace backup over ${CLUSTERS} simulated`,
    'clusters (one node each, the simulated Velero), from the `backupNow` command to the Velero Backup objects on the clusters.',
    'Everything but the clusters is real and in one process: the log (embedded PGlite), the workspaces and backups',
    'services, the health check probing every cluster over HTTPS (`GET /api`, `/version`), and the Velero driver',
    'following the log and applying a BackupStorageLocation then creating a Backup on each cluster through client-node.',
    `The clusters' API servers run in the same process too, so they share its event loop and cores. ${RUNS} timed runs after one warm-up`,
    '(each a new backup); the last row waits for every cluster\'s Velero (1 s start, 20 items/s) and the reports to land.',
    '',
    `Last run: ${date} UTC, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version},`,
    `load average ${load} at the end (other work shared the machine: the figures vary with it).`,
    '',
    '| from `backupNow` to | median | range |',
    '|---|---:|---:|',
    ...rows.map(([label, field]) => `| ${label} | ${m(field).toFixed(0)} ms | ${range(field)} ms |`),
    '',
    `Target: all ${CLUSTERS} Backup objects created within ${TARGET_MS / 1000} s of the command — **${met ? 'met' : 'not met'}**.`,
    '',
    'Most of the time is the command itself: it probes every cluster before planning (two HTTPS requests each, and',
    'client-node opens a new TLS connection for every request). The driver then makes one request per cluster (the',
    'Backup; the BackupStorageLocation is applied once per process and cluster, so only the warm-up run applies them),',
    'all clusters at once.',
    '',
    END,
  ].join('\n');
  if (!process.argv.includes('--no-write')) {
    const file = join(dirname(fileURLToPath(import.meta.url)), '../../../../BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const [s, e] = [text.indexOf(START), text.indexOf(END)];
    writeFileSync(file, s >= 0 && e > s ? text.slice(0, s) + section + text.slice(e + END.length) : `${text.replace(/\n*$/, '\n\n')}${section}\n`);
    console.error(`wrote the "Backups fan-out" section of ${file}`);
  }
  console.error(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
