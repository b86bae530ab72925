/** The results as a console table and as the mutation section of BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { median, type RunFigures } from './client.js';
import { NAMESPACES, TARGET_RATIO, redact, type Machine, type Sizes, type StoreId } from './config.js';

export type StoreResult =
  | { store: StoreId; status: 'measured'; subject: RunFigures[]; baseline: RunFigures[]; notes: { subject: string[]; baseline: string[] }; seconds: number }
  | { store: StoreId; status: 'not-measured' | 'failed'; reason: string };

export interface Report {
  date: Date;
  seconds: number;
  machine: Machine;
  sizes: Sizes;
  postgresUrl: string;
  versions: Record<string, string>;
  logLevel: string;
  results: StoreResult[];
}

export interface Summary {
  p50: number;
  p99: number;
  perSecond: number;
}

export function summary(runs: readonly RunFigures[]): Summary {
  return { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), perSecond: median(runs.map((r) => r.perSecond)) };
}

const STORE_LABEL: Record<StoreId, string> = { pglite: 'Embedded (PGlite)', postgres: 'PostgreSQL' };
const SUBJECT_LABEL = 'Canopy gateway: `addNamespace` / `removeNamespace`';
const BASELINE_LABEL = 'Baseline: plain `@apollo/server`, one INSERT';

const ms = (n: number) => n.toFixed(2);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

interface Verdict {
  store: StoreId;
  subject?: number;
  baseline?: number;
  ratio?: number;
  result: string;
}

function verdicts(report: Report): Verdict[] {
  return report.results.map((r) => {
    if (r.status !== 'measured') return { store: r.store, result: `not checked (${r.status.replace('-', ' ')}: ${r.reason})` };
    const subject = summary(r.subject).p50;
    const baseline = summary(r.baseline).p50;
    const ratio = subject / baseline;
    return { store: r.store, subject, baseline, ratio, result: ratio <= TARGET_RATIO ? 'PASS' : 'FAIL' };
  });
}

/** Whether a store could not be measured because of an error (as the log benchmark, a missed target does not fail the run: the report says so). */
export function failed(report: Report): boolean {
  return report.results.some((r) => r.status === 'failed');
}

function rows(report: Report, label: (s: string) => string): string[][] {
  const out: string[][] = [];
  for (const r of report.results) {
    if (r.status !== 'measured') {
      const why = r.status === 'failed' ? 'failed' : 'not measured';
      out.push([STORE_LABEL[r.store], label(SUBJECT_LABEL), why, why, why], [STORE_LABEL[r.store], label(BASELINE_LABEL), why, why, why]);
      continue;
    }
    for (const [name, runs] of [[SUBJECT_LABEL, r.subject], [BASELINE_LABEL, r.baseline]] as const) {
      const s = summary(runs);
      out.push([STORE_LABEL[r.store], label(name), ms(s.p50), ms(s.p99), int(s.perSecond)]);
    }
  }
  return out;
}

const HEAD = ['Store', 'Server', 'p50 (ms)', 'p99 (ms)', 'mutations/s'];

/** Plain-text table for the terminal. */
export function consoleReport(report: Report): string {
  const plain = (s: string) => s.replace(/`/g, '');
  const table = [HEAD, ...rows(report, plain)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), ''];
  out.push(`Medians of ${report.sizes.rounds} runs per server (subject and baseline alternating), ${int(report.sizes.mutations)} timed mutations each after ${int(report.sizes.warmup)} warm-up.`, '', 'Target: Canopy p50 ≤ 1.5 × baseline p50');
  for (const v of verdicts(report)) {
    const figures = v.ratio === undefined ? '' : `: ${ms(v.subject!)} ms / ${ms(v.baseline!)} ms = ${v.ratio.toFixed(2)}×`;
    out.push(`  ${(v.result.startsWith('not') ? 'not checked' : v.result).padEnd(11)} ${STORE_LABEL[v.store]}${figures}${v.result.startsWith('not') ? ` — ${v.result}` : ''}`);
  }
  for (const r of report.results) if (r.status === 'failed') out.push(`FAILED: ${STORE_LABEL[r.store]}: ${r.reason}`);
  return out.join('\n');
}

export const SECTION_START = '<!-- bench:gateway-mutations:start -->';
export const SECTION_END = '<!-- bench:gateway-mutations:end -->';

/** The section, between its marker comments. */
export function markdownSection(report: Report): string {
  const md: string[] = [SECTION_START];
  const table = (head: string[], body: string[][]) => {
    md.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const row of body) md.push(`| ${row.join(' | ')} |`);
    md.push('');
  };
  const m = report.machine;
  const envPrefix = process.env.CANOPY_BENCH_POSTGRES_URL ? `CANOPY_BENCH_POSTGRES_URL='${redact(report.postgresUrl)}' ` : '';
  const { mutations, warmup, rounds } = report.sizes;
  md.push(
    '## Mutation round trip (GraphQL over HTTP)',
    '',
    '_Generated by `services/gateway/bench/mutations.ts`; do not edit by hand — re-run instead. `npm run bench` runs it after the log benchmark above and replaces only this section._',
    '',
    `- Date: ${report.date.toISOString()} (took ${Math.round(report.seconds)} s)`,
    `- Re-run: \`${envPrefix}npm run bench\` from the repository root (everything), or \`${envPrefix}npm run bench -w @canopy/gateway\` (this section only, after \`npm run build\`)`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} memory; ${m.os}`,
    `- Node ${m.node}; PostgreSQL server: ${m.postgres} at \`${redact(report.postgresUrl)}\`; ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    `Medians of ${rounds} runs per server; each run is ${int(mutations)} sequential round trips after ${int(warmup)} untimed ones. Lower latency and higher mutations/s are better.`,
    '',
  );
  table(HEAD, rows(report, (s) => s));

  md.push('### Target', '');
  table(
    ['Store', 'Target', 'Canopy p50 (ms)', 'Baseline p50 (ms)', 'Ratio', 'Result'],
    verdicts(report).map((v) => [
      STORE_LABEL[v.store],
      `Canopy p50 ≤ ${TARGET_RATIO} × baseline p50`,
      v.subject === undefined ? '—' : ms(v.subject),
      v.baseline === undefined ? '—' : ms(v.baseline),
      v.ratio === undefined ? '—' : `${v.ratio.toFixed(2)}×`,
      v.result,
    ]),
  );

  md.push(
    '### What each row measures',
    '',
    `Both servers run in child processes of their own, started once per store and kept up for all the runs; the benchmark process is the client: \`fetch\` (keep-alive), one request at a time, timed from sending the request to the parsed JSON answer, which is checked. mutations/s is ${int(mutations)} over the run's wall time. The two servers' runs alternate (Canopy first in odd rounds, the baseline first in even ones), so drift on a noisy machine hits both.`,
    '',
    `- **${SUBJECT_LABEL}**: the real gateway, \`startGateway(loadConfig(env))\` from the built \`dist/\` (what \`npm start\` runs), with CANOPY_JWT_SECRET and CANOPY_MASTER_KEY set and its log lines at \`${report.logLevel}\` written to /dev/null (one line per mutation). Each request carries an HS256 bearer token (minted with \`mintToken\`) and is \`addNamespace(workspaceId, expectedVersion, namespace: "ns-<i>") { version }\` — or, once the workspace holds ${NAMESPACES} namespaces, \`removeNamespace\` of the oldest and \`addNamespace\` of the next in turn, so it keeps a realistic size — with the version the previous answer returned, as a client's loop does: the token is verified, the command is decided on the folded workspace, one event (\`NamespaceAdded\` or \`NamespaceRemoved\`) is appended to the log with its expected revision, folded, and the WorkspaceChange answered. Each run starts on a fresh workspace (\`createWorkspace\` in one organization). Embedded: CANOPY_EVENTSTORE=pglite with a fresh CANOPY_DATA_DIR (the log and the key store in PGlite on disk). PostgreSQL: CANOPY_EVENTSTORE=postgres, the log and the key store in a fresh schema (CANOPY_POSTGRES_SCHEMA) dropped afterwards.`,
    `- **${BASELINE_LABEL}**: \`startStandaloneServer\` with the SDL \`type Mutation { record(name: String!): Int! }\`, whose resolver runs \`INSERT INTO bench_record (name) VALUES ($1) RETURNING id\` and returns the id; no authentication, no log lines. Embedded: the same \`@electric-sql/pglite\` package the log uses, in a directory of its own on disk. PostgreSQL: a \`pg\` Pool (10 connections, as the log's) on the same server, the table in the same run's schema.`,
    '',
  );

  md.push('### Every run', '');
  table(
    ['Store', 'Server', 'p50 runs (ms)', 'p99 runs (ms)', 'mutations/s runs'],
    report.results.flatMap((r) => {
      if (r.status !== 'measured') return [[STORE_LABEL[r.store], '—', r.status.replace('-', ' '), '', '']];
      return ([[SUBJECT_LABEL, r.subject], [BASELINE_LABEL, r.baseline]] as const).map(([name, runs]) => [
        STORE_LABEL[r.store],
        name,
        runs.map((x) => ms(x.p50)).join(' / '),
        runs.map((x) => ms(x.p99)).join(' / '),
        runs.map((x) => int(x.perSecond)).join(' / '),
      ]);
    }),
  );
  md.push('### Setup and status of each store', '');
  for (const r of report.results) {
    md.push(
      `- **${STORE_LABEL[r.store]}**: ${r.status === 'measured' ? `measured in ${Math.round(r.seconds)} s; Canopy: ${r.notes.subject.join('; ')}; baseline: ${r.notes.baseline.join('; ')}` : `${r.status.toUpperCase().replace('-', ' ')}: ${r.reason}`}`,
    );
  }
  md.push('', SECTION_END);
  return md.join('\n');
}

/** Replaces this benchmark's section of `file` (between its markers), or appends it; the rest of the file is kept as it is. */
export function writeSection(file: string, section: string, markers: { start: string; end: string } = { start: SECTION_START, end: SECTION_END }): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  let next: string;
  if (start >= 0 && end > start) {
    next = text.slice(0, start) + section + text.slice(end + markers.end.length);
  } else {
    next = text === '' ? `${section}\n` : `${text.replace(/\n*$/, '\n\n')}${section}\n`;
  }
  writeFileSync(file, next);
}
