import { CanopyError, Currency, ErrorCode, Id, Price, UtcSecond, type EventOf, type IdleSharingSet, type PriceBookSet } from '@canopy/schema';
import { parseField } from '@canopy/workspaces';
import type { ClusterPricing, PriceBookEntry } from '@canopy/cost';

export type PricingEvent = EventOf<typeof PriceBookSet> | EventOf<typeof IdleSharingSet>;

/** A cluster's `pricing-` stream folded: its settings by effective time, as the cost read model keeps them (a later setting at the same time replaces the earlier). */
export interface PricingState {
  clusterId: string;
  /** Revision of the stream's last event; undefined while it has none. */
  revision: bigint | undefined;
  priceBooks: ReadonlyMap<string, PriceBookEntry>;
  idleSharing: ReadonlyMap<string, boolean>;
}

export const emptyPricing = (clusterId: string): PricingState => ({ clusterId, revision: undefined, priceBooks: new Map(), idleSharing: new Map() });

export function evolvePricing(state: PricingState, event: PricingEvent, revision: bigint): PricingState {
  if (event.type === 'PriceBookSet') {
    const { effectiveFrom, currency, cpuCoreHour, memoryGiBHour, gpuHour } = event.data;
    return { ...state, revision, priceBooks: new Map(state.priceBooks).set(effectiveFrom, { effectiveFrom, currency, cpuCoreHour, memoryGiBHour, gpuHour }) };
  }
  return { ...state, revision, idleSharing: new Map(state.idleSharing).set(event.data.effectiveFrom, event.data.shared) };
}

/** The state as the API answers it: settings oldest first. */
export function pricingView(state: PricingState): ClusterPricing {
  const byTime = <T>(map: ReadonlyMap<string, T>): [string, T][] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    clusterId: state.clusterId,
    priceBooks: byTime(state.priceBooks).map(([, book]) => book),
    idleSharing: byTime(state.idleSharing).map(([effectiveFrom, shared]) => ({ effectiveFrom, shared })),
  };
}

export interface PriceBookInput {
  clusterId: string;
  effectiveFrom: string;
  currency: string;
  cpuCoreHour: string;
  memoryGiBHour: string;
  /** Absent or null: GPUs cost nothing on the cluster from `effectiveFrom` on. */
  gpuHour?: string | null;
}

export interface IdleSharingInput {
  clusterId: string;
  effectiveFrom: string;
  shared: boolean;
}

const bad = (field: string, message: string) => new CanopyError(ErrorCode.BAD_USER_INPUT, message, { field });

const HOUR_MS = 3_600_000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `effectiveFrom` as events carry it (UTC, whole seconds), checked against
 * `now`: it may not lie before the start of the current UTC hour. Usage is
 * costed with the prices in the log before it, so a setting dated further
 * back would change none of the costs already computed for that time while
 * the price list claimed otherwise; within the current hour it still prices
 * the samples of the hour not yet collected.
 */
export function effectiveFromOf(value: unknown, now: Date): string {
  const ms = typeof value === 'string' && ISO_INSTANT.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw bad('effectiveFrom', 'effectiveFrom must be an ISO 8601 instant with a time zone, e.g. 2026-03-01T00:00:00Z');
  if (ms % 1000 !== 0) throw bad('effectiveFrom', 'effectiveFrom must be a whole second');
  const hourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  if (ms < hourStart) {
    throw bad('effectiveFrom', `effectiveFrom may not be before the current hour (${iso(hourStart)}): usage already costed keeps the prices it was costed at`);
  }
  return parseField('effectiveFrom', UtcSecond, iso(ms));
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export const clusterIdOf = (value: unknown): string => parseField('clusterId', Id, value);

/** The event that sets a price book, or none when the same book is set at that time already. */
export function decidePriceBook(state: PricingState, input: PriceBookInput, now: Date): PricingEvent[] {
  const effectiveFrom = effectiveFromOf(input.effectiveFrom, now);
  const data = {
    clusterId: state.clusterId,
    effectiveFrom,
    currency: parseField('currency', Currency, input.currency),
    cpuCoreHour: parseField('cpuCoreHour', Price, input.cpuCoreHour),
    memoryGiBHour: parseField('memoryGiBHour', Price, input.memoryGiBHour),
    gpuHour: input.gpuHour == null ? null : parseField('gpuHour', Price, input.gpuHour),
  };
  const current = state.priceBooks.get(effectiveFrom);
  const same =
    current !== undefined &&
    current.currency === data.currency &&
    samePrice(current.cpuCoreHour, data.cpuCoreHour) &&
    samePrice(current.memoryGiBHour, data.memoryGiBHour) &&
    (current.gpuHour === null || data.gpuHour === null ? current.gpuHour === data.gpuHour : samePrice(current.gpuHour, data.gpuHour));
  return same ? [] : [{ type: 'PriceBookSet', data }];
}

/** The event that sets idle sharing, or none when the same setting is there at that time already. */
export function decideIdleSharing(state: PricingState, input: IdleSharingInput, now: Date): PricingEvent[] {
  const effectiveFrom = effectiveFromOf(input.effectiveFrom, now);
  if (typeof input.shared !== 'boolean') throw bad('shared', 'shared must be true or false');
  if (state.idleSharing.get(effectiveFrom) === input.shared) return [];
  return [{ type: 'IdleSharingSet', data: { clusterId: state.clusterId, effectiveFrom, shared: input.shared } }];
}

/** `"0.5"` and `"0.500"` are the same price. */
function samePrice(a: string, b: string): boolean {
  const norm = (price: string) => (price.includes('.') ? price.replace(/0+$/, '').replace(/\.$/, '') : price);
  return norm(a) === norm(b);
}
