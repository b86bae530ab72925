import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { EventStore, ReadDomainEvent, RecordedEvent, Subscription } from '@canopy/eventstore';

/** Called synchronously, in log order, for each event of a stream it listens to: it must only enqueue. */
export type HubListener = (event: ReadDomainEvent) => void;

export interface HubOptions {
  /** Lifts an event to its current contract, once for all its listeners. */
  upcast(event: RecordedEvent): ReadDomainEvent;
  logger: Logger;
  /** Wait before resubscribing after the log failed; default 1 s. */
  retryMs?: number;
}

/**
 * One subscription to the log per process, from its head, fanned out by
 * stream to every live subscriber: a thousand subscribers cost one log
 * subscription and, per event, one map lookup and a call per listener of
 * that stream. If the log fails, the hub resubscribes from the last event
 * it dispatched, so its listeners see neither a gap nor a duplicate.
 */
export class EventHub {
  private readonly listeners = new Map<string, Set<HubListener>>();
  private registered = 0;
  private registrations = 0;
  private dispatched: bigint | undefined;
  private subscription: Subscription | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: EventStore,
    private readonly options: HubOptions,
  ) {}

  static async start(store: EventStore, options: HubOptions): Promise<EventHub> {
    const hub = new EventHub(store, options);
    hub.dispatched = await store.headPosition();
    hub.loop = hub.run();
    return hub;
  }

  /**
   * The position of the last event dispatched (undefined: none, and the log
   * was empty at start). A listener added now gets every event after it, and
   * none at or before it.
   */
  get position(): bigint | undefined {
    return this.dispatched;
  }

  /** How many listeners are registered. */
  get listening(): number {
    return this.registered;
  }

  /** How many listeners were ever registered. */
  get listened(): number {
    return this.registrations;
  }

  /** Listens to the events of `streams` (exact names); returns the function that stops it (once). */
  listen(streams: readonly string[], listener: HubListener): () => void {
    this.registered += 1;
    this.registrations += 1;
    let registered = true;
    for (const stream of streams) {
      let set = this.listeners.get(stream);
      if (!set) this.listeners.set(stream, (set = new Set()));
      set.add(listener);
    }
    return () => {
      if (!registered) return;
      registered = false;
      this.registered -= 1;
      for (const stream of streams) {
        const set = this.listeners.get(stream);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) this.listeners.delete(stream);
      }
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.subscription?.close();
    await this.loop;
    this.listeners.clear();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const subscription = this.store.subscribeToAll(this.dispatched === undefined ? {} : { after: this.dispatched });
      this.subscription = subscription;
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') this.dispatch(message.event);
        }
        if (this.stopped) return;
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.error({ err: error, position: this.dispatched?.toString() }, 'the subscriptions hub lost the log: resubscribing from its last event');
      }
      await sleep(this.options.retryMs ?? 1000, undefined, { signal: this.abort.signal }).catch(() => {});
    }
  }

  private dispatch(recorded: RecordedEvent): void {
    this.dispatched = recorded.position;
    const listeners = this.listeners.get(recorded.stream);
    if (!listeners) return;
    let event = recorded as ReadDomainEvent;
    try {
      event = this.options.upcast(recorded);
    } catch (error) {
      this.options.logger.error({ err: error, position: recorded.position.toString(), type: recorded.type }, 'an event could not be upcast: delivered as stored');
    }
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger.error({ err: error }, 'a subscription listener failed');
      }
    }
  }
}
