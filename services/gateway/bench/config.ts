/** What the mutation benchmark runs and where: sizes, the PostgreSQL server, the machine, the repository root. */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function positiveInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number; got "${text}".`);
  return value;
}

export interface Sizes {
  /** Timed round trips per run. */
  mutations: number;
  /** Untimed round trips before each run, on the same workspace (or table). */
  warmup: number;
  /** Runs per subject; subject and baseline alternate, and the report shows medians. */
  rounds: number;
}

export function sizes(): Sizes {
  return {
    mutations: positiveInt('CANOPY_BENCH_MUTATIONS', 2_000),
    warmup: positiveInt('CANOPY_BENCH_WARMUP', 200),
    rounds: positiveInt('CANOPY_BENCH_ROUNDS', 3),
  };
}

/** The benchmark's workspace holds this many namespaces at most: the loop adds up to it, then removes the oldest and adds the next in turn. */
export const NAMESPACES = 20;

/** The target: Canopy's p50 at most this many times the baseline's. */
export const TARGET_RATIO = 1.5;

export type StoreId = 'pglite' | 'postgres';
export const STORES: readonly StoreId[] = ['pglite', 'postgres'];

/** CANOPY_BENCH_STORES=pglite (or postgres) measures one store only. */
export function selectedStores(): StoreId[] {
  const text = process.env.CANOPY_BENCH_STORES;
  if (!text) return [...STORES];
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of list) if (!STORES.includes(id as StoreId)) throw new Error(`CANOPY_BENCH_STORES: unknown store "${id}"; known: ${STORES.join(', ')}`);
  return list as StoreId[];
}

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The same variable and default as the log benchmark (infra/eventstore/bench). */
export function postgresUrl(): string {
  return process.env.CANOPY_BENCH_POSTGRES_URL || DEFAULT_POSTGRES_URL;
}

/** Hides the password of a connection URL. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

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

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  postgres: string;
}

export function machine(postgres: string): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
  };
}
