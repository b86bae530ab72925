/**
 * The queue between a subscription (one producer) and a projector's batches
 * (one consumer). The producer waits while `capacity` items are queued, so a
 * slow projector holds at most one batch ahead in memory.
 */
export class MessageBuffer<T> {
  private items: T[] = [];
  private boundaries = 0;
  private ended = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  /** `isBoundary` marks an item after which a batch need not wait to be full (the end of history). */
  constructor(
    private readonly capacity: number,
    private readonly isBoundary: (item: T) => boolean = () => false,
  ) {}

  /** Queues an item; false once the buffer is closed (the producer should stop). */
  async push(item: T): Promise<boolean> {
    while (!this.closed && this.items.length >= this.capacity) await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    if (this.closed) return false;
    this.items.push(item);
    if (this.isBoundary(item)) this.boundaries++;
    this.wake();
    return true;
  }

  /** No more items will come; `error` is thrown to the consumer once the queued items are taken. */
  end(error?: unknown): void {
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
  }

  /** Stops both sides: a waiting producer gets false, a waiting consumer undefined. */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.items = [];
    this.wake();
  }

  /**
   * Up to `max` items. With `full`, waits for `max` items unless a boundary
   * item or the end is queued; without, takes whatever is queued (at least
   * one). Undefined when closed, or ended with nothing left.
   */
  async take(max: number, full: boolean): Promise<T[] | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const enough = this.items.length >= (full ? max : 1) || (this.items.length > 0 && (this.ended || this.boundaries > 0));
      if (enough) break;
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
    const batch = this.items.splice(0, max);
    for (const item of batch) if (this.isBoundary(item)) this.boundaries--;
    const producer = this.wakeProducer;
    this.wakeProducer = undefined;
    producer?.();
    return batch;
  }

  private wake(): void {
    const consumer = this.wakeConsumer;
    const producer = this.closed ? this.wakeProducer : undefined;
    this.wakeConsumer = undefined;
    if (producer) this.wakeProducer = undefined;
    consumer?.();
    producer?.();
  }
}
