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

/** What a listener follows: streams by exact name, and streams by the start of their name. */
export interface HubInterest {
  streams?: readonly string[];
  /** Each holds its stream category, `name-` (the name up to its first `-`, included): `backup-` or `backup-locations-`. */
  prefixes?: readonly string[];
}

/**
 * One subscription to the log per process, from its head, fanned out by
 * stream to every live subscriber: a thousand subscribers cost one log
 * subscription and, per event, one map lookup and a call per listener of
 * that stream. Listeners by prefix are indexed by the prefix's category, so
 * an event costs one more map lookup while any are registered, and the
 * prefixes of its own category only are compared with its stream. If the
 * log fails, the hub resubscribes from the last event it dispatched, so its
 * listeners see neither a gap nor a duplicate.
 */
export class EventHub {
  private readonly listeners = new Map<string, Set<HubListener>>();
  /** Listeners by prefix, by the prefix's category. */
  private readonly prefixed = new Map<string, Map<string, Set<HubListener>>>();
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

  /**
   * Listens to the events of `streams` (exact names, or an interest: exact
   * names and prefixes); each event once, however many of them its stream
   * matches. Returns the function that stops it (once). A prefix without a
   * `-` is refused: it would have to be compared with every event's stream.
   */
  listen(interest: readonly string[] | HubInterest, listener: HubListener): () => void {
    const streams = isNames(interest) ? interest : (interest.streams ?? []);
    const prefixes = isNames(interest) ? [] : (interest.prefixes ?? []);
    const categories = prefixes.map((prefix) => {
      const category = categoryOf(prefix);
      if (category === undefined) throw new Error(`A stream prefix must hold its category (up to a "-"): "${prefix}".`);
      return category;
    });
    this.registered += 1;
    this.registrations += 1;
    let registered = true;
    for (const stream of streams) add(this.listeners, stream, listener);
    prefixes.forEach((prefix, i) => {
      let byPrefix = this.prefixed.get(categories[i]!);
      if (!byPrefix) this.prefixed.set(categories[i]!, (byPrefix = new Map()));
      add(byPrefix, prefix, listener);
    });
    return () => {
      if (!registered) return;
      registered = false;
      this.registered -= 1;
      for (const stream of streams) remove(this.listeners, stream, listener);
      prefixes.forEach((prefix, i) => {
        const byPrefix = this.prefixed.get(categories[i]!);
        if (!byPrefix) return;
        remove(byPrefix, prefix, listener);
        if (byPrefix.size === 0) this.prefixed.delete(categories[i]!);
      });
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.subscription?.close();
    await this.loop;
    this.listeners.clear();
    this.prefixed.clear();
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
    const listeners = this.listenersOf(recorded.stream);
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

  /** The listeners of a stream: by its name, and by the prefixes of its category that it starts with; each once. */
  private listenersOf(stream: string): ReadonlySet<HubListener> | undefined {
    const exact = this.listeners.get(stream);
    if (this.prefixed.size === 0) return exact;
    const category = categoryOf(stream);
    const byPrefix = category === undefined ? undefined : this.prefixed.get(category);
    if (!byPrefix) return exact;
    let all: Set<HubListener> | undefined;
    for (const [prefix, set] of byPrefix) {
      if (!stream.startsWith(prefix)) continue;
      all ??= new Set(exact);
      for (const listener of set) all.add(listener);
    }
    return all ?? exact;
  }
}

/** A stream's (or a prefix's) category: its name up to its first `-`, included; undefined without one. */
export function categoryOf(name: string): string | undefined {
  const dash = name.indexOf('-');
  return dash < 0 ? undefined : name.slice(0, dash + 1);
}

function isNames(interest: readonly string[] | HubInterest): interest is readonly string[] {
  return Array.isArray(interest);
}

function add<K>(map: Map<K, Set<HubListener>>, key: K, listener: HubListener): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(listener);
}

function remove<K>(map: Map<K, Set<HubListener>>, key: K, listener: HubListener): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(listener);
  if (set.size === 0) map.delete(key);
}
