/** The results as a console table and as BENCHMARKS.md. */
import { SIZES, redact } from './config.js';
import type { Machine } from './machine.js';
import type { Figure } from './measure.js';
import type { ScenarioId } from './scenarios.js';
import type { SectionResult } from './sections.js';
import { SUBJECTS, type SubjectId } from './subjects.js';
import { eventJsonBytes } from './workload.js';

export interface Report {
  date: Date;
  seconds: number;
  machine: Machine;
  postgresUrl: string;
  /** Set when no PostgreSQL server answered. */
  postgresDown?: string;
  results: SectionResult[];
}

const COLUMNS: ReadonlyArray<{ id: ScenarioId; title: string; unit: string; measures: string }> = [
  {
    id: 'single',
    title: 'Single appends',
    unit: 'appends/s',
    measures: `${fmt(SIZES.singleAppends)} sequential appends of 1 event per run, each to one of ${SIZES.singleStreams} streams in rotation stating the stream's exact expected revision (no_stream for its first). After ${SIZES.singleWarmup} warm-up appends.`,
  },
  {
    id: 'batch',
    title: '100-event batches',
    unit: 'events/s',
    measures: `${fmt(SIZES.batchesPerRun)} sequential appends of ${SIZES.batchSize} events per run (${fmt(SIZES.batchesPerRun * SIZES.batchSize)} events), to ${SIZES.batchStreams} streams in rotation with exact expected revisions; events/s = ${SIZES.batchSize} × appends/s. After ${SIZES.batchWarmup} warm-up batches.`,
  },
  {
    id: 'readAll',
    title: 'Read-all',
    unit: 'events/s',
    measures: `The whole log, exactly ${fmt(SIZES.logEvents)} events (those the append scenarios wrote, topped up untimed with ${fmt(SIZES.fillBatchSize)}-event appends), read forwards and every event iterated (port: \`readAll()\`, pages of 1,000). After a ${fmt(SIZES.readWarmup)}-event warm-up read.`,
  },
  {
    id: 'catchUp',
    title: 'Catch-up',
    unit: 'events/s',
    measures: `A subscription from the start of the same ${fmt(SIZES.logEvents)}-event log (port: \`subscribeToAll()\`), timed from subscribing until \`caught-up\`, every event iterated.`,
  },
];

const THRESHOLD = 50_000;

interface Target {
  what: string;
  value: number | undefined;
  goal: number | undefined;
  /** Why it could not be checked. */
  unchecked?: string;
}

function figure(report: Report, id: SubjectId, scenario: ScenarioId): Figure | undefined {
  const result = report.results.find((r) => r.id === id);
  return result?.status === 'measured' ? result.figures[scenario] : undefined;
}

function why(report: Report, id: SubjectId): string {
  const result = report.results.find((r) => r.id === id);
  if (!result) return 'not run';
  return result.status === 'measured' ? '' : `${label(id)} ${result.status.replace('-', ' ')}`;
}

function targets(report: Report): Target[] {
  const list: Target[] = [];
  for (const column of COLUMNS) {
    const value = figure(report, 'postgres', column.id)?.median;
    const goal = figure(report, 'emmett', column.id)?.median;
    list.push({
      what: `PostgreSQL adapter ${column.title.toLowerCase()} ≥ peer (emmett-postgresql)`,
      value,
      goal,
      unchecked: value === undefined ? why(report, 'postgres') : goal === undefined ? why(report, 'emmett') : undefined,
    });
  }
  for (const id of ['readAll', 'catchUp'] as const) {
    const value = figure(report, 'postgres', id)?.median;
    list.push({
      what: `PostgreSQL adapter ${COLUMNS.find((c) => c.id === id)!.title.toLowerCase()} ≥ ${fmt(THRESHOLD)} events/s`,
      value,
      goal: THRESHOLD,
      unchecked: value === undefined ? why(report, 'postgres') : undefined,
    });
  }
  return list;
}

function verdict(target: Target): string {
  if (target.unchecked !== undefined || target.value === undefined || target.goal === undefined) return 'not checked';
  return target.value >= target.goal ? 'PASS' : 'FAIL';
}

function label(id: SubjectId): string {
  return SUBJECTS.find((s) => s.id === id)!.label;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function cell(result: SectionResult, scenario: ScenarioId): string {
  if (result.status !== 'measured') return result.status === 'failed' ? 'failed' : 'not measured';
  const f = result.figures[scenario];
  return f ? fmt(f.median) : '—';
}

function rows(report: Report): string[][] {
  return report.results.map((result) => [label(result.id), ...COLUMNS.map((c) => cell(result, c.id))]);
}

function header(): string[] {
  return ['Subject', ...COLUMNS.map((c) => `${c.title} (${c.unit})`)];
}

/** Plain-text table for the terminal. */
export function consoleReport(report: Report): string {
  const table = [header(), ...rows(report)];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(table[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), ''];
  if (report.postgresDown) out.push(`NOT MEASURED: PostgreSQL adapter and peer rows — no PostgreSQL server answered at ${redact(report.postgresUrl)} (${report.postgresDown}).`);
  for (const r of report.results) if (r.status === 'failed') out.push(`FAILED: ${label(r.id)}: ${r.reason}`);
  out.push('EventStoreDB row: client + gRPC protocol cost against the in-process test server on PGlite, NOT EventStoreDB speed.', '', 'Targets:');
  for (const t of targets(report)) out.push(`  ${verdict(t).padEnd(11)} ${t.what}${detail(t)}`);
  return out.join('\n');
}

function detail(t: Target): string {
  if (t.unchecked !== undefined) return ` — ${t.unchecked}`;
  if (t.value === undefined || t.goal === undefined) return '';
  return `: ${fmt(t.value)} vs ${fmt(t.goal)}`;
}

/** BENCHMARKS.md. */
export function markdownReport(report: Report): string {
  const md: string[] = [];
  const table = (head: string[], body: string[][]) => {
    md.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const row of body) md.push(`| ${row.join(' | ')} |`);
    md.push('');
  };
  const envPrefix = process.env.CANOPY_BENCH_POSTGRES_URL ? `CANOPY_BENCH_POSTGRES_URL='${redact(report.postgresUrl)}' ` : '';

  md.push(
    '# Benchmarks: the event log',
    '',
    '_Generated by `infra/eventstore/bench/run.ts`; do not edit by hand — re-run instead._',
    '',
    `- Date: ${report.date.toISOString()} (took ${Math.round(report.seconds)} s)`,
    `- Re-run: \`${envPrefix}npm run bench\` from the repository root (PostgreSQL URL from \`CANOPY_BENCH_POSTGRES_URL\`, default \`postgres://postgres@127.0.0.1:5432/test\`)`,
    `- Machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memory} memory; ${report.machine.os}`,
    `- Node ${report.machine.node}; PostgreSQL server: ${report.machine.postgres} at \`${redact(report.postgresUrl)}\``,
    '',
    'Medians of 3 timed runs, after a warm-up; higher is better.',
    '',
  );
  if (report.postgresDown) {
    md.push(`> **Not measured: the PostgreSQL adapter and the peer (emmett-postgresql).** No PostgreSQL server answered at \`${redact(report.postgresUrl)}\` (${report.postgresDown}).`, '');
  }
  md.push(
    "> **The EventStoreDB row is not EventStoreDB's speed.** It runs the EventStoreDB adapter and the official client against the in-process protocol test server backed by PGlite, so it measures the client and gRPC protocol cost on top of PGlite only.",
    '',
  );
  table(header(), rows(report));

  md.push('## Targets', '');
  table(
    ['Target', 'PostgreSQL adapter', 'Goal', 'Result'],
    targets(report).map((t) => [t.what, t.value === undefined ? '—' : fmt(t.value), t.goal === undefined ? '—' : fmt(t.goal), verdict(t) + (t.unchecked ? ` (${t.unchecked})` : '')]),
  );

  md.push('## What each figure measures', '');
  md.push(`Every subject runs the same scenarios in a child process of its own, on the same events: type \`FileAdded\`, about ${eventJsonBytes()} bytes of JSON data and metadata each.`, '');
  for (const c of COLUMNS) md.push(`- **${c.title} (${c.unit})**: ${c.measures}`);
  md.push('', '### Rows', '');
  for (const s of SUBJECTS) md.push(`- **${s.label}**: ${s.describes}`);
  md.push('');

  md.push('## Every run', '');
  table(
    ['Subject', ...COLUMNS.map((c) => `${c.title} runs (${c.unit})`)],
    report.results.map((r) => [
      label(r.id),
      ...COLUMNS.map((c) => (r.status === 'measured' && r.figures[c.id] ? r.figures[c.id]!.runs.map(fmt).join(' / ') : r.status.replace('-', ' '))),
    ]),
  );
  md.push('## Setup and status of each row', '');
  for (const r of report.results) {
    md.push(`- **${label(r.id)}**: ${r.status === 'measured' ? `measured in ${Math.round(r.seconds)} s; ${r.notes.join('; ')}` : `${r.status.toUpperCase().replace('-', ' ')}: ${r.reason}`}`);
  }
  md.push('');
  return md.join('\n');
}
