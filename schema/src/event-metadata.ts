import { z } from 'zod';

/**
 * Metadata every domain event carries next to its payload. `schemaVersion`
 * is the version of the payload's contract when it was written; the rest
 * answers the auditor's who / when / why.
 */
export const EventMetadata = z.object({
  schemaVersion: z.number().int().positive(),
  occurredAt: z.string().datetime({ offset: true }),
  actor: z.string().min(1).optional(),
  correlationId: z.string().min(1).optional(),
  causationId: z.string().min(1).optional(),
  /** The client's idempotency key of the command that wrote the event, and a hash of that command. */
  idempotencyKey: z.string().min(1).max(256).optional(),
  commandHash: z.string().min(1).max(128).optional(),
});

export type EventMetadata = z.infer<typeof EventMetadata>;
