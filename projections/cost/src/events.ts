import type { EventFilter, RecordedEvent } from '@canopy/eventstore';
import { canopyEventRegistry, costEvents, PRICING_STREAM_PREFIX, USAGE_STREAM_PREFIX, UsageSampled } from '@canopy/schema';
import type { CostEvent } from './model/ledger.js';
import { isPlainValidUsage } from './usage-check.js';

/** The events the cost read model follows: usage samples, price books and idle sharing, on their clusters' streams. */
export const costStreams: EventFilter = {
  streamPrefixes: [USAGE_STREAM_PREFIX, PRICING_STREAM_PREFIX],
  eventTypes: costEvents.map((contract) => contract.type),
};

const registry = canopyEventRegistry();
const decoded = new WeakMap<RecordedEvent, CostEvent>();

/**
 * A recorded cost event, its payload upcast to the current contract and
 * validated. Throws on a payload its contract refuses: a poison event
 * stops the projector rather than being skipped.
 */
export function decode(event: RecordedEvent): CostEvent {
  let result = decoded.get(event);
  if (!result) {
    const metadata = event.metadata as { schemaVersion?: unknown };
    const schemaVersion = typeof metadata.schemaVersion === 'number' ? metadata.schemaVersion : 1;
    // A current usage sample the quick check accepts is what the contract would return: the contract's own validation is kept for everything else.
    if (event.type === UsageSampled.type && schemaVersion === UsageSampled.version && isPlainValidUsage(event.data)) result = { type: 'UsageSampled', data: event.data };
    else result = { type: event.type, data: registry.upcast(event.type, schemaVersion, event.data) } as CostEvent;
    decoded.set(event, result);
  }
  return result;
}
