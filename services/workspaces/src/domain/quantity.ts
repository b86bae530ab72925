import { CpuLimit, MemoryLimit } from '@canopy/schema';
import { z } from 'zod';

/**
 * Kubernetes quantities as users type them ("500m", "2", "1.5" cores;
 * "512Mi", "4Gi", "1G" bytes) or the word "unlimited", parsed into the
 * integers the events carry (millicores, bytes).
 */

const MEMORY_SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const BINARY_SUFFIXES = ['Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const;

export function parseCpu(text: string): CpuLimit | undefined {
  if (text === 'unlimited') return 'unlimited';
  const milli = /^(\d{1,12})m$/.exec(text);
  if (milli) return Number(milli[1]);
  const cores = /^(\d{1,9})(?:\.(\d{1,3}))?$/.exec(text);
  if (!cores) return undefined;
  return Number(cores[1]) * 1000 + Number((cores[2] ?? '').padEnd(3, '0'));
}

export function parseMemory(text: string): MemoryLimit | undefined {
  if (text === 'unlimited') return 'unlimited';
  const match = /^(\d{1,16})(?:\.(\d{1,6}))?(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.exec(text);
  if (!match) return undefined;
  // Exact arithmetic: "4.1G" is 4,100,000,000 bytes, though 4.1 * 1e9 is not an integer in floating point.
  const fraction = match[2] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const scaled = (BigInt(match[1]!) * scale + BigInt(fraction || '0')) * BigInt(MEMORY_SUFFIX[match[3] ?? '']!);
  return scaled % scale === 0n ? Number(scaled / scale) : undefined;
}

export function formatCpu(limit: CpuLimit): string {
  if (limit === 'unlimited') return limit;
  return limit % 1000 === 0 ? String(limit / 1000) : `${limit}m`;
}

export function formatMemory(limit: MemoryLimit): string {
  if (limit === 'unlimited') return limit;
  if (limit === 0) return '0';
  for (const suffix of BINARY_SUFFIXES) {
    const unit = MEMORY_SUFFIX[suffix]!;
    if (limit % unit === 0) return `${limit / unit}${suffix}`;
  }
  return String(limit);
}

/** A CPU quantity field: a string parsed to millicores, bounds checked. */
export const CpuQuantity = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const value = parseCpu(text);
    if (value === undefined) ctx.addIssue({ code: 'custom', message: 'must be a CPU quantity such as "500m", "2" or "unlimited"' });
    return value ?? 0;
  })
  .pipe(CpuLimit);

/** A memory quantity field: a string parsed to bytes, bounds checked. */
export const MemoryQuantity = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const value = parseMemory(text);
    if (value === undefined) ctx.addIssue({ code: 'custom', message: 'must be a whole number of bytes with an optional unit, such as "512Mi", "4Gi" or "unlimited"' });
    return value ?? 0;
  })
  .pipe(MemoryLimit);
