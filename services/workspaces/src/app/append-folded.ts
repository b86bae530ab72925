import type { AppendResult, DomainEvent, EventLog, ReadDomainEvent } from '@canopy/eventstore';
import type { CommandContext } from './commands.js';
import { commandEventId, type Idempotency } from './streams.js';

/** An in-memory fold of streams that a command side decides on (the workspaces directory, the backups directory). */
export interface FoldedStreams {
  /** The last revision folded of `stream`; undefined when none. */
  revisionOf(stream: string): bigint | undefined;
  apply(event: ReadDomainEvent): void;
  catchUp(log: EventLog, stream: string): Promise<void>;
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
