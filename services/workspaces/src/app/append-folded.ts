import type { AppendResult, DomainEvent, EventLog, ReadDomainEvent } from '@canopy/eventstore';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { CommandContext, CommandResult } from './commands.js';
import { commandEventId, versionOf, type Idempotency } from './streams.js';

/** An in-memory fold of streams that a command side decides on (the workspaces directory, the backups directory). */
export interface FoldedStreams {
  /** The last revision folded of `stream`; undefined when none. */
  revisionOf(stream: string): bigint | undefined;
  apply(event: ReadDomainEvent): void;
  catchUp(log: EventLog, stream: string): Promise<void>;
  /** An event written under an idempotency key, by its (derived) id. */
  idempotentEvent(eventId: string): { revision: bigint; commandHash: string | undefined } | undefined;
  /** The log position everything folded reflects. */
  readonly position: bigint | undefined;
}

/**
 * Appends a command's events with deterministic ids under an idempotency
 * key, then folds them right away (read-your-writes): from the append's
 * answer when the fold stood at the expected revision, else by catching the
 * stream up from the log.
 */
export async function appendFolded(
  log: EventLog,
  folded: FoldedStreams,
  append: {
    stream: string;
    events: readonly { type: string; data: unknown }[];
    expectedRevision: bigint | 'no_stream';
    context: CommandContext;
    idempotency: Idempotency;
    hash: string | undefined;
  },
): Promise<AppendResult> {
  const { stream, events, expectedRevision, context, idempotency, hash } = append;
  const domainEvents: DomainEvent[] = events.map((event, index) => {
    const id = commandEventId(idempotency, stream, index);
    return { type: event.type, data: event.data, ...(id ? { id } : {}) };
  });
  const appendContext = {
    actor: context.userId,
    correlationId: context.correlationId,
    ...(idempotency.key === undefined ? {} : { idempotencyKey: idempotency.key, commandHash: hash }),
  };
  const result = await log.append(stream, domainEvents, { expectedRevision, context: appendContext });
  const revision = folded.revisionOf(stream);
  // The log's live subscription usually delivered the append already.
  if (revision !== undefined && revision >= result.nextExpectedRevision) return result;
  if (revision === (expectedRevision === 'no_stream' ? undefined : expectedRevision)) {
    const first = result.nextExpectedRevision - BigInt(events.length) + 1n;
    domainEvents.forEach((event, index) => {
      folded.apply({
        id: event.id ?? `local-${stream}-${first + BigInt(index)}`,
        stream,
        type: event.type,
        revision: first + BigInt(index),
        position: result.position,
        data: event.data as ReadDomainEvent['data'],
        metadata: result.metadata[index]!,
        createdAt: new Date(result.metadata[index]!.occurredAt),
      });
    });
  } else {
    await folded.catchUp(log, stream);
  }
  return result;
}

/**
 * The first result of a command already written to `stream` under this
 * idempotency key, or undefined; IDEMPOTENCY_KEY_REUSED when the key was
 * used for a different command.
 */
export function replayedResult(folded: FoldedStreams, idempotency: Idempotency, stream: string, hash: string | undefined): CommandResult | undefined {
  const firstId = commandEventId(idempotency, stream, 0);
  if (!firstId) return undefined;
  const first = folded.idempotentEvent(firstId);
  if (!first) return undefined;
  if (first.commandHash !== hash) {
    throw new CanopyError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This idempotency key was already used for a different command; use a new key for a new command.', {
      field: 'idempotencyKey',
    });
  }
  let last = first;
  for (let index = 1; ; index++) {
    const next = folded.idempotentEvent(commandEventId(idempotency, stream, index)!);
    if (!next) break;
    last = next;
  }
  return { version: versionOf(last.revision), changed: true, replayed: true, position: folded.position };
}
