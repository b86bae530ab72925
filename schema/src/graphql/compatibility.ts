import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

const run = promisify(execFile);

/** The commit-message trailer that marks a breaking change of the client-facing schema as intended: `Schema-Breaking-Change: intended`. */
export const BREAKING_CHANGE_TRAILER = 'Schema-Breaking-Change';
export const BREAKING_CHANGE_INTENDED = 'intended';

export interface BreakingChange {
  message: string;
  /** The schema coordinate that broke, e.g. `Query.workspace` or `Workspace.name`. */
  path: string | undefined;
}

/** What existing clients would lose going from one SDL to the next: removed types and fields, changed types, new required arguments… (graphql-inspector, criticality BREAKING). */
export async function breakingChanges(before: string, after: string): Promise<BreakingChange[]> {
  const changes = await diff(buildSchema(before), buildSchema(after));
  return changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking).map((change) => ({ message: change.message, path: change.path }));
}

/** A commit that changed the file in a way that breaks clients. */
export interface BreakingCommit {
  commit: string;
  subject: string;
  /** The commit's message carries `Schema-Breaking-Change: intended`. */
  intended: boolean;
  changes: BreakingChange[];
}

/**
 * Every commit of `file`'s history (in `repo`) that broke clients, each
 * compared with its first parent's version of the file; a commit that adds
 * the file, and the first commit, have nothing to compare with.
 */
export async function breakingCommits(repo: string, file: string): Promise<BreakingCommit[]> {
  const log = await git(repo, ['log', `--format=%H%x1f%s%x1f%(trailers:key=${BREAKING_CHANGE_TRAILER},valueonly,separator=%x2C)%x1e`, '--', file]);
  const found: BreakingCommit[] = [];
  for (const record of log.split('\x1e')) {
    const [commit, subject = '', trailer = ''] = record.trim().split('\x1f');
    if (!commit) continue;
    const before = await fileAt(repo, `${commit}^`, file);
    if (before === undefined) continue;
    const after = await fileAt(repo, commit, file);
    const changes = after === undefined ? [{ message: `${file} was deleted`, path: undefined }] : await breakingChanges(before, after);
    if (changes.length === 0) continue;
    const intended = trailer.split(',').some((value) => value.trim().toLowerCase() === BREAKING_CHANGE_INTENDED);
    found.push({ commit, subject, intended, changes });
  }
  return found;
}

/** What the working tree's `file` breaks compared with HEAD's (nothing when HEAD has no such file). */
export async function uncommittedBreakingChanges(repo: string, file: string): Promise<BreakingChange[]> {
  const committed = await fileAt(repo, 'HEAD', file);
  if (committed === undefined) return [];
  let current: string;
  try {
    current = await readFile(join(repo, file), 'utf8');
  } catch {
    return [{ message: `${file} was deleted`, path: undefined }];
  }
  return breakingChanges(committed, current);
}

/** The files of `dir` (by name) that differ from what is expected, are missing, or are `.graphql` files no longer generated. */
export async function staleFiles(expected: Readonly<Record<string, string>>, dir: string): Promise<string[]> {
  const stale: string[] = [];
  for (const [name, content] of Object.entries(expected)) {
    const onDisk = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (onDisk !== content) stale.push(name);
  }
  const present = await readdir(dir).catch(() => [] as string[]);
  for (const name of present) if (name.endsWith('.graphql') && !(name in expected)) stale.push(name);
  return stale.sort();
}

export interface SchemaCheckReport {
  ok: boolean;
  /** What was checked and what failed, one line each, for a terminal. */
  lines: string[];
}

/**
 * The CI check of the committed GraphQL schema: the files in `dir` are what
 * the code generates (`expected`), and neither the history of `apiFile` nor
 * the working tree breaks clients without the trailer.
 */
export async function checkSchema(options: { repo: string; dir: string; expected: Readonly<Record<string, string>>; apiFile: string; regenerate: string }): Promise<SchemaCheckReport> {
  const lines: string[] = [];
  let ok = true;
  const stale = await staleFiles(options.expected, options.dir);
  if (stale.length > 0) {
    ok = false;
    for (const name of stale) lines.push(`STALE ${join(options.dir, name)}: not what the code generates. Run \`${options.regenerate}\` and commit the result.`);
  } else {
    lines.push(`up to date: ${Object.keys(options.expected).sort().join(', ')}`);
  }
  if (await git(options.repo, ['rev-parse', '--is-shallow-repository']).then((out) => out.trim() === 'true')) {
    lines.push('note: a shallow clone: only the commits it holds are checked.');
  }
  const hint = `If the break is intended, say so in the commit message with the trailer "${BREAKING_CHANGE_TRAILER}: ${BREAKING_CHANGE_INTENDED}"`;
  for (const found of await breakingCommits(options.repo, options.apiFile)) {
    if (found.intended) {
      lines.push(`intended breaking change in ${found.commit.slice(0, 12)} "${found.subject}": ${found.changes.map(describe).join('; ')}`);
      continue;
    }
    ok = false;
    lines.push(`BREAKING in commit ${found.commit.slice(0, 12)} "${found.subject}" (${options.apiFile}):`);
    for (const change of found.changes) lines.push(`  - ${describe(change)}`);
    lines.push(`  ${hint} (git commit --amend, or reword that commit before it is merged).`);
  }
  const uncommitted = await uncommittedBreakingChanges(options.repo, options.apiFile);
  if (uncommitted.length > 0) {
    ok = false;
    lines.push(`BREAKING in the working tree (${options.apiFile} against HEAD):`);
    for (const change of uncommitted) lines.push(`  - ${describe(change)}`);
    lines.push(`  ${hint} when you commit it.`);
  }
  if (ok) lines.push(`no unintended breaking change in the history of ${options.apiFile}`);
  return { ok, lines };
}

function describe(change: BreakingChange): string {
  return change.path ? `${change.path}: ${change.message}` : change.message;
}

async function fileAt(repo: string, revision: string, file: string): Promise<string | undefined> {
  try {
    return await git(repo, ['show', `${revision}:${file}`]);
  } catch {
    return undefined;
  }
}

async function git(repo: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', repo, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  return stdout;
}
