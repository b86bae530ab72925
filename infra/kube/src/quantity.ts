/** Kubernetes resource quantities (`500m`, `2`, `128Mi`, `1G`, `1e3`) as plain numbers of base units. */

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** The quantity's value in base units (cores, bytes, counts), or undefined if it is not a quantity. */
export function parseQuantity(input: unknown): number | undefined {
  if (typeof input === 'number' && Number.isFinite(input)) return input;
  if (typeof input !== 'string') return undefined;
  const match = QUANTITY.exec(input.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2]) return base * 10 ** Number(match[2].slice(1));
  return base * SUFFIX[match[3] ?? '']!;
}

export function isQuantity(input: unknown): boolean {
  return parseQuantity(input) !== undefined;
}

/** Formats a CPU amount: whole cores as `2`, otherwise millicores `1500m`. */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Formats bytes with the largest exact binary suffix, else the largest exact decimal one, else plain. */
export function formatBytes(bytes: number): string {
  const rounded = Math.round(bytes);
  if (rounded === 0) return '0';
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const unit = SUFFIX[suffix]!;
    if (rounded % unit === 0) return `${rounded / unit}${suffix}`;
  }
  for (const suffix of ['E', 'P', 'T', 'G', 'M', 'k']) {
    const unit = SUFFIX[suffix]!;
    if (rounded % unit === 0) return `${rounded / unit}${suffix}`;
  }
  return String(rounded);
}

/** Formats an amount of the named resource the way the API server prints it in quota status. */
export function formatQuantityFor(resourceName: string, value: number): string {
  if (/(^|\.)cpu$/.test(resourceName)) return formatCpu(value);
  if (/(^|\.)(memory|storage|ephemeral-storage)$/.test(resourceName)) return formatBytes(value);
  return Number.isInteger(value) ? String(value) : formatCpu(value);
}
