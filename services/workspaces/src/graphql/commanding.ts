import type { CommandContext, CommandResult } from '../app/commands.js';
import type { WorkspacesContext } from './context.js';

export const IdempotencyKey = { nullable: true, defaultValue: null, description: 'Retrying with the same key returns the first result and records nothing new.' } as const;

/** Who sends the command, as the command side wants it. */
export function commandContext(context: WorkspacesContext, idempotencyKey: string | null | undefined): CommandContext {
  return { userId: context.caller.userId, correlationId: context.correlationId, ...(idempotencyKey ? { idempotencyKey } : {}) };
}

/**
 * What every mutation answers, once the read models reflect the change
 * (read-your-writes, bounded by the server's wait): the caller's next
 * query, and the payload's own fields, see it.
 */
export async function answer(context: WorkspacesContext, result: CommandResult): Promise<{ version: number; changed: boolean; replayed: boolean; position: string; consistent: boolean }> {
  const consistent = await context.consistency.waitFor(result.position);
  return { version: result.version, changed: result.changed, replayed: result.replayed, position: (result.position ?? 0n).toString(), consistent };
}
