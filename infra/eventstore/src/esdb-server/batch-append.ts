/**
 * Streams.BatchAppend: one long-lived bidirectional stream carrying many
 * appends, each split into chunks under a correlation id (options on the
 * first chunk, `is_final` on the last) and answered by one response with the
 * same correlation id: success or a `google.rpc.Status` error.
 */
import type { handleBidiStreamingCall } from '@grpc/grpc-js';
import type { ExpectedRevision } from '../event-store.js';
import { performAppend, type AppendOutcome } from './append-core.js';
import type { ServerContext } from './context.js';
import { proposedSize, readProposedMessage, type ProposedEvent } from './convert.js';
import {
  badRequestStatus,
  DUPLICATE_EVENT_ID_MESSAGE,
  maxAppendSizeExceededStatus,
  unavailableError,
  unknownStatus,
  wrongExpectedVersionStatus,
} from './errors.js';
import { AllStreamPosition, BatchAppendReq, BatchAppendResp, Code, GoogleEmpty, streamIdentifier, streamName, uuidToString, type Status, type UUID } from './protocol.js';

interface PendingAppend {
  stream: string;
  expected: ExpectedRevision;
  events: ProposedEvent[];
  size: number;
}

function expectedRevision(options: BatchAppendReq.Options): ExpectedRevision | undefined {
  const Case = BatchAppendReq.Options.ExpectedStreamPositionCase;
  switch (options.getExpectedStreamPositionCase()) {
    case Case.ANY:
      return 'any';
    case Case.NO_STREAM:
      return 'no_stream';
    case Case.STREAM_EXISTS:
      return 'stream_exists';
    case Case.STREAM_POSITION:
      return BigInt(options.getStreamPosition());
    default:
      return undefined;
  }
}

function successMessage(outcome: Extract<AppendOutcome, { kind: 'success' }>): BatchAppendResp.Success {
  const success = new BatchAppendResp.Success();
  if (outcome.revision === undefined) success.setNoStream(new GoogleEmpty());
  else success.setCurrentRevision(outcome.revision.toString(10));
  if (outcome.position === undefined) {
    success.setNoPosition(new GoogleEmpty());
  } else {
    const position = new AllStreamPosition();
    position.setCommitPosition(outcome.position.toString(10));
    position.setPreparePosition(outcome.position.toString(10));
    success.setPosition(position);
  }
  return success;
}

function errorStatus(outcome: Exclude<AppendOutcome, { kind: 'success' }>): Status {
  switch (outcome.kind) {
    case 'wrong-expected-version':
      return wrongExpectedVersionStatus(outcome.expected, outcome.actual);
    case 'too-large':
      return maxAppendSizeExceededStatus(outcome.maxAppendSize);
    case 'bad-request':
      return badRequestStatus(outcome.message);
    case 'duplicate-event-id':
      return badRequestStatus(`${DUPLICATE_EVENT_ID_MESSAGE}: ${outcome.message}`, Code.ALREADY_EXISTS);
    case 'failed':
      return unknownStatus(outcome.message);
  }
}

function response(correlationId: UUID | undefined, stream: string, outcome: AppendOutcome): BatchAppendResp {
  const message = new BatchAppendResp();
  message.setCorrelationId(correlationId);
  message.setStreamIdentifier(streamIdentifier(stream));
  if (outcome.kind === 'success') message.setSuccess(successMessage(outcome));
  else message.setError(errorStatus(outcome));
  return message;
}

export function batchAppendHandler(context: ServerContext): handleBidiStreamingCall<BatchAppendReq, BatchAppendResp> {
  return (call) => {
    const pending = new Map<string, PendingAppend>();
    const inFlight = new Set<Promise<void>>();
    let open = true;

    const send = (message: BatchAppendResp): void => {
      if (open && !call.cancelled) call.write(message);
    };

    call.on('data', (request: BatchAppendReq) => {
      const correlationId = request.getCorrelationId();
      const key = uuidToString(correlationId) ?? '';
      const options = request.getOptions();
      if (options) {
        const stream = streamName(options.getStreamIdentifier());
        const expected = expectedRevision(options);
        if (expected === undefined) {
          send(response(correlationId, stream, { kind: 'bad-request', message: 'Options must carry an expected stream position.', missingMetadata: false }));
          return;
        }
        if (!pending.has(key)) pending.set(key, { stream, expected, events: [], size: 0 });
      }
      const append = pending.get(key);
      if (!append) return; // rejected earlier, or never announced: EventStoreDB ignores such chunks too
      for (const message of request.getProposedMessagesList()) {
        const event = readProposedMessage(message);
        append.size += proposedSize(event);
        append.events.push(event);
      }
      if (append.size > context.maxAppendSize) {
        pending.delete(key);
        send(response(correlationId, append.stream, { kind: 'too-large', maxAppendSize: context.maxAppendSize }));
        return;
      }
      if (!request.getIsFinal()) return;
      pending.delete(key);
      const work = performAppend(context.store, append, context.maxAppendSize)
        .catch((error: unknown): AppendOutcome => ({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }))
        .then((outcome) => send(response(correlationId, append.stream, outcome)));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    });

    // The client keeps this stream open for the life of its connection. When the server closes, answer
    // the appends in flight, then end the call with UNAVAILABLE as a dropped connection would: the client
    // never finishes its side of a stream ended with OK, and would wait for it forever when disposed.
    const forget = context.onClose(async () => {
      await Promise.all(inFlight);
      if (open && !call.cancelled) call.emit('error', unavailableError('The server is shutting down.'));
      open = false;
    });
    call.on('close', forget);

    call.on('end', () => {
      void Promise.all(inFlight).then(() => {
        if (open && !call.cancelled) call.end();
        open = false;
      });
    });

    call.on('cancelled', () => {
      open = false;
    });
    call.on('error', () => {
      open = false;
    });
  };
}
