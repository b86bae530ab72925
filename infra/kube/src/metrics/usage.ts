import { createHash } from 'node:crypto';

/** How often the simulated metrics pipeline scrapes (metrics-server's default resolution), and the window each figure covers. */
export const SCRAPE_INTERVAL_MS = 15_000;

/** What a container gets when it requests nothing (and sets no limit): a small idle process. */
const UNREQUESTED = { cpuCores: 0.01, memoryBytes: 64 * 2 ** 20 };

export type ResourceAmounts = { cpuCores: number; memoryBytes: number };

function unitHash(...parts: (string | number)[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * A container's synthetic usage at `atMs`: a deterministic function of the
 * pod, the container, what it asks for and the time. CPU swings between
 * about 30% and 110% of the request over a period of 30 to 90 minutes (the
 * period and phase are the pod's own), with a jitter per scrape; memory
 * moves less, between about 35% and 85%. Both stay within 20% and 120% of
 * the request. A container that asks for nothing uses a little (up to
 * 10 millicores and 64 MiB), moving the same way.
 */
export function containerUsage(key: { namespace: string; pod: string; container: string }, asked: Partial<ResourceAmounts>, atMs: number): ResourceAmounts {
  const id = `${key.namespace}/${key.pod}/${key.container}`;
  const phase = unitHash(id, 'phase') * 2 * Math.PI;
  const periodMs = (30 + Math.floor(unitHash(id, 'period') * 61)) * 60_000;
  const scrape = Math.floor(atMs / SCRAPE_INTERVAL_MS);
  const angle = (2 * Math.PI * atMs) / periodMs + phase;
  const clamp = (fraction: number) => Math.min(1.2, Math.max(0.2, fraction));
  const cpuFraction = clamp(0.7 + 0.4 * Math.sin(angle) + (unitHash(id, 'cpu', scrape) - 0.5) * 0.2);
  const memoryFraction = clamp(0.6 + 0.25 * Math.sin(angle / 3) + (unitHash(id, 'memory', scrape) - 0.5) * 0.06);
  return {
    cpuCores: (asked.cpuCores && asked.cpuCores > 0 ? asked.cpuCores : UNREQUESTED.cpuCores) * cpuFraction,
    memoryBytes: (asked.memoryBytes && asked.memoryBytes > 0 ? asked.memoryBytes : UNREQUESTED.memoryBytes) * memoryFraction,
  };
}

/** CPU as metrics-server prints it: whole nanocores, `12345678n`. */
export function formatNanocores(cores: number): string {
  return `${Math.round(cores * 1e9)}n`;
}

/** Memory as metrics-server prints it: whole KiB, `204800Ki`. */
export function formatKibibytes(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}
