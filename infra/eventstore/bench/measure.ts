/** Timing: one timed run, and the median of several. */
import { performance } from 'node:perf_hooks';

export interface Figure {
  /** Median rate over the runs (per second). */
  median: number;
  /** Every run's rate, in run order. */
  runs: number[];
}

export interface Timed {
  /** Operations (appends or events) done in the run. */
  count: number;
  seconds: number;
}

/** Times `work`, which resolves to the number of operations it did. */
export async function timed(work: () => Promise<number>): Promise<Timed> {
  const start = performance.now();
  const count = await work();
  return { count, seconds: (performance.now() - start) / 1000 };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `once` `runs` times (sequentially) and reports the median rate. */
export async function repeat(runs: number, once: (run: number) => Promise<Timed>): Promise<Figure> {
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { count, seconds } = await once(run);
    rates.push(count / seconds);
  }
  return { median: median(rates), runs: rates };
}
