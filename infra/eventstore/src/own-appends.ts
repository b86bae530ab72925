import type { EventFilter, Position, RecordedEvent } from './event-store.js';

/** One append this process made: the head it started from and the events it recorded, in position order. */
export interface AppendedBatch {
  after: Position;
  events: readonly RecordedEvent[];
}

/** Does an event pass a subscription's filter (stream prefixes and event types, both when given)? */
export function matchesFilter(event: RecordedEvent, filter: EventFilter | undefined): boolean {
  if (filter?.streamPrefixes && !filter.streamPrefixes.some((prefix) => event.stream.startsWith(prefix))) return false;
  if (filter?.eventTypes && !filter.eventTypes.includes(event.type)) return false;
  return true;
}

/**
 * The last appends this process made, keyed by the head each started from.
 * Appends commit one at a time in position order, so a subscription that
 * has read up to exactly `after` may take the batch that starts there as the
 * log's next events without reading them back: they are what a read would
 * return. A subscription further behind (another process appended in
 * between) finds no batch at its position and reads.
 */
export class OwnAppends {
  private readonly batches = new Map<Position, { batch: AppendedBatch; bytes: number }>();
  /**
   * The keys in the order they were remembered, oldest at `oldest`. (Taking a Map's first entry is not
   * enough: its deleted entries stay in front until the table is rebuilt, and each look at the first entry
   * steps over all of them.)
   */
  private order: Position[] = [];
  private oldest = 0;
  private bytes = 0;

  /** `capacity`: bytes of event payloads kept (the latest batch whatever its size): at least a whole group of appends (see `AppendGroups`), which all return at once, before subscribers take them. */
  constructor(private readonly capacity = 8 * 1024 * 1024) {}

  /** `bytes`: the size of its events' data and metadata as stored. */
  remember(batch: AppendedBatch, bytes: number): void {
    const earlier = this.batches.get(batch.after);
    if (earlier) this.bytes -= earlier.bytes;
    else this.order.push(batch.after);
    this.batches.set(batch.after, { batch, bytes });
    this.bytes += bytes;
    while (this.bytes > this.capacity && this.batches.size > 1) {
      const key = this.order[this.oldest++]!;
      const entry = this.batches.get(key)!;
      this.batches.delete(key);
      this.bytes -= entry.bytes;
    }
    if (this.oldest > 1024 && this.oldest * 2 > this.order.length) {
      this.order = this.order.slice(this.oldest);
      this.oldest = 0;
    }
  }

  /**
   * The events right after `after`, if remembered: the batch that starts
   * there, or the rest of the one that holds `after` (a subscription that
   * read a page of its own, or was given a checkpoint, may stop inside a
   * batch; without this it would read for itself at every wake-up).
   */
  startingAfter(after: Position): AppendedBatch | undefined {
    const exact = this.batches.get(after)?.batch;
    if (exact) return exact;
    // Remembered in position order: the newest batch starting before `after` is the one that may hold it.
    for (let i = this.order.length - 1; i >= this.oldest; i--) {
      const key = this.order[i]!;
      if (key >= after) continue;
      const events = this.batches.get(key)?.batch.events;
      const last = events?.[events.length - 1];
      if (!events || !last || last.position <= after) return undefined;
      // A batch holds the log's events from `key + 1` on, one per position.
      const from = Number(after - key);
      if (events[from]?.position !== after + 1n) return undefined;
      return { after, events: events.slice(from) };
    }
    return undefined;
  }
}
