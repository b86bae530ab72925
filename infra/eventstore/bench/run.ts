/**
 * `npm run bench`: measures the log's adapters and the emmett-postgresql peer,
 * prints the table and writes BENCHMARKS.md at the repository root.
 * With `--section ID` it is the child process measuring one subject.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { postgresUrl, redact, repoRoot } from './config.js';
import { machine } from './machine.js';
import { probePostgres } from './postgres-server.js';
import { consoleReport, markdownReport, type Report } from './report.js';
import { runSection, sectionMain, type SectionResult } from './sections.js';
import { SUBJECTS } from './subjects.js';

async function main(): Promise<number> {
  const start = performance.now();
  const date = new Date();
  const url = postgresUrl();
  const probe = await probePostgres(url);
  if (probe.ok) console.error(`PostgreSQL: ${probe.version} at ${redact(url)}`);
  else console.error(`PostgreSQL: NOT MEASURED — no server answered at ${redact(url)} (${probe.reason}); the PostgreSQL adapter and peer rows are skipped.`);

  const results: SectionResult[] = [];
  for (const subject of SUBJECTS) {
    if (subject.needsPostgres && !probe.ok) {
      results.push({ id: subject.id, status: 'not-measured', reason: `no PostgreSQL server answered at ${redact(url)} (${probe.reason})` });
      continue;
    }
    results.push(await runSection(fileURLToPath(import.meta.url), subject.id));
  }

  const report: Report = {
    date,
    seconds: (performance.now() - start) / 1000,
    machine: machine(probe.ok ? probe.version : 'none answered'),
    postgresUrl: url,
    postgresDown: probe.ok ? undefined : probe.reason,
    results,
  };
  console.log(`\n${consoleReport(report)}`);
  const file = join(repoRoot(), 'BENCHMARKS.md');
  // The log's report is the file's head; the other benchmarks' sections (from the first marker on) stay.
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const sections = previous.indexOf('<!-- bench:');
  writeFileSync(file, sections < 0 ? markdownReport(report) : `${markdownReport(report).trimEnd()}\n\n${previous.slice(sections)}`);
  console.log(`\nWrote ${file}`);
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

const sectionFlag = process.argv.indexOf('--section');
if (sectionFlag >= 0) {
  await sectionMain(process.argv[sectionFlag + 1] ?? '');
} else {
  process.exitCode = await main();
}
