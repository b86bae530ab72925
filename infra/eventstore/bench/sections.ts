/**
 * Each subject runs in a child process of its own: no subject inherits
 * another's JIT state, garbage or global settings (emmett's pool, for one,
 * replaces `pg`'s global type parsers, which would slow the PostgreSQL
 * adapter's reads if both shared a process).
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { SECTION_TIMEOUT_MS } from './config.js';
import { runScenarios, type Figures } from './scenarios.js';
import { SUBJECTS, type SubjectId } from './subjects.js';

export type SectionResult =
  | { id: SubjectId; status: 'measured'; figures: Figures; notes: string[]; seconds: number }
  | { id: SubjectId; status: 'not-measured' | 'failed'; reason: string };

/** In the parent: runs one subject's section in a child process (this same script with `--section ID`). */
export function runSection(script: string, id: SubjectId): Promise<SectionResult> {
  return new Promise((resolve) => {
    const child = fork(script, ['--section', id], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: SectionResult | undefined;
    const timer = setTimeout(() => {
      result ??= { id, status: 'failed', reason: `did not finish within ${SECTION_TIMEOUT_MS / 60_000} minutes` };
      child.kill('SIGKILL');
    }, SECTION_TIMEOUT_MS);
    child.on('message', (message) => {
      result = message as SectionResult;
    });
    child.on('error', (error) => {
      result ??= { id, status: 'failed', reason: error.message };
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(result ?? { id, status: 'failed', reason: `the section's process exited (${signal ?? `code ${code}`}) without a result` });
    });
  });
}

/** In the child: measures the subject and sends the result to the parent. */
export async function sectionMain(id: string): Promise<void> {
  const subject = SUBJECTS.find((s) => s.id === id);
  if (!subject) throw new Error(`Unknown section ${id}; known: ${SUBJECTS.map((s) => s.id).join(', ')}`);
  const log = (line: string) => console.error(`[${subject.id}] ${line}`);
  const start = performance.now();
  let result: SectionResult;
  try {
    log(`opening ${subject.label}`);
    const opened = await subject.open();
    try {
      const figures = await runScenarios(opened.target, log);
      result = { id: subject.id, status: 'measured', figures, notes: opened.notes, seconds: (performance.now() - start) / 1000 };
    } finally {
      await opened.close();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`FAILED: ${error instanceof Error && error.stack ? error.stack : reason}`);
    result = { id: subject.id, status: 'failed', reason };
  }
  await new Promise<void>((resolve) => process.send!(result, () => resolve()));
  process.exit(0);
}
