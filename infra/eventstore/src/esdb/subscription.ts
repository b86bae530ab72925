/**
 * A port Subscription over the client's $all subscription. The client emits
 * `caughtUp` and calls `checkpointReached` as the messages arrive, while
 * events may still sit in its readable buffer; each such marker is therefore
 * delivered only after the events that were pushed before it, keeping the
 * port's single ordered sequence of events, checkpoints and caught-up.
 */
import { START, type AllStreamResolvedEvent, type AllStreamSubscription, type EventStoreDBClient, type ReadPosition } from '@eventstore/db-client';
import type { CanopyError } from '@canopy/schema';
import type { Position, SubscribeOptions, Subscription, SubscriptionMessage } from '../event-store.js';
import { toRecordedEvent } from './convert.js';
import { subscriptionDropped } from './errors.js';
import { planFilter, type FilterPlan } from './filters.js';

type Item = { kind: 'message'; message: SubscriptionMessage } | { kind: 'end' } | { kind: 'error'; error: CanopyError };

/** Queued messages above which the client subscription is paused until the consumer catches up. */
const HIGH_WATER_MARK = 256;

function maxPosition(a: Position | undefined, b: Position): Position {
  return a === undefined || b > a ? b : a;
}

export class EsdbSubscription implements Subscription {
  readonly #plan: FilterPlan;
  readonly #items: Item[] = [];
  readonly #markers: Array<{ at: number; make: () => SubscriptionMessage | undefined }> = [];
  readonly #onClosed: () => void;
  #source: AllStreamSubscription | undefined;
  #wake: (() => void) | undefined;
  #delivered = 0;
  #lastPosition: Position | undefined;
  #caughtUp = false;
  #closed = false;
  #done = false;

  constructor(
    client: EventStoreDBClient,
    options: SubscribeOptions,
    headPosition: () => Promise<Position | undefined>,
    onClosed: () => void,
  ) {
    this.#plan = planFilter(options.filter);
    this.#onClosed = onClosed;
    this.#start(client, options.after, headPosition).catch((error: unknown) => this.#fail(subscriptionDropped(error)));
  }

  async #start(client: EventStoreDBClient, after: SubscribeOptions['after'], headPosition: () => Promise<Position | undefined>): Promise<void> {
    // 'end' starts after the current head, so "from now on" has a definite position to report as caught up.
    const from = after === 'end' ? await headPosition() : after;
    if (this.#closed) return;
    let fromPosition: ReadPosition = START;
    if (from !== undefined) {
      fromPosition = { commit: from, prepare: from };
      this.#lastPosition = from;
    }
    const source = client.subscribeToAll({
      fromPosition,
      filter: {
        ...this.#plan.server,
        checkpointReached: (_subscription, position) =>
          this.#mark(() => {
            this.#lastPosition = maxPosition(this.#lastPosition, position.commit);
            return { kind: 'checkpoint', position: position.commit };
          }),
      },
    });
    this.#source = source;
    source.on('data', (resolved: AllStreamResolvedEvent) => this.#onData(resolved));
    source.on('caughtUp', () =>
      this.#mark(() => {
        if (this.#caughtUp) return undefined;
        this.#caughtUp = true;
        return { kind: 'caught-up', position: this.#lastPosition };
      }),
    );
    source.on('error', (error: Error) => this.#fail(subscriptionDropped(error)));
    source.on('close', () => this.#fail(subscriptionDropped(new Error('the server ended the subscription'))));
  }

  #onData(resolved: AllStreamResolvedEvent): void {
    this.#delivered += 1;
    try {
      const event = toRecordedEvent(resolved);
      if (event) {
        this.#lastPosition = maxPosition(this.#lastPosition, event.position);
        if (this.#plan.accepts(event)) this.#push({ kind: 'message', message: { kind: 'event', event } });
        else this.#checkpoint(event.position);
      }
    } catch (error) {
      this.#fail(subscriptionDropped(error));
      return;
    }
    this.#flushMarkers();
    if (this.#items.length >= HIGH_WATER_MARK) this.#source?.pause();
  }

  /**
   * A checkpoint past an event the server sent but the port's filter drops
   * here; a run of them while the consumer is busy collapses into one.
   */
  #checkpoint(position: Position): void {
    const last = this.#items.at(-1);
    if (last?.kind === 'message' && last.message.kind === 'checkpoint') last.message.position = position;
    else this.#push({ kind: 'message', message: { kind: 'checkpoint', position } });
  }

  /** Queues a message to be made once every event pushed so far has been delivered. */
  #mark(make: () => SubscriptionMessage | undefined): void {
    this.#markers.push({ at: this.#delivered + (this.#source?.readableLength ?? 0), make });
    this.#flushMarkers();
  }

  #flushMarkers(): void {
    while (this.#markers.length > 0 && this.#markers[0]!.at <= this.#delivered) {
      const message = this.#markers.shift()!.make();
      if (message) this.#push({ kind: 'message', message });
    }
  }

  #push(item: Item): void {
    if (this.#done) return;
    if (item.kind !== 'message') this.#done = true;
    this.#items.push(item);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(error: CanopyError): void {
    if (this.#closed || this.#done) return;
    this.#push({ kind: 'error', error });
    void this.#stop();
  }

  async #stop(): Promise<void> {
    const source = this.#source;
    this.#source = undefined;
    this.#onClosed();
    if (source) {
      source.removeAllListeners('close');
      source.on('error', () => undefined);
      await source.unsubscribe();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    try {
      for (;;) {
        const item = this.#items.shift();
        if (!item) {
          if (this.#closed) return;
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        if (this.#items.length < HIGH_WATER_MARK / 2 && this.#source?.isPaused()) this.#source.resume();
        if (item.kind === 'end') return;
        if (item.kind === 'error') throw item.error;
        yield item.message;
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#items.length = 0;
    this.#push({ kind: 'end' });
    await this.#stop();
  }
}
