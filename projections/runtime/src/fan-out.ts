/**
 * Items produced once and taken by several consumers, each at its own pace
 * and in order. The producer waits while the slowest consumer still going
 * is `ahead` items behind, so memory stays bounded and a fast consumer is
 * never held back by a slow one until then.
 */
export class FanOut<T> {
  private items: T[] = [];
  /** The index of `items[0]` in the whole sequence. */
  private offset = 0;
  /** Per consumer still going, the index of the next item it takes. */
  private readonly cursors: Map<number, number>;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private waiting: (() => void)[] = [];

  constructor(
    consumers: number,
    private readonly ahead: number,
  ) {
    this.cursors = new Map(Array.from({ length: consumers }, (_, consumer) => [consumer, 0]));
  }

  /** Adds an item once the slowest consumer is less than `ahead` behind; false once closed or when no consumer is left. */
  async push(item: T): Promise<boolean> {
    while (!this.ended && this.cursors.size > 0 && this.offset + this.items.length - this.slowest() >= this.ahead) await this.wait();
    if (this.ended || this.cursors.size === 0) return false;
    this.items.push(item);
    this.wake();
    return true;
  }

  /** No more items: consumers get undefined after the last one, or `error` thrown. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
  }

  /** The consumer's next item; undefined at the end (or after it left). */
  async take(consumer: number): Promise<T | undefined> {
    for (;;) {
      const cursor = this.cursors.get(consumer);
      if (cursor === undefined) return undefined;
      if (cursor < this.offset + this.items.length) {
        const item = this.items[cursor - this.offset]!;
        this.cursors.set(consumer, cursor + 1);
        this.release();
        return item;
      }
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return undefined;
      }
      await this.wait();
    }
  }

  /** The consumer takes nothing more; the producer no longer waits for it. */
  leave(consumer: number): void {
    this.cursors.delete(consumer);
    this.release();
  }

  private slowest(): number {
    return Math.min(...this.cursors.values());
  }

  /** Drops the items every consumer has taken and wakes a waiting producer. */
  private release(): void {
    const drop = (this.cursors.size === 0 ? this.offset + this.items.length : this.slowest()) - this.offset;
    if (drop > 0) {
      this.items = this.items.slice(drop);
      this.offset += drop;
    }
    this.wake();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
