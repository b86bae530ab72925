/** What the mutation benchmark runs and where: sizes, the PostgreSQL server, the machine, the repository root. */

/** A benchmark setting from the environment: a whole number from 1 to `max`, else `fallback`. */
export function positiveInt(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}; got "${text}".`);
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
    warmup: positiveInt('CANOPY_BENCH_WARMUP', 500),
    rounds: positiveInt('CANOPY_BENCH_ROUNDS', 5),
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

/** The PostgreSQL server (CANOPY_BENCH_POSTGRES_URL), the machine and the repository, as the log benchmark sees them. */
export { machine, packageVersion, postgresUrl, redact, repoRoot, type Machine } from '@canopy/eventstore/bench-kit';
