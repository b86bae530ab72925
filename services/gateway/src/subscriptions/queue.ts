/**
 * A first-in first-out queue of at most `capacity` items, taken by one
 * consumer at a time. `push` hands an item straight to a waiting consumer,
 * queues it, or answers false when the queue is full (the caller decides
 * what falling behind means).
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[] = [];
  private first = 0;
  private waiting: ((item: T | undefined) => void) | undefined;
  private closed = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`BoundedQueue: capacity must be a positive integer, got ${capacity}`);
  }

  get length(): number {
    return this.items.length - this.first;
  }

  /** Queues `item` (or gives it to the waiting consumer); false, and nothing queued, when full. Ignored once closed. */
  push(item: T): boolean {
    if (this.closed) return true;
    if (this.waiting) {
      const consumer = this.waiting;
      this.waiting = undefined;
      consumer(item);
      return true;
    }
    if (this.length >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  /** The next item, waiting for one; undefined once the queue is closed. */
  take(): Promise<T | undefined> {
    if (this.length > 0) {
      const item = this.items[this.first];
      this.items[this.first] = undefined;
      this.first += 1;
      if (this.first === this.items.length) this.clear();
      else if (this.first >= 1024 && this.first * 2 >= this.items.length) {
        this.items = this.items.slice(this.first);
        this.first = 0;
      }
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Drops every queued item (a waiting consumer keeps waiting). */
  clear(): void {
    this.items = [];
    this.first = 0;
  }

  /** No more items: the queued ones are still taken, then `take` answers undefined. */
  end(): void {
    this.closed = true;
    if (this.length > 0) return;
    const consumer = this.waiting;
    this.waiting = undefined;
    consumer?.(undefined);
  }

  /** Drops every item for good; a waiting consumer, and every later `take`, gets undefined. */
  close(): void {
    this.closed = true;
    this.clear();
    const consumer = this.waiting;
    this.waiting = undefined;
    consumer?.(undefined);
  }
}
