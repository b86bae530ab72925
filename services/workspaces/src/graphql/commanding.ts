import type { CommandContext, CommandResult } from '../app/commands.js';
import type { WorkspacesContext } from './context.js';

export const IdempotencyKey = { nullable: true, defaultValue: null, description: 'Retrying with the same key returns the first result and records nothing new.' } as const;

/** Who sends the command, as the command side wants it. */
export function commandContext(context: WorkspacesContext, idempotencyKey: string | null | undefined): CommandContext {
  return { userId: context.caller.userId, correlationId: context.correlationId, ...(idempotencyKey ? { idempotencyKey } : {}) };
}

/**
 * What every mutation answers. The caller's reads from now on, the
 * payload's read-model fields included, wait until the read models reflect
 * the change (read-your-writes); `consistent` tells whether they did in time
 * (resolved, and waited for, only when asked).
 */
export function answer(context: WorkspacesContext, result: CommandResult): { version: number; changed: boolean; replayed: boolean; position: string } {
  context.consistency.wrote(context.caller.userId, result.position);
  return { version: result.version, changed: result.changed, replayed: result.replayed, position: (result.position ?? 0n).toString() };
}

/** A change's `consistent` field: waits (bounded) until the read models reflect it. */
export function reflected(context: WorkspacesContext, change: { position: string }): Promise<boolean> {
  return context.consistency.waitFor(BigInt(change.position));
}
