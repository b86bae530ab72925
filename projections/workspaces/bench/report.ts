/** The results as a console table and as the "Projections" section of BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { redact, type Machine } from '@canopy/eventstore/bench-kit';
import { median, type Percentiles } from './measure.js';
import type { FillFigures } from './traffic.js';

export type StoreId = 'pglite' | 'postgres';

export interface Sizes {
  /** Events in the log. */
  events: number;
  /** Live phase: events per second, and for how long. */
  liveRate: number;
  liveSeconds: number;
  /** Timed catch-up reads of the log (the report shows their median). */
  catchUpRuns: number;
  /** Whether a fresh runner catching all four up at once is measured too. */
  concurrent: boolean;
}

export interface ModelFigures {
  name: string;
  version: number;
  events: number;
  ms: number;
  eventsPerSecond: number;
  /** SQL statements `apply` ran per event applied. */
  statementsPerEvent: number;
  /** Of the rebuild's wall time: inside `apply`, and awaiting its statements. */
  applyShare: number;
  queryShare: number;
}

export interface LiveFigures {
  events: number;
  seconds: number;
  achievedRate: number;
  /** Append acknowledged → `waitFor('all', position)` resolved (ms). */
  ackToVisible: Percentiles;
  /** Append started → resolved (ms). */
  startToVisible: Percentiles;
  /** The append itself (ms). */
  append: Percentiles;
  timeouts: number;
}

export type StoreResult =
  | {
      store: StoreId;
      status: 'measured';
      fill: FillFigures;
      /** events/s of each timed run. */
      catchUp: number[];
      counter: ModelFigures;
      models: ModelFigures[];
      all: { events: number; ms: number; eventsPerSecond: number; statementsPerEvent: number };
      /** The three read models the issue's target names (membership, quotas, workspace_summary), one `rebuild()` of a runner holding only them. */
      three: { events: number; ms: number; eventsPerSecond: number };
      concurrent: { ms: number; eventsPerSecond: number } | undefined;
      live: LiveFigures;
      notes: string[];
      seconds: number;
    }
  | { store: StoreId; status: 'not-measured' | 'failed'; reason: string };

type Measured = Extract<StoreResult, { status: 'measured' }>;

export interface Report {
  date: Date;
  seconds: number;
  machine: Machine;
  sizes: Sizes;
  postgresUrl: string;
  versions: Record<string, string>;
  /** The commit and whether the packages measured had uncommitted changes. */
  code: string;
  /** The machine's 1-minute load average, every 10 s through the run. */
  load: number[];
  results: StoreResult[];
}

export const REBUILD_TARGET = 20_000;
export const LAG_TARGET_MS = 50;

const STORE_LABEL: Record<StoreId, string> = { pglite: 'Embedded (PGlite on disk)', postgres: 'PostgreSQL' };
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);
const us = (eventsPerSecond: number) => (1e6 / eventsPerSecond).toFixed(1);
const pct = (n: number) => `${Math.round(n * 100)}%`;

interface Verdict {
  store: StoreId;
  target: string;
  measured: string;
  goal: string;
  result: string;
}

function verdicts(report: Report): Verdict[] {
  const out: Verdict[] = [];
  for (const r of report.results) {
    const notChecked = r.status === 'measured' ? undefined : `not checked (${r.status.replace('-', ' ')}: ${r.reason})`;
    if (r.store === 'postgres') {
      out.push({
        store: r.store,
        target: 'Rebuild of the three read models (membership, quotas, workspace_summary) ≥ 20,000 events/s',
        measured: r.status === 'measured' ? `${int(r.three.eventsPerSecond)} events/s` : '—',
        goal: `${int(REBUILD_TARGET)} events/s`,
        result: notChecked ?? ((r as Measured).three.eventsPerSecond >= REBUILD_TARGET ? 'PASS' : 'FAIL'),
      });
    }
    out.push({
      store: r.store,
      target: `Live lag p99 < ${LAG_TARGET_MS} ms at ${report.sizes.liveRate} mutations/s`,
      measured: r.status === 'measured' ? `${ms(r.live.ackToVisible.p99)} ms` : '—',
      goal: `< ${LAG_TARGET_MS} ms`,
      result: notChecked ?? ((r as Measured).live.ackToVisible.p99 < LAG_TARGET_MS && (r as Measured).live.timeouts === 0 ? 'PASS' : 'FAIL'),
    });
  }
  return out;
}

/** A missed target, or a store that could not be measured because of an error (not one without a PostgreSQL server). */
export function failed(report: Report): boolean {
  return report.results.some((r) => r.status === 'failed') || verdicts(report).some((v) => v.result === 'FAIL');
}

const REBUILD_HEAD = ['Store', 'Subject', 'events/s', 'µs/event', 'SQL statements/event', 'in apply / awaiting SQL'];

function rebuildRows(report: Report, label: (s: string) => string): string[][] {
  const rows: string[][] = [];
  for (const r of report.results) {
    const store = STORE_LABEL[r.store];
    if (r.status !== 'measured') {
      rows.push([store, '—', r.status === 'failed' ? 'failed' : 'not measured', '', '', '']);
      continue;
    }
    const catchUp = median(r.catchUp);
    rows.push([store, label('Baseline: the log’s catch-up read (no projection)'), int(catchUp), us(catchUp), '—', '—']);
    const model = (name: string, m: ModelFigures) => [
      store,
      label(name),
      int(m.eventsPerSecond),
      us(m.eventsPerSecond),
      m.statementsPerEvent.toFixed(2),
      `${pct(m.applyShare)} / ${pct(m.queryShare)}`,
    ];
    rows.push(model('Baseline: trivial projector (one UPDATE per event), same runner', r.counter));
    for (const m of r.models) rows.push(model(`\`${m.name}\` v${m.version}`, m));
    rows.push([store, label('**The three of the target** (membership, quotas, workspace_summary), one `rebuild()`'), `**${int(r.three.eventsPerSecond)}**`, us(r.three.eventsPerSecond), '—', '—']);
    rows.push([store, label('All four (the three and `audit`), one `rebuild()`'), int(r.all.eventsPerSecond), us(r.all.eventsPerSecond), r.all.statementsPerEvent.toFixed(2), '—']);
    if (r.concurrent) rows.push([store, label('All four, fresh runner catching up at once'), int(r.concurrent.eventsPerSecond), us(r.concurrent.eventsPerSecond), '—', '—']);
  }
  return rows;
}

const LIVE_HEAD = ['Store', 'events (rate)', 'ack → visible p50 / p99 / max (ms)', 'start → visible p50 / p99 / max (ms)', 'append p50 / p99 (ms)', 'not visible in 10 s'];

function liveRows(report: Report): string[][] {
  return report.results.map((r) => {
    if (r.status !== 'measured') return [STORE_LABEL[r.store], r.status === 'failed' ? 'failed' : 'not measured', '', '', '', ''];
    const l = r.live;
    const three = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p99)} / ${ms(p.max)}`;
    return [STORE_LABEL[r.store], `${int(l.events)} (${int(l.achievedRate)}/s)`, three(l.ackToVisible), three(l.startToVisible), `${ms(l.append.p50)} / ${ms(l.append.p99)}`, String(l.timeouts)];
  });
}

function loadSummary(load: readonly number[]): string {
  if (load.length === 0) return 'not sampled';
  const sorted = [...load].sort((a, b) => a - b);
  const share = load.filter((l) => l > 2.5).length / load.length;
  return `median ${median(load).toFixed(2)}, max ${sorted[sorted.length - 1]!.toFixed(2)}; above 2.5 (other work competing for the cores) ${Math.round(share * 100)}% of the time`;
}

/** Plain-text tables for the terminal. */
export function consoleReport(report: Report): string {
  const plain = (s: string) => s.replace(/[`*]/g, '');
  const render = (head: string[], body: string[][], leftColumns: number) => {
    const table = [head, ...body.map((row) => row.map(plain))];
    const widths = head.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
    const line = (row: string[]) => row.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
  };
  const out = [
    `Rebuild from zero, ${int(report.sizes.events)} events of workspace traffic:`,
    render(REBUILD_HEAD, rebuildRows(report, plain), 2),
    '',
    `Live lag, ${report.sizes.liveRate} single-event appends/s for ${report.sizes.liveSeconds} s, all four read models live:`,
    render(LIVE_HEAD, liveRows(report), 1),
    '',
    'Targets:',
  ];
  for (const v of verdicts(report)) out.push(`  ${(v.result.startsWith('not') ? 'not checked' : v.result).padEnd(11)} ${STORE_LABEL[v.store]}: ${v.target}: ${v.measured}${v.result.startsWith('not') ? ` — ${v.result}` : ''}`);
  for (const r of report.results) if (r.status === 'failed') out.push(`FAILED: ${STORE_LABEL[r.store]}: ${r.reason}`);
  out.push('', `Machine load: ${loadSummary(report.load)}`);
  return out.join('\n');
}

export const SECTION_START = '<!-- bench:projections:start -->';
export const SECTION_END = '<!-- bench:projections:end -->';

/** The section, between its marker comments. */
export function markdownSection(report: Report): string {
  const md: string[] = [SECTION_START];
  const table = (head: string[], body: string[][], leftColumns: number) => {
    md.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < leftColumns ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const row of body) md.push(`| ${row.join(' | ')} |`);
    md.push('');
  };
  const m = report.machine;
  const s = report.sizes;
  const envPrefix = process.env.CANOPY_BENCH_POSTGRES_URL ? `CANOPY_BENCH_POSTGRES_URL='${redact(report.postgresUrl)}' ` : '';
  const measured = report.results.filter((r): r is Measured => r.status === 'measured');
  const fill = measured[0]?.fill;
  md.push(
    '## Projections',
    '',
    '_Generated by `projections/workspaces/bench/projections.ts`; do not edit by hand — re-run instead. `npm run bench` runs it after the mutation benchmark above and replaces only this section._',
    '',
    `- Date: ${report.date.toISOString()} (took ${Math.round(report.seconds)} s)`,
    `- Re-run: \`${envPrefix}npm run bench\` from the repository root (everything), or \`${envPrefix}npm run bench -w @canopy/workspace-read-models\` (this section only, after \`npm run build\`); \`CANOPY_BENCH_PROJECTION_EVENTS\` sets the log's size (default 1,000,000)`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} memory; ${m.os}`,
    `- Node ${m.node}; PostgreSQL server: ${m.postgres} at \`${redact(report.postgresUrl)}\`; ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- Code measured: ${report.code}`,
    `- Machine load through the run (1-minute load average, sampled every 10 s; this benchmark alone accounts for about 1–2): ${loadSummary(report.load)}`,
    '',
  );
  if (fill) {
    md.push(
      `The log: **${int(fill.events)} events** of organization and workspace traffic (\`bench/traffic.ts\`, seeded, the same on both stores): ${int(fill.organizations)} organizations, ${int(fill.workspaces)} workspaces (${int(fill.deletedWorkspaces)} deleted), appended in ${int(fill.appends)} appends through \`EventLog.append\` — each payload validated against its contract, each event stamped with schemaVersion, occurredAt, actor and correlationId — one organization's events (1–3) or a burst of one workspace's (20–200) per append, with exact expected revisions. Event mix: ${fill.mix.map(([type, count]) => `${type} ${((count / fill.events) * 100).toFixed(1)}%`).join(', ')}.`,
      '',
    );
  }
  md.push(`### Rebuild from zero`, '');
  table(REBUILD_HEAD, rebuildRows(report, (x) => x), 2);
  md.push(`### Live lag at ${s.liveRate} mutations/s`, '');
  table(LIVE_HEAD, liveRows(report), 1);

  md.push('### Targets', '');
  table(
    ['Store', 'Target', 'Measured', 'Goal', 'Result'],
    verdicts(report).map((v) => [STORE_LABEL[v.store], v.target, v.measured, v.goal, v.result]),
    2,
  );

  md.push(
    '### What each row measures',
    '',
    `Each store runs in a child process of its own. Its log is filled once (untimed) and every run reads the same events. Embedded: the log and the read models in two PGlite databases in a temporary directory on disk (\`openEventStore({ kind: 'pglite', dataDir })\` and \`openReadModelDb({ kind: 'pglite', dataDir })\`, as \`npm start\` keeps them in \`.canopy/data\`), in the benchmark's process. PostgreSQL: the log in a fresh schema and the read models under a fresh schema prefix on the server (\`openEventStore({ kind: 'postgres', url, schema })\`, \`openReadModelDb({ kind: 'postgres', url, schemaPrefix })\`), dropped afterwards; after the fill the log's table is ANALYZEd, as autovacuum would have done for a log that grew over time (with the statistics of a table filled seconds ago, the planner serves each filtered catch-up page by sorting the rest of the log, which makes a catch-up quadratic — worth knowing after a bulk import). The runner's batch size is its default (2,000 events per transaction while catching up).`,
    '',
    `- **Baseline: the log’s catch-up read**: \`store.subscribeToAll({ filter })\` with the read models' filter (\`organization-\`, \`workspace-\` streams), from the start of the log until \`caught-up\`, every event iterated; no projection, no read-model database. Median of ${s.catchUpRuns} runs after an untimed one. It is the floor under every row below: each projector reads the log this way.`,
    `- **Baseline: trivial projector**: a projector whose \`apply\` runs one statement (\`UPDATE counter SET events = events + 1, last_position = $1 WHERE slot = $2\`, the slot being the position modulo 1,024), rebuilt with \`ProjectionRunner.rebuild()\`: the runtime's own cost (subscription, batches, one transaction per 2,000 events with its checkpoint) plus one round trip per event. The difference to a read model's row is that read model's own work.`,
    `- **\`membership\`, \`quotas\`, \`workspace_summary\`, \`audit\`**: a rebuild from zero of \`workspaceProjectors\` (the four read models the gateway serves from), each read model dropping its schema, creating its tables and following the log from its start to the head: events/s is the log's events over its \`RebuildResult.elapsedMs\` (head read → caught up). Taken from the all-four \`rebuild()\` below when the runtime rebuilt them one after another; when it rebuilt them side by side, from a \`rebuild(name)\` of each alone (the setup notes say which). SQL statements/event: what its \`apply\` ran per event; in apply / awaiting SQL: the share of the rebuild's time spent inside \`apply\` and, of that, awaiting its statements (the rest of \`apply\` is decoding and validating the payload; the rest of the rebuild, the runtime: reading the log, transactions, checkpoints). The read models net a batch's writes per row (\`BatchChanges\`), so a batch of 2,000 events costs a handful of multi-row statements per table; catching up, they run one by one with parameters, inside \`applyBatch\` (a write-only projector's batch goes as one script only live). To count, each projector is wrapped — every property kept — with a transaction that counts and times its statements (under a microsecond per statement).`,
    `- **The three of the target**: the issue's target names three read models (membership, quotas and the workspace summary); a runner holding only those three, \`runner.rebuild()\` in one call: the log's events over the call's wall time. **The rebuild target is checked on this row.**`,
    `- **All four, one \`rebuild()\`**: the same with the audit trail too (the fourth read model, which the GraphQL history reads): \`runner.rebuild()\` of the four in one call, however the runtime schedules them (one after another, or side by side).`,
    `- **All four, fresh runner catching up at once** (only with CANOPY_BENCH_PROJECTION_CONCURRENT=1): a new \`ProjectionRunner\` on an empty set of read models (another schema prefix on the same database), \`start()\` until \`waitFor('all', head)\` resolves: the four projectors follow the log concurrently, as at a gateway's first start on a full log.`,
    `- **Live lag**: after the rebuild, the store settles as a server does once after a bulk load (on PostgreSQL \`VACUUM (ANALYZE)\` of every table of the log and the read models — what autovacuum would otherwise do during the phase — then \`CHECKPOINT\`; on PGlite a \`CHECKPOINT\` of the read models) and its writes reach the disk (\`sync\`): otherwise the live phase measures the aftermath of the bulk load, fsyncs stalling for hundreds of milliseconds, \`runner.start()\` (all four read models live, the log and the runner sharing one store as in the gateway), then ${s.liveRate} single-event appends per second for ${s.liveSeconds} s (open loop: each on schedule, whether or not the previous one is visible yet; 100 workspaces in rotation; the same traffic's single events) through \`EventLog.append\`; per event, **ack → visible** is from the append's answer to \`runner.waitFor('all', position, 10 s)\` resolving — what a mutation's read-your-writes wait adds — and **start → visible** includes the append. The first second's events are left out (warm-up).`,
    '',
  );
  md.push('### Every run and setup', '');
  for (const r of report.results) {
    if (r.status !== 'measured') {
      md.push(`- **${STORE_LABEL[r.store]}**: ${r.status.toUpperCase().replace('-', ' ')}: ${r.reason}`);
      continue;
    }
    md.push(
      `- **${STORE_LABEL[r.store]}**: measured in ${Math.round(r.seconds)} s; log filled in ${Math.round(r.fill.seconds)} s (${int(r.fill.events / r.fill.seconds)} events/s); catch-up runs ${r.catchUp.map(int).join(' / ')} events/s; rebuild of the three ${(r.three.ms / 1000).toFixed(1)} s, of all four ${(r.all.ms / 1000).toFixed(1)} s${r.concurrent ? `, fresh runner ${(r.concurrent.ms / 1000).toFixed(1)} s` : ''}; ${r.notes.join('; ')}`,
    );
  }
  md.push('', SECTION_END);
  return md.join('\n');
}

/** Replaces this benchmark's section of `file` (between its markers), or appends it; the rest of the file is kept as it is. */
export function writeSection(file: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + SECTION_END.length)
      : text === ''
        ? `${section}\n`
        : `${text.replace(/\n*$/, '\n\n')}${section}\n`;
  writeFileSync(file, next);
}
