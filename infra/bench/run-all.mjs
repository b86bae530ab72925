// `npm run bench`: every benchmark in turn (each prints its figures and writes its section of BENCHMARKS.md).
// A benchmark that misses its target or fails does not stop the others; the exit code is the first non-zero one.
// `npm run bench -- <name>…` runs only those (names below).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const benchmarks = [
  ['log', 'infra/eventstore/dist/bench/run.js'],
  ['mutations', 'services/gateway/dist/bench/mutations.js'],
  ['gateway-reads', 'services/gateway/dist/bench/gateway.js'],
  ['gateway-reads-postgres', 'services/gateway/dist/bench/gateway.js', { CANOPY_BENCH_STORE: 'postgres' }],
  ['projections', 'projections/workspaces/dist/bench/projections.js'],
  ['reconciler', 'services/reconciler/dist/bench/fan-out.js'],
  ['workloads', 'services/workloads/dist/bench/ingest.js'],
  ['workload-status', 'services/gateway/dist/bench/workload-status.js'],
  ['workload-status-postgres', 'services/gateway/dist/bench/workload-status.js', { CANOPY_BENCH_STORE: 'postgres' }],
  ['backups', 'services/backups/dist/bench/velero.js'],
  ['backup-progress', 'services/gateway/dist/bench/backup-progress.js'],
  ['backup-progress-postgres', 'services/gateway/dist/bench/backup-progress.js', { CANOPY_BENCH_STORE: 'postgres' }],
  ['cost', 'projections/cost/dist/bench/cost.js'],
];
const only = process.argv.slice(2);
const unknown = only.filter((name) => !benchmarks.some(([known]) => known === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map(([name]) => name).join(', ')}`);
  process.exit(2);
}
let exitCode = 0;
for (const [name, script, env] of benchmarks) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.error(`\n=== benchmark: ${name} (node ${script})`);
  const { status, signal } = spawnSync(process.execPath, [script], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const code = status ?? (signal ? 1 : 0);
  if (code !== 0) console.error(`=== ${name}: exit ${code}${signal ? ` (${signal})` : ''}`);
  if (exitCode === 0) exitCode = code;
}
process.exit(exitCode);
