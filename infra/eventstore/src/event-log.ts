import { EventMetadata, type EventRegistry } from '@canopy/schema';
import type { AppendResult, EventStore, ExpectedRevision, JsonObject, JsonValue, ReadStreamOptions, RecordedEvent } from './event-store.js';

/** A domain event as a command handler produces it: a type with a contract in schema/, and its payload. */
export interface DomainEvent {
  type: string;
  data: unknown;
  /** Set it to make a retried append idempotent; generated otherwise. */
  id?: string;
}

/** Who and why, stamped into the metadata of every event of an append. */
export interface AppendContext {
  actor?: string;
  correlationId?: string;
  causationId?: string;
  idempotencyKey?: string;
  commandHash?: string;
}

export interface ReadDomainEvent extends RecordedEvent {
  /** The payload lifted to the contract's current version. */
  data: JsonValue;
  metadata: EventMetadata & JsonObject;
}

/**
 * The log as the domain uses it: every payload is validated against its
 * contract before anything is appended (an invalid event is never written),
 * metadata carries the schema version and the audit fields, and reads
 * upcast old payloads to the current version.
 */
export class EventLog {
  constructor(
    readonly store: EventStore,
    private readonly registry: EventRegistry,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Appends, and answers with the metadata stamped on each event (what a reader of the log will see). */
  async append(
    stream: string,
    events: readonly DomainEvent[],
    options: { expectedRevision?: ExpectedRevision; context?: AppendContext } = {},
  ): Promise<AppendResult & { metadata: (EventMetadata & JsonObject)[] }> {
    const occurredAt = this.now().toISOString();
    const context = dropUndefined({ ...options.context });
    const prepared = events.map((event) => {
      const { version, payload } = this.registry.validate(event.type, event.data);
      const metadata: JsonObject = { schemaVersion: version, occurredAt, ...context };
      return { ...(event.id ? { id: event.id } : {}), type: event.type, data: payload as JsonValue, metadata };
    });
    const result = await this.store.append(stream, prepared, { expectedRevision: options.expectedRevision });
    return { ...result, metadata: prepared.map((event) => event.metadata as EventMetadata & JsonObject) };
  }

  async *readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<ReadDomainEvent> {
    for await (const event of this.store.readStream(stream, options)) yield this.upcast(event);
  }

  /** Lifts a recorded event of any known version to the current contract. */
  upcast(event: RecordedEvent): ReadDomainEvent {
    const metadata = LooseEventMetadata.parse(event.metadata) as EventMetadata & JsonObject;
    const data = this.registry.upcast(event.type, metadata.schemaVersion, event.data) as JsonValue;
    return { ...event, data, metadata };
  }
}

/** Built once: zod compiles a schema on first use, so a schema made per call is compiled per call. */
const LooseEventMetadata = EventMetadata.loose();

function dropUndefined(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
