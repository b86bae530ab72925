import type { IdleSharingSet, PayloadOf, PriceBookSet } from '@canopy/schema';
import { allocate, epochSeconds, type Allocation, type UsageSample } from './allocation.js';
import { rollUp, RollupTotals } from './rollup.js';
import { ClusterSettings } from './settings.js';
import { priceBookOf } from './timeline.js';

/** A cost event, its payload at the current contract. */
export type CostEvent =
  | { type: 'UsageSampled'; data: UsageSample }
  | { type: 'PriceBookSet'; data: PayloadOf<typeof PriceBookSet> }
  | { type: 'IdleSharingSet'; data: PayloadOf<typeof IdleSharingSet> };

/**
 * The cost model over the log, in log order: price books and sharing
 * settings take effect for the usage that comes after them in the log, so
 * usage already costed keeps the prices it was costed at, and the same log
 * always gives the same amounts.
 */
export class CostLedger {
  constructor(readonly settings: ClusterSettings = new ClusterSettings()) {}

  /** Applies one event; a usage sample's allocation is returned. */
  apply(event: CostEvent): Allocation | undefined {
    switch (event.type) {
      case 'UsageSampled':
        return allocate(event.data, this.settings.prices(event.data.clusterId), this.settings.sharing(event.data.clusterId));
      case 'PriceBookSet':
        this.settings.setPriceBook(event.data.clusterId, epochSeconds(event.data.effectiveFrom), priceBookOf(event.data));
        return undefined;
      case 'IdleSharingSet':
        this.settings.setSharing(event.data.clusterId, epochSeconds(event.data.effectiveFrom), event.data.shared);
        return undefined;
    }
  }
}

/** Every roll-up recomputed from cost events in log order, in memory: what the read model holds after them. */
export function recompute(events: Iterable<CostEvent>): RollupTotals {
  const ledger = new CostLedger();
  const totals = new RollupTotals();
  for (const event of events) {
    const allocation = ledger.apply(event);
    if (allocation) rollUp(allocation, totals.add);
  }
  return totals;
}
