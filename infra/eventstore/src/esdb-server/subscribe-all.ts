/**
 * Streams.Read of $all with the subscription option: catch-up then live,
 * after a position (exclusive), from the start or from the end; with a
 * filter, checkpoints every `checkpointInterval` considered events and one
 * when catch-up ends, just before `caught_up`.
 */
import type { Position, SubscribeOptions, SubscriptionMessage } from '../event-store.js';
import type { ServerContext } from './context.js';
import { caughtUpResponse, checkpointResponse, eventResponse } from './convert.js';
import type { ServerFilter } from './filter.js';
import type { ReadResp } from './protocol.js';
import type { PositionOption } from './read-all.js';
import { relaySubscription } from './subscription.js';
import type { ResponseWriter } from './writer.js';

export interface SubscribeToAllRequest {
  from: PositionOption;
  filter: ServerFilter | undefined;
  structuredUuids: boolean;
}

function maxPosition(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

export async function subscribeToAll(context: ServerContext, writer: ResponseWriter<ReadResp>, request: SubscribeToAllRequest): Promise<void> {
  const { filter, structuredUuids } = request;
  const options: SubscribeOptions = {};
  if (request.from !== 'start') options.after = request.from;
  const subscription = context.store.subscribeToAll(options);

  let live = false;
  let consideredSinceCheckpoint = 0;
  let consideredDuringCatchUp = false;
  let lastConsidered: Position | undefined;
  let lastCheckpoint: Position | undefined;

  const checkpoint = (position: Position): ReadResp[] => {
    if (lastCheckpoint !== undefined && position <= lastCheckpoint) return [];
    lastCheckpoint = position;
    consideredSinceCheckpoint = 0;
    return [checkpointResponse(position)];
  };

  const relay = (message: SubscriptionMessage): ReadResp[] => {
    switch (message.kind) {
      case 'event': {
        const { event } = message;
        if (!filter) return [eventResponse(event, structuredUuids)];
        const responses = filter.matches(event) ? [eventResponse(event, structuredUuids)] : [];
        lastConsidered = event.position;
        consideredSinceCheckpoint += 1;
        if (!live) consideredDuringCatchUp = true;
        if (consideredSinceCheckpoint >= filter.checkpointInterval) responses.push(...checkpoint(event.position));
        return responses;
      }
      case 'caught-up': {
        if (live) return [];
        live = true;
        const responses: ReadResp[] = [];
        const position = maxPosition(lastConsidered, message.position);
        if (filter && consideredDuringCatchUp && position !== undefined) responses.push(...checkpoint(position));
        responses.push(caughtUpResponse());
        return responses;
      }
      case 'checkpoint':
        // The store subscription is unfiltered here; its checkpoints add nothing.
        return [];
    }
  };

  await relaySubscription(context, writer, subscription, relay);
}
