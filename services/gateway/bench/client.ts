/** The client side: GraphQL over HTTP with fetch (keep-alive), one request at a time, as a real client's loop. */
import { performance } from 'node:perf_hooks';

export interface GraphQLClient {
  /** Sends one operation; resolves with `data` or throws with the errors the server answered. */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T>;
}

export function graphqlClient(endpoint: string, token?: string): GraphQLClient {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  return {
    async request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
      const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (!response.ok || body.errors?.length || body.data === undefined) {
        throw new Error(`${endpoint} answered ${response.status}: ${JSON.stringify(body.errors ?? body)}`);
      }
      return body.data;
    },
  };
}

export interface Run {
  /** Milliseconds per round trip, in order. */
  latencies: number[];
  /** Wall time of the whole run, in milliseconds. */
  elapsed: number;
}

export interface RunFigures {
  p50: number;
  p99: number;
  /** Round trips per second over the run's wall time. */
  perSecond: number;
}

/** Runs `step(i)` `count` times one after another, timing each from just before the request to the parsed answer. */
export async function timed(count: number, step: (i: number) => Promise<void>): Promise<Run> {
  const latencies = new Array<number>(count);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const at = performance.now();
    await step(i);
    latencies[i] = performance.now() - at;
  }
  return { latencies, elapsed: performance.now() - start };
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function figures(run: Run): RunFigures {
  return { p50: percentile(run.latencies, 50), p99: percentile(run.latencies, 99), perSecond: run.latencies.length / (run.elapsed / 1000) };
}
