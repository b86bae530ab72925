/**
 * Streams.Read of one stream with the subscription option: catch-up then
 * live, after a revision (exclusive), from the start or from the end. Built
 * on the store's $all subscription, started just before the stream's first
 * wanted event so catch-up does not scan the whole log.
 */
import type { EventStore, Position, SubscribeOptions, SubscriptionMessage } from '../event-store.js';
import { isSystemStream } from './append-core.js';
import type { ServerContext } from './context.js';
import { caughtUpResponse, eventResponse } from './convert.js';
import type { ReadResp } from './protocol.js';
import type { RevisionOption } from './read-stream.js';
import { relaySubscription } from './subscription.js';
import type { ResponseWriter } from './writer.js';

export interface SubscribeToStreamRequest {
  stream: string;
  from: RevisionOption;
  structuredUuids: boolean;
}

async function first<T>(items: AsyncIterable<T>): Promise<T | undefined> {
  for await (const item of items) return item;
  return undefined;
}

/**
 * Where the $all subscription starts: after the position of the first wanted
 * event minus one, or after the stream's last event, or (no stream yet) after
 * the head read before looking at the stream, so nothing appended meanwhile is missed.
 */
async function startAfter(store: EventStore, stream: string, from: Exclude<RevisionOption, 'end'>): Promise<Position | undefined> {
  const head = await store.headPosition();
  const firstWanted = await first(store.readStream(stream, { fromRevision: from === 'start' ? 0n : from, maxCount: 1 }));
  if (firstWanted) {
    if (from !== 'start') return firstWanted.position;
    return firstWanted.position > 0n ? firstWanted.position - 1n : undefined;
  }
  const last = await first(store.readStream(stream, { direction: 'backwards', maxCount: 1 }));
  return last ? last.position : head;
}

export async function subscribeToStream(context: ServerContext, writer: ResponseWriter<ReadResp>, request: SubscribeToStreamRequest): Promise<void> {
  const { stream, from, structuredUuids } = request;
  const options: SubscribeOptions = {};
  if (isSystemStream(stream)) {
    // Cannot exist in the store: wait, like EventStoreDB does for a stream that does not exist yet.
    options.after = 'end';
  } else {
    if (from === 'end') options.after = 'end';
    else {
      const after = await startAfter(context.store, stream, from);
      if (after !== undefined) options.after = after;
    }
    options.filter = { streamPrefixes: [stream] };
  }
  if (writer.closed) return;
  const subscription = context.store.subscribeToAll(options);

  let live = false;
  const relay = (message: SubscriptionMessage): ReadResp[] => {
    switch (message.kind) {
      case 'event': {
        const { event } = message;
        if (event.stream !== stream) return [];
        if (typeof from === 'bigint' && event.revision <= from) return [];
        return [eventResponse(event, structuredUuids)];
      }
      case 'caught-up':
        if (live) return [];
        live = true;
        return [caughtUpResponse()];
      case 'checkpoint':
        return [];
    }
  };

  await relaySubscription(context, writer, subscription, relay);
}
