import type { CommandContext, CommandResult } from '@canopy/workspaces';
import type { BackupsContext } from './context.js';
import type { BackupsChange } from './types.js';

export const IdempotencyKey = { nullable: true, defaultValue: null, description: 'Retrying with the same key returns the first result and records nothing new.' } as const;

/** Who sends the command, as the command side wants it. */
export function commandContext(context: BackupsContext, idempotencyKey: string | null | undefined): CommandContext {
  return { userId: context.caller.userId, correlationId: context.correlationId, ...(idempotencyKey ? { idempotencyKey } : {}) };
}

/** What every mutation answers; the caller's later reads wait until the read models reflect the change (read-your-writes). */
export function answer(context: BackupsContext, id: string, result: CommandResult): BackupsChange {
  context.consistency?.wrote(context.caller.userId, result.position);
  return { id, changed: result.changed, replayed: result.replayed, position: (result.position ?? 0n).toString() };
}
