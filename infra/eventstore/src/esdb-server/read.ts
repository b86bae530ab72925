/**
 * Streams.Read: decodes the request and dispatches on the combinations
 * EventStoreDB accepts (stream or $all; count or subscription; filter only
 * on $all; subscriptions forwards only). Failures end the call with a status.
 */
import type { handleServerStreamingCall, ServerErrorResponse } from '@grpc/grpc-js';
import { isCanopyError } from '@canopy/schema';
import type { Direction } from '../event-store.js';
import type { ServerContext } from './context.js';
import { invalidArgumentError, unavailableError, unknownError } from './errors.js';
import { FilterError, toServerFilter, type ServerFilter } from './filter.js';
import { ReadReq, streamName, type ReadResp } from './protocol.js';
import { readAll, type PositionOption } from './read-all.js';
import { readStream, type RevisionOption } from './read-stream.js';
import { subscribeToAll } from './subscribe-all.js';
import { subscribeToStream } from './subscribe-stream.js';
import { SubscriptionEnded } from './subscription.js';
import { ResponseWriter } from './writer.js';

class InvalidRequest extends Error {}

function revisionOption(options: ReadReq.Options.StreamOptions): RevisionOption {
  const Case = ReadReq.Options.StreamOptions.RevisionOptionCase;
  switch (options.getRevisionOptionCase()) {
    case Case.START:
      return 'start';
    case Case.END:
      return 'end';
    case Case.REVISION:
      return BigInt(options.getRevision());
    default:
      throw new InvalidRequest('Stream options must carry a revision, start or end.');
  }
}

function positionOption(options: ReadReq.Options.AllOptions): PositionOption {
  const Case = ReadReq.Options.AllOptions.AllOptionCase;
  switch (options.getAllOptionCase()) {
    case Case.START:
      return 'start';
    case Case.END:
      return 'end';
    case Case.POSITION: {
      // Both positions are the store's position here; the commit position is authoritative.
      return BigInt(options.getPosition()!.getCommitPosition());
    }
    default:
      throw new InvalidRequest('$all options must carry a position, start or end.');
  }
}

function filterOption(options: ReadReq.Options): ServerFilter | undefined {
  if (options.getFilterOptionCase() !== ReadReq.Options.FilterOptionCase.FILTER) return undefined;
  try {
    return toServerFilter(options.getFilter()!);
  } catch (error) {
    if (error instanceof FilterError) throw new InvalidRequest(error.message);
    throw error;
  }
}

async function serve(context: ServerContext, writer: ResponseWriter<ReadResp>, request: ReadReq): Promise<void> {
  const options = request.getOptions();
  if (!options) throw new InvalidRequest('A read needs options.');
  const uuidOption = options.getUuidOption();
  if (!uuidOption) throw new InvalidRequest('`uuid_option` is a required argument.');
  const structuredUuids = uuidOption.getContentCase() === ReadReq.Options.UUIDOption.ContentCase.STRUCTURED;
  const direction: Direction = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS ? 'backwards' : 'forwards';
  const subscription = options.getCountOptionCase() === ReadReq.Options.CountOptionCase.SUBSCRIPTION;
  if (!subscription && options.getCountOptionCase() !== ReadReq.Options.CountOptionCase.COUNT) {
    throw new InvalidRequest('A read needs a count or the subscription option.');
  }
  const filter = filterOption(options);

  switch (options.getStreamOptionCase()) {
    case ReadReq.Options.StreamOptionCase.STREAM: {
      const streamOptions = options.getStream()!;
      const stream = streamName(streamOptions.getStreamIdentifier());
      const from = revisionOption(streamOptions);
      if (filter) throw new InvalidRequest('Filters apply to $all only.');
      if (subscription) {
        if (direction !== 'forwards') throw new InvalidRequest('Subscriptions read forwards only.');
        await subscribeToStream(context, writer, { stream, from, structuredUuids });
      } else {
        await readStream(context.store, writer, { stream, from, direction, maxCount: BigInt(options.getCount()), structuredUuids });
      }
      return;
    }
    case ReadReq.Options.StreamOptionCase.ALL: {
      const from = positionOption(options.getAll()!);
      if (subscription) {
        if (direction !== 'forwards') throw new InvalidRequest('Subscriptions read forwards only.');
        await subscribeToAll(context, writer, { from, filter, structuredUuids });
      } else {
        await readAll(context.store, writer, { from, direction, maxCount: BigInt(options.getCount()), filter, structuredUuids });
      }
      return;
    }
    default:
      throw new InvalidRequest('A read needs a stream or $all.');
  }
}

function toStatus(error: unknown): ServerErrorResponse {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InvalidRequest) return invalidArgumentError(message);
  if (isCanopyError(error, 'BAD_USER_INPUT')) return invalidArgumentError(message);
  if (error instanceof SubscriptionEnded) return unavailableError(message);
  if (isCanopyError(error, 'EVENT_STORE_UNAVAILABLE') || isCanopyError(error, 'SUBSCRIPTION_DROPPED')) return unavailableError(message);
  return unknownError(message);
}

export function readHandler(context: ServerContext): handleServerStreamingCall<ReadReq, ReadResp> {
  return (call) => {
    const writer = new ResponseWriter<ReadResp>(call);
    serve(context, writer, call.request).then(
      () => writer.end(),
      (error: unknown) => writer.fail(toStatus(error)),
    );
  };
}
