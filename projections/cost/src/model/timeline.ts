import { priceToNanos } from './money.js';

/** A cluster's prices, in nano-units of `currency` per unit-hour. */
export interface PriceBook {
  currency: string;
  cpuCoreHour: bigint;
  memoryGiBHour: bigint;
  /** 0 when GPUs are not priced. */
  gpuHour: bigint;
}

/** What `PriceBookSet` carries (decimal strings), as a `PriceBook`. */
export function priceBookOf(prices: { currency: string; cpuCoreHour: string; memoryGiBHour: string; gpuHour: string | null }): PriceBook {
  return {
    currency: prices.currency,
    cpuCoreHour: priceToNanos(prices.cpuCoreHour),
    memoryGiBHour: priceToNanos(prices.memoryGiBHour),
    gpuHour: prices.gpuHour === null ? 0n : priceToNanos(prices.gpuHour),
  };
}

/**
 * The price book of a cluster before any `PriceBookSet` takes effect:
 * OpenCost's defaults (`configs/default.json`, based on GCP us-central1),
 * in US dollars. Changing it changes what history costs, so it belongs to
 * the projector's version.
 */
export const DEFAULT_PRICE_BOOK: PriceBook = priceBookOf({ currency: 'USD', cpuCoreHour: '0.031611', memoryGiBHour: '0.004237', gpuHour: '0.95' });

/**
 * Settings that take effect at an instant and hold until the next one (a
 * cluster's price books, its idle sharing). Times are UTC epoch seconds.
 * Setting one at an instant already set replaces it.
 */
export class Timeline<T> {
  private readonly entries: { from: number; value: T }[] = [];

  constructor(private readonly initial: T) {}

  set(from: number, value: T): void {
    let index = this.entries.length;
    while (index > 0 && this.entries[index - 1]!.from > from) index--;
    if (index > 0 && this.entries[index - 1]!.from === from) this.entries[index - 1]!.value = value;
    else this.entries.splice(index, 0, { from, value });
  }

  /** The value in effect at `time`. */
  at(time: number): T {
    let value = this.initial;
    for (const entry of this.entries) {
      if (entry.from > time) break;
      value = entry.value;
    }
    return value;
  }

  /** Whether the value changes hands strictly inside (start, end): `changesIn(start, end).length > 0`, without the array. */
  changesWithin(start: number, end: number): boolean {
    for (const entry of this.entries) if (entry.from > start && entry.from < end) return true;
    return false;
  }

  /** The instants strictly inside (start, end) where the value changes hands. */
  changesIn(start: number, end: number): number[] {
    return this.entries.filter((entry) => entry.from > start && entry.from < end).map((entry) => entry.from);
  }
}
