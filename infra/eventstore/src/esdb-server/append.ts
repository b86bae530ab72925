/**
 * Streams.Append: a client stream of one options message then proposed
 * messages, answered once with success or wrong-expected-version (other
 * failures are gRPC statuses carrying EventStoreDB's `exception` metadata).
 */
import type { handleClientStreamingCall, ServerErrorResponse } from '@grpc/grpc-js';
import type { ExpectedRevision } from '../event-store.js';
import { performAppend, type AppendOutcome } from './append-core.js';
import type { ServerContext } from './context.js';
import { proposedSize, readProposedMessage, type ProposedEvent } from './convert.js';
import {
  duplicateEventIdError,
  invalidArgumentError,
  maxAppendSizeExceededError,
  requiredMetadataMissingError,
  unavailableError,
} from './errors.js';
import { AppendReq, AppendResp, Empty, streamName } from './protocol.js';

function expectedRevision(options: AppendReq.Options): ExpectedRevision | undefined {
  const Case = AppendReq.Options.ExpectedStreamRevisionCase;
  switch (options.getExpectedStreamRevisionCase()) {
    case Case.ANY:
      return 'any';
    case Case.NO_STREAM:
      return 'no_stream';
    case Case.STREAM_EXISTS:
      return 'stream_exists';
    case Case.REVISION:
      return BigInt(options.getRevision());
    default:
      return undefined;
  }
}

function successResponse(outcome: Extract<AppendOutcome, { kind: 'success' }>): AppendResp {
  const success = new AppendResp.Success();
  if (outcome.revision === undefined) success.setNoStream(new Empty());
  else success.setCurrentRevision(outcome.revision.toString(10));
  if (outcome.position === undefined) {
    success.setNoPosition(new Empty());
  } else {
    const position = new AppendResp.Position();
    position.setCommitPosition(outcome.position.toString(10));
    position.setPreparePosition(outcome.position.toString(10));
    success.setPosition(position);
  }
  const response = new AppendResp();
  response.setSuccess(success);
  return response;
}

function wrongExpectedVersionResponse(outcome: Extract<AppendOutcome, { kind: 'wrong-expected-version' }>): AppendResp {
  const wrong = new AppendResp.WrongExpectedVersion();
  const { expected, actual } = outcome;
  if (actual === 'no_stream') {
    wrong.setCurrentNoStream(new Empty());
    wrong.setNoStream2060(new Empty());
  } else {
    wrong.setCurrentRevision(actual.toString(10));
    if (actual <= BigInt(Number.MAX_SAFE_INTEGER)) wrong.setCurrentRevision2060(Number(actual));
  }
  if (expected === 'any') {
    wrong.setExpectedAny(new Empty());
    wrong.setAny2060(new Empty());
  } else if (expected === 'stream_exists') {
    wrong.setExpectedStreamExists(new Empty());
    wrong.setStreamExists2060(new Empty());
  } else if (expected === 'no_stream') {
    wrong.setExpectedNoStream(new Empty());
  } else {
    wrong.setExpectedRevision(expected.toString(10));
    if (expected <= BigInt(Number.MAX_SAFE_INTEGER)) wrong.setExpectedRevision2060(Number(expected));
  }
  const response = new AppendResp();
  response.setWrongExpectedVersion(wrong);
  return response;
}

function reply(outcome: AppendOutcome): { error: ServerErrorResponse } | { response: AppendResp } {
  switch (outcome.kind) {
    case 'success':
      return { response: successResponse(outcome) };
    case 'wrong-expected-version':
      return { response: wrongExpectedVersionResponse(outcome) };
    case 'too-large':
      return { error: maxAppendSizeExceededError(outcome.maxAppendSize) };
    case 'bad-request':
      return { error: outcome.missingMetadata ? requiredMetadataMissingError(outcome.message) : invalidArgumentError(outcome.message) };
    case 'duplicate-event-id':
      return { error: duplicateEventIdError(outcome.message) };
    case 'failed':
      return { error: unavailableError(outcome.message) };
  }
}

export function appendHandler(context: ServerContext): handleClientStreamingCall<AppendReq, AppendResp> {
  return (call, callback) => {
    let stream: string | undefined;
    let expected: ExpectedRevision | undefined;
    const events: ProposedEvent[] = [];
    let size = 0;
    let answered = false;

    const answer = (result: { error: ServerErrorResponse } | { response: AppendResp }): void => {
      if (answered) return;
      answered = true;
      if ('error' in result) callback(result.error, null);
      else callback(null, result.response);
    };

    call.on('data', (request: AppendReq) => {
      if (answered) return;
      if (stream === undefined) {
        const options = request.getOptions();
        expected = options ? expectedRevision(options) : undefined;
        if (!options || expected === undefined) {
          answer({ error: invalidArgumentError('The first append message must carry options with an expected stream revision.') });
          return;
        }
        stream = streamName(options.getStreamIdentifier());
        return;
      }
      const message = request.getProposedMessage();
      if (!message) {
        answer({ error: invalidArgumentError('Every append message after the first must be a proposed message.') });
        return;
      }
      const event = readProposedMessage(message);
      size += proposedSize(event);
      if (size > context.maxAppendSize) {
        answer({ error: maxAppendSizeExceededError(context.maxAppendSize) });
        return;
      }
      events.push(event);
    });

    call.on('end', () => {
      if (answered) return;
      if (stream === undefined || expected === undefined) {
        answer({ error: invalidArgumentError('An append needs an options message.') });
        return;
      }
      performAppend(context.store, { stream, expected, events }, context.maxAppendSize).then(
        (outcome) => answer(reply(outcome)),
        (error: unknown) => answer({ error: unavailableError(error instanceof Error ? error.message : String(error)) }),
      );
    });

    call.on('error', () => {
      answered = true;
    });
  };
}
