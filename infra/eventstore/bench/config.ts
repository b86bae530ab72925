/** What the benchmark runs and where: sizes, the PostgreSQL server, the repository root. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SIZES = {
  /** Timed runs per figure; the report shows their median. */
  runs: 3,
  /** Sequential 1-event appends per run. */
  singleAppends: 2_000,
  singleWarmup: 200,
  /** Events per batch append, and timed batches per run. */
  batchSize: 100,
  batchesPerRun: 100,
  batchWarmup: 10,
  /** Streams the appends rotate over (each append states the stream's exact expected revision). */
  singleStreams: 100,
  batchStreams: 10,
  /** Events per (untimed) append topping the log up to logEvents. */
  fillBatchSize: 1_000,
  /** Events in the log when read-all and catch-up are timed. */
  logEvents: 100_000,
  /** Events read (untimed) before the timed reads. */
  readWarmup: 20_000,
  /** Rows per round trip for the peer's reads; the SQL adapters' default page size is the same 1,000. */
  pageSize: 1_000,
} as const;

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function postgresUrl(): string {
  return process.env.CANOPY_BENCH_POSTGRES_URL || DEFAULT_POSTGRES_URL;
}

/** A child section gets this long before it is stopped. */
export const SECTION_TIMEOUT_MS = 15 * 60_000;

/** The monorepo root: the nearest directory above this file whose package.json declares workspaces. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No workspace root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Version of an installed package, looked up in node_modules from this file upwards. */
export function packageVersion(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

export { redactUrl as redact } from '../src/open.js';
